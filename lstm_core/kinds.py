"""What kind of tokens a model reads, and the family of model that makes it: one home for both.

A vocabulary file and a model's ``config.json`` record the kind as its string (``characters``,
``remi``, ...); both are `enum.StrEnum`s, so they compare, print and serialise as those strings.
This module imports nothing heavy: the apps read it before loading TensorFlow or music21.
"""

from __future__ import annotations

import enum


class Family(enum.StrEnum):
    """What a model writes, and so which flags of ``sample.py`` it takes."""
    TEXT = "text"  # characters
    MUSIC = "music"  # event or note tokens, decoded to notes through MidiTok
    JAZZ = "jazz"  # jazz grammar tokens, realised over chords


class TokenKind(enum.StrEnum):
    """The tokens of a vocabulary: characters, or the ``--encoding`` of a music corpus."""
    CHARACTERS = "characters"
    REMI = "remi"
    TSD = "tsd"
    MIDILIKE = "midilike"
    NOTES = "notes"
    JAZZ = "jazz"

    @property
    def family(self) -> Family:
        if self is TokenKind.CHARACTERS:
            return Family.TEXT
        return Family.JAZZ if self is TokenKind.JAZZ else Family.MUSIC

    @property
    def is_text(self) -> bool:
        return self.family is Family.TEXT


MUSIC_ENCODINGS = tuple(kind.value for kind in TokenKind if not kind.is_text)  # --encoding
