"""Music constants in one home, importable without music21, MidiTok or TensorFlow.

The General MIDI program table, the file suffixes of each kind of score, the defaults of a piece
(tempo, meter), the piece boundary token, and `programs_named`: ``--instruments`` as programs.
Programs follow MidiTok: 0-127 are General MIDI programs, `DRUMS` (-1) is the drum kit (MIDI
channel 10).
"""

from __future__ import annotations

MIDI_SUFFIXES = (".mid", ".midi", ".kar")
# Scores music21 reads and symusic does not: MusicXML, Humdrum, ABC.
NOTATION_SUFFIXES = (".mxl", ".musicxml", ".xml", ".krn", ".abc")
SCORE_SUFFIXES = MIDI_SUFFIXES + NOTATION_SUFFIXES
TOKEN_SUFFIX = ".tokens"
MUSIC21_PREFIX = "music21:"
DEFAULT_SOURCE = "music21:bach"

BOUNDARY = "<piece>"  # between pieces of a corpus: no training window joins two songs unseen
DEFAULT_TEMPO = 120.0  # quarter notes per minute, when a file sets none
TEMPO_RANGE = (20.0, 400.0)  # a playable tempo
DEFAULT_TIME_SIGNATURE = "4/4"
TICKS_PER_QUARTER = 480  # of a Score built here (a primer, a jazz solo): MidiTok's, triplets exact
GRID = 12  # ticks per quarter of the grid notes are compared and drawn on: 16ths, triplets exact
DRUMS = -1  # MidiTok's program of the drum kit
DRUM_CHANNEL = 9  # MIDI channel 10, counted from 0 as symusic and MidiTok count
# A jazz solo's instruments, and the piano that plays its chords (General MIDI programs).
JAZZ_GUITAR, ALTO_SAX, TENOR_SAX, PIANO = 26, 65, 66, 0
SOLO_PROGRAMS = {"guitar": JAZZ_GUITAR, "tenor_sax": TENOR_SAX, "alto_sax": ALTO_SAX}  # by name
DEFAULT_SOLO_INSTRUMENT = "guitar"

GENERAL_MIDI = (
    'Acoustic Grand Piano', 'Bright Acoustic Piano', 'Electric Grand Piano', 'Honky-tonk Piano',
    'Electric Piano 1', 'Electric Piano 2', 'Harpsichord', 'Clavinet', 'Celesta', 'Glockenspiel',
    'Music Box', 'Vibraphone', 'Marimba', 'Xylophone', 'Tubular Bells', 'Dulcimer',
    'Drawbar Organ', 'Percussive Organ', 'Rock Organ', 'Church Organ', 'Reed Organ', 'Accordion',
    'Harmonica', 'Tango Accordion', 'Acoustic Guitar (nylon)', 'Acoustic Guitar (steel)',
    'Electric Guitar (jazz)', 'Electric Guitar (clean)', 'Electric Guitar (muted)',
    'Overdriven Guitar', 'Distortion Guitar', 'Guitar Harmonics', 'Acoustic Bass',
    'Electric Bass (finger)', 'Electric Bass (pick)', 'Fretless Bass', 'Slap Bass 1',
    'Slap Bass 2', 'Synth Bass 1', 'Synth Bass 2', 'Violin', 'Viola', 'Cello', 'Contrabass',
    'Tremolo Strings', 'Pizzicato Strings', 'Orchestral Harp', 'Timpani', 'String Ensemble 1',
    'String Ensemble 2', 'Synth Strings 1', 'Synth Strings 2', 'Choir Aahs', 'Voice Oohs',
    'Synth Voice', 'Orchestra Hit', 'Trumpet', 'Trombone', 'Tuba', 'Muted Trumpet', 'French Horn',
    'Brass Section', 'Synth Brass 1', 'Synth Brass 2', 'Soprano Sax', 'Alto Sax', 'Tenor Sax',
    'Baritone Sax', 'Oboe', 'English Horn', 'Bassoon', 'Clarinet', 'Piccolo', 'Flute', 'Recorder',
    'Pan Flute', 'Blown Bottle', 'Shakuhachi', 'Whistle', 'Ocarina', 'Lead 1 (square)',
    'Lead 2 (sawtooth)', 'Lead 3 (calliope)', 'Lead 4 (chiff)', 'Lead 5 (charang)',
    'Lead 6 (voice)', 'Lead 7 (fifths)', 'Lead 8 (bass + lead)', 'Pad 1 (new age)',
    'Pad 2 (warm)', 'Pad 3 (polysynth)', 'Pad 4 (choir)', 'Pad 5 (bowed)', 'Pad 6 (metallic)',
    'Pad 7 (halo)', 'Pad 8 (sweep)', 'FX 1 (rain)', 'FX 2 (soundtrack)', 'FX 3 (crystal)',
    'FX 4 (atmosphere)', 'FX 5 (brightness)', 'FX 6 (goblins)', 'FX 7 (echoes)', 'FX 8 (sci-fi)',
    'Sitar', 'Banjo', 'Shamisen', 'Koto', 'Kalimba', 'Bagpipe', 'Fiddle', 'Shanai', 'Tinkle Bell',
    'Agogo', 'Steel Drums', 'Woodblock', 'Taiko Drum', 'Melodic Tom', 'Synth Drum',
    'Reverse Cymbal', 'Guitar Fret Noise', 'Breath Noise', 'Seashore', 'Bird Tweet',
    'Telephone Ring', 'Helicopter', 'Applause', 'Gunshot',

)
# The 16 families of eight programs each (``piano`` is programs 0-7, ``bass`` 32-39).
FAMILIES = ("piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble",
            "brass", "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic",
            "percussive", "sound effects")
ALL_INSTRUMENTS = "all"


def program_name(program: int) -> str:
    """``Acoustic Grand Piano`` for 0, ``Drums`` for `DRUMS`."""
    return "Drums" if program == DRUMS else GENERAL_MIDI[program]


def programs_named(names: str, flag: str = "--instruments") -> frozenset[int] | None:
    """The programs ``--instruments`` names, comma-separated: ``all`` (None: no selection), a
    General MIDI name (``Acoustic Grand Piano``), a family (``piano``, ``bass``: its eight
    programs), a program number 0-127, or ``drums``; case and spaces around names do not matter.
    An unknown name is a `UsageError` naming the flag."""
    from lstm_core.errors import UsageError

    words = [w.strip().lower() for w in names.split(",") if w.strip()]
    if not words:
        raise UsageError(f"{flag} is empty; give {ALL_INSTRUMENTS}, or names such as piano,bass,"
                         "drums")
    if ALL_INSTRUMENTS in words:
        return None
    programs = set()
    for word in words:
        if word in ("drums", "drum", "drum kit"):
            programs.add(DRUMS)
        elif word.isdigit() and int(word) < len(GENERAL_MIDI):
            programs.add(int(word))
        elif word in FAMILIES:
            start = 8 * FAMILIES.index(word)
            programs.update(range(start, start + 8))
        elif word in (lowered := [n.lower() for n in GENERAL_MIDI]):
            programs.add(lowered.index(word))
        else:
            raise UsageError(f"{flag}: {word!r} is no General MIDI instrument; give "
                             f"{ALL_INSTRUMENTS}, drums, a program 0-127, a family "
                             f"({', '.join(FAMILIES[:5])}, ...) or a name such as "
                             "'Acoustic Grand Piano'")
    return frozenset(programs)

# The music evaluation (`lstm_core.music.evaluate`): real excerpts drawn from the reference, the
# lags in bars its self-similarity compares, the bins of its histograms.
EXCERPTS = 100  # real excerpts, the ceiling; with fewer, rare events (tempo changes) move by seed
EXCERPT_SEED = 0
SELF_SIMILARITY_LAGS = (1, 2, 4)
LONGEST_STEP = 8 * GRID  # durations and inter-onset intervals longer than 2 bars of 4/4 share a bin
VELOCITY_BIN = 8  # velocities per histogram bin: MidiTok's 32 bins and raw MIDI compare fairly
TEMPO_TOLERANCE = 0.01  # quarter notes per minute: a smaller step is no tempo change
