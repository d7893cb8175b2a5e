"""Pitch names, keys and scales as users write them on the command line.

- a note: ``C4`` (middle C, MIDI 60), ``F#3``, ``Bb5``, ``E-2`` (music21's flat: E flat 2), or a MIDI
  number ``60``;
- a key: a tonic and a mode, ``D minor``, ``F# major``, ``Bb dorian``, ``A minor pentatonic``
  (a tonic alone is major);
- a scale: its notes, ``C D Eb G A`` (octaves ignored).
"""

from __future__ import annotations

import re

from lstm_core.errors import UsageError

LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
ACCIDENTALS = {"#": 1, "♯": 1, "b": -1, "-": -1, "♭": -1}
MODES = {
    "major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),
    "ionian": (0, 2, 4, 5, 7, 9, 11), "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10), "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10), "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10), "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11), "major pentatonic": (0, 2, 4, 7, 9),
    "minor pentatonic": (0, 3, 5, 7, 10), "blues": (0, 3, 5, 6, 7, 10),
}
_NOTE = re.compile(r"([A-Ga-g])([#♯b♭-]*)(-?\d+)?")


def pitch_class(name: str, flag: str) -> int:
    """``Eb`` → 3; octaves are ignored. A `UsageError` naming `flag` for anything else."""
    return _parse_note(name, flag)[0] % 12


def midi_pitch(text: str, flag: str) -> int:
    """``C4`` → 60, ``60`` → 60; a `UsageError` naming `flag` for a note without octave or out
    of the MIDI range 0-127."""
    if text.isdigit():
        pitch = int(text)
    else:
        semitone, octave = _parse_note(text, flag)
        if octave is None:
            raise UsageError(f"{flag}: {text!r} has no octave; write it as {text}4 (middle C is "
                             "C4) or as a MIDI number")
        pitch = semitone + 12 * (octave + 1)
    if not 0 <= pitch <= 127:
        raise UsageError(f"{flag}: {text!r} is outside the MIDI range 0-127 (C0 is 12, G9 is 127)")
    return pitch


def key_pitch_classes(key: str, flag: str = "--key") -> frozenset[int]:
    """The pitch classes of ``TONIC [MODE]`` (``D minor``: D E F G A Bb C)."""
    tonic, _, mode = key.strip().partition(" ")
    mode = " ".join(mode.lower().replace("_", " ").split()) or "major"
    if mode not in MODES:
        raise UsageError(f"{flag} {key!r}: unknown mode {mode!r}; give a tonic and one of: "
                         f"{', '.join(MODES)} (for example \"D minor\")")
    root = pitch_class(tonic, flag)
    return frozenset((root + step) % 12 for step in MODES[mode])


def scale_pitch_classes(scale: str, flag: str = "--scale") -> frozenset[int]:
    """The pitch classes of the notes named in `scale` (``C D Eb G A``)."""
    names = scale.replace(",", " ").split()
    if not names:
        raise UsageError(f"{flag} is empty; give the notes of the scale, such as \"C D Eb G A\"")
    return frozenset(pitch_class(name, flag) for name in names)


def _parse_note(text: str, flag: str) -> tuple[int, int | None]:
    """(semitone above C of the octave, octave or None) of a note name."""
    match = _NOTE.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"{flag}: {text!r} is not a note name; write a letter A-G, then # or b "
                         "for sharp or flat, then the octave (C4 is middle C), e.g. F#3 or Bb4")
    letter, accidentals, octave = match.groups()
    semitone = LETTERS[letter.upper()] + sum(ACCIDENTALS[a] for a in accidentals)
    return semitone, int(octave) if octave is not None else None
