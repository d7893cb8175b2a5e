"""Jazz: learn a chord-relative grammar of a solo and improvise over any chord progression.

The entry points the apps use:

Training (``train.py --encoding jazz``)::

    tokens, metadata = load_jazz_corpus(FLAGS.training_file, FLAGS.melody_part, FLAGS.chord_parts)
    vocabulary = Vocabulary.build(tokens, kind=ENCODING, metadata=metadata)

``training_file`` is a MIDI or MusicXML file, a folder of them, or ``music21:NAME`` (e.g.
``music21:leadSheet``). The melody part and the chord parts are guessed; the two arguments
(indices or part names) override the guess. Tokens are described in `grammar`.

Sampling (``sample.py [--chords "Dm7 G7 | Cmaj7" | --chords_from FILE [--chord_parts ...]]``)::

    if vocabulary.kind != ENCODING: raise UsageError(...)   # --chords needs a jazz model
    metadata = vocabulary.metadata
    if FLAGS.chords_from:
        chorus = read_progression(FLAGS.chords_from, FLAGS.chord_parts)
    elif FLAGS.chords is not None:
        chorus = parse_progression(FLAGS.chords, metadata["measure_length"])
    else:  # a chorus of the training solo's own (no re-reading of the file)
        chorus = parse_progression(metadata["progression"],
                                   metadata["measure_length"])[:CHORUS_BARS]
    progression = solo_form(chorus, FLAGS.bars, FLAGS.choruses)
    tokens = <sample tokens_needed(progression, metadata["mean_duration"]) tokens>
    solo = realize_solo(tokens, progression, np.random.default_rng([FLAGS.random_seed, n]),
                        pitch_range=tuple(metadata["pitch_range"]),
                        dynamics=metadata.get("dynamics"))
    score = solo_score(solo, progression, tempo=FLAGS.tempo or metadata["tempo"],
                       solo_program=constants.SOLO_PROGRAMS[FLAGS.solo_instrument])

``realize_solo`` gives the solo's notes (`symusic.Note`, ticks at `TICKS_PER_QUARTER`; rests
are the gaps between them); it also accepts a generator of tokens and stops drawing when the
progression is full. ``solo_score`` is the solo and its chords as a `symusic.Score`
(``write_jazz_midi`` writes it as a MIDI file); ``lstm_core.music.render_audio(score, wav_path)``
renders it like any other music. `improvise.improvise` is this whole workflow.

Measuring: ``python -m lstm_core.music.jazz.measure --midi FILE`` (or
`lstm_core.music.jazz.measure.measure_solo` on a `read_sources` result).

Every bad input (an unparseable chord symbol, an empty progression, a score with no melody or
no chords, an unknown part) is a `lstm_core.errors.UsageError` naming the flag or file.
"""

from lstm_core.music.jazz.chords import (CHORUS_BARS, Chord, Progression, format_progression,
                                         parse_chord, parse_progression, solo_form)
from lstm_core.music.jazz.extract import read_progression, read_sources
from lstm_core.music.jazz.grammar import ENCODING, load_jazz_corpus
from lstm_core.music.jazz.realize import (Solo, realize_solo, solo_score, tokens_needed,
                                          write_jazz_midi)

__all__ = ["CHORUS_BARS", "Chord", "ENCODING", "Progression", "Solo", "format_progression",
           "load_jazz_corpus", "parse_chord", "parse_progression", "read_progression",
           "read_sources", "realize_solo", "solo_form", "solo_score", "tokens_needed",
           "write_jazz_midi"]
