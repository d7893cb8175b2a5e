"""Where training data comes from: a text file, or music (see `lstm_core.music`).

`load_corpus` turns ``--training_file`` into a token sequence, the vocabulary kind and the
metadata the decoder needs, whatever the source.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from lstm_core.default_corpus import build_default_text
from lstm_core.errors import UsageError
from lstm_core.preprocessing import CHARACTERS, JAZZ, read_text_file


@dataclasses.dataclass
class Corpus:
    tokens: str | Sequence[str]  # text, or a list of music events
    kind: str  # the vocabulary kind: characters or a music encoding
    metadata: dict
    source: str  # names the data in messages


def load_corpus(training_file: str | None, encoding: str = "remi",
                melody_part: str | None = None, chord_parts: Sequence[str] | None = None,
                instruments: str = "all", bpe_vocabulary: int = 0) -> Corpus:
    """The tokens of `training_file`; without one, the embedded default text.

    Score files (MIDI, MusicXML, Humdrum, ABC; by suffix or content), folders and globs of them,
    ``music21:NAME`` and prepared token files become music tokens in `encoding`
    (`lstm_core.music.tokenizer`, with MidiTok's BPE of `bpe_vocabulary` tokens when > 0) of
    the `instruments` named (`lstm_core.music.constants.programs_named`).
    `encoding` ``jazz`` reads a solo over chords instead (`lstm_core.music.jazz`), with the
    melody and chord parts guessed unless given. Anything else is UTF-8 text.
    """
    if encoding == JAZZ:
        from lstm_core.music import jazz

        if not training_file:
            raise UsageError("--encoding jazz needs --training_file: a MIDI file with a solo "
                             "over an accompaniment, a lead sheet, or music21:NAME")
        tokens, metadata = jazz.load_jazz_corpus(training_file, melody_part, chord_parts)
        return Corpus(tokens, jazz.ENCODING, metadata, training_file)
    if training_file:
        from lstm_core import music

        if music.is_music_source(training_file):
            from lstm_core.music.constants import programs_named

            tokens, metadata = music.load_corpus(training_file, encoding,
                                                 programs_named(instruments),
                                                 bpe_vocabulary=bpe_vocabulary)
            return Corpus(tokens, metadata["encoding"], metadata, training_file)
    path = training_file or build_default_text()
    return Corpus(read_text_file(path), CHARACTERS, {}, path)
