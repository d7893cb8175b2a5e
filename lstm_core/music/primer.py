"""Priming a sampler: the tokens of a MIDI file, or a random excerpt of the training tokens."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lstm_core.errors import UsageError
from lstm_core.music import encodings, scores
from lstm_core.music.events import BOUNDARY, is_note, is_wait


def encode_midi_file(path: str, metadata: dict, flag: str = "--primer_midi") -> list[str]:
    """`BOUNDARY` then the tokens of the MIDI file at `path`, in the vocabulary's encoding and
    instrument selection. Tokens the vocabulary lacks are the caller's to report."""
    try:
        piece = scores.read_file(path, metadata.get("instruments", "merge"))
    except FileNotFoundError:
        raise UsageError(f"{flag} {path} does not exist; give a MIDI file to start from") from None
    except scores.NoNotes as e:
        raise UsageError(f"{flag} {path} cannot prime the piece: {e}") from None
    except Exception as e:  # a broken file can fail a parser in any way
        raise UsageError(f"{flag} {path} is not a readable MIDI file ({e}); give another") \
            from None
    return [BOUNDARY] + encodings.get(metadata["encoding"], "the vocabulary's encoding") \
        .encode(piece.notes)


def random_excerpt(tokens: Sequence[str], length: int, rng: np.random.Generator) -> list[str]:
    """`length` tokens of `tokens` (all of them when shorter) from a random piece boundary or
    onset, i.e. never from a wait or from the middle of a chord."""
    return random_excerpts(tokens, length, 1, rng)[0]


def random_excerpts(tokens: Sequence[str], length: int, count: int,
                    rng: np.random.Generator) -> list[list[str]]:
    """`count` `random_excerpt`s, drawn as that many calls of it would draw them, but scanning
    `tokens` for the places an excerpt may start only once."""
    starts = [i for i in range(max(1, len(tokens) - length + 1))
              if tokens[i] == BOUNDARY or (not is_wait(tokens[i])
                                           and (i == 0 or not is_note(tokens[i - 1])))]
    excerpts = []
    for _ in range(count):
        start = int(rng.choice(starts)) if starts else 0
        excerpts.append(list(tokens[start:start + length]))
    return excerpts
