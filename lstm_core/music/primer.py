"""Priming a sampler: the tokens of a MIDI file (those a model knows), or a random excerpt of
the training tokens that starts at a musical boundary."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lstm_core.errors import UsageError
from lstm_core.music import bars, scores, tokenizer
from lstm_core.music.constants import BOUNDARY, programs_named


def encode_midi_file(path: str, metadata: dict, flag: str = "--primer_midi",
                     primer_bars: int = 0) -> list[str]:
    """`BOUNDARY` then the tokens of the score file at `path`, with the vocabulary's tokenizer
    and instruments: of its first `primer_bars` bars (`bars.first_bars`; 0: all of it). Tokens
    the vocabulary lacks are the caller's to report."""
    selection = metadata.get("instruments", "all")
    programs = programs_named(selection) if isinstance(selection, str) else frozenset(selection)
    try:
        score = bars.first_bars(scores.select_instruments(scores.read_score(path), programs),
                                primer_bars)
    except FileNotFoundError:
        raise UsageError(f"{flag} {path} does not exist; give a MIDI file to start from") from None
    except scores.Unusable as e:
        raise UsageError(f"{flag} {path} cannot prime the piece: {e}") from None
    if not score.tracks:  # the cut dropped the tracks it left without notes
        raise UsageError(f"{flag} {path} has no notes in its first {primer_bars} bar(s); give a "
                         "larger --primer_bars, or 0 for all of it")
    music_tokenizer = tokenizer.from_metadata(metadata, "the model's vocabulary")
    return [BOUNDARY] + tokenizer.encode(score, music_tokenizer)


def boundaries(tokens: Sequence[str]) -> list[int]:
    """Where an excerpt of `tokens` may start: a piece `BOUNDARY` or a bar (REMI's ``Bar``); in
    encodings without bars (TSD, MIDI-Like), the first token after a time shift; with neither
    (``notes``: one onset per token), anywhere."""
    firsts = [tokenizer.base_tokens(t)[0] for t in tokens]
    lasts = [tokenizer.base_tokens(t)[-1] for t in tokens]
    if any(first.startswith("Bar_") for first in firsts):
        return [i for i, first in enumerate(firsts)
                if tokens[i] == BOUNDARY or first.startswith("Bar_")]
    if any(last.startswith("TimeShift_") for last in lasts):
        return [i for i, first in enumerate(firsts) if tokens[i] == BOUNDARY
                or (i > 0 and lasts[i - 1].startswith("TimeShift_")
                    and not first.startswith("TimeShift_"))]
    return list(range(len(tokens)))


def random_excerpt(tokens: Sequence[str], length: int, rng: np.random.Generator) -> list[str]:
    """`length` tokens of `tokens` (all of them when shorter) from a random `boundaries` place."""
    return random_excerpts(tokens, length, 1, rng)[0]


def random_excerpts(tokens: Sequence[str], length: int, count: int,
                    rng: np.random.Generator) -> list[list[str]]:
    """`count` `random_excerpt`s, drawn as that many calls of it would draw them, but scanning
    `tokens` for the places an excerpt may start only once."""
    last_start = max(1, len(tokens) - length + 1)
    starts = [i for i in boundaries(tokens) if i < last_start]
    excerpts = []
    for _ in range(count):
        start = int(rng.choice(starts)) if starts else 0
        excerpts.append(list(tokens[start:start + length]))
    return excerpts
