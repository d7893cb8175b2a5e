"""Where training data comes from: a text file, or music (see `lstm_core.music`).

`load_corpus` turns ``--training_file`` into a token sequence, the vocabulary kind and the
metadata the decoder needs, whatever the source.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from lstm_core.default_corpus import build_default_text
from lstm_core.preprocessing import CHARACTERS, read_text_file


@dataclasses.dataclass
class Corpus:
    tokens: str | Sequence[str]  # text, or a list of music events
    kind: str  # the vocabulary kind: characters or a music encoding
    metadata: dict
    source: str  # names the data in messages


def load_corpus(training_file: str | None) -> Corpus:
    """The tokens of `training_file`; without one, the embedded default text."""
    path = training_file or build_default_text()
    return Corpus(read_text_file(path), CHARACTERS, {}, path)
