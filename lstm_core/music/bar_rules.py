"""What bar lines allow: no more empty bars in a row than the corpus has, and a tempo change
only on a bar's first beat.

Both read the ``Bar`` tokens of REMI (the default encoding); TSD and MIDI-Like move by time
shifts that may cross bar lines, so their tokens do not say where a bar starts (no rule).

A bar is empty when no note starts in it (``Pitch``, ``PitchDrum``, ``NoteOn``, ``DrumOn``).
`longest_empty_run` measures the corpus at preparation; the vocabulary's metadata keeps it as
``"empty_bars"`` (`EMPTY_BARS`), and `grammar` forbids the ``Bar`` token that would close one
empty bar more (a vocabulary without it: no cap).

A ``Tempo`` token may be written only while the bar's time is still at its first beat: after
``Bar``, ``TimeSig`` and ``Position_0``, before any later position.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from lstm_core.grammar import Grammar
from lstm_core.music import tokenizer as encodings
from lstm_core.music.constants import BOUNDARY

EMPTY_BARS = "empty_bars"  # the metadata key of the corpus's longest run of empty bars
ONSET_TYPES = frozenset({"Pitch", "PitchDrum", "NoteOn", "DrumOn"})
TIME_TYPES = frozenset({"TimeShift", "Rest"})


def _kind(token: str) -> str:
    return token.split("_", 1)[0]


def longest_empty_run(tokens: Iterable[str]) -> int:
    """The most empty bars in a row in `tokens` (pieces between `BOUNDARY` tokens), counted by
    the ``Bar`` tokens that close them; 0 when every bar has a note or there are no bars."""
    longest = since_note = 0
    for token in tokens:
        if token == BOUNDARY:
            since_note = 0
            continue
        for base in encodings.base_tokens(token):
            kind = _kind(base)
            if kind == "Bar":
                longest = max(longest, since_note)
                since_note += 1
            elif kind in ONSET_TYPES:
                since_note = 0
    return longest


def grammar(tokens: Sequence[str], metadata: dict) -> Grammar | None:
    """The bar rules (module docstring) over the vocabulary `tokens`: state ``2 * e + d``, ``e``
    the bar lines since the last note (up to the cap + 1), ``d`` 1 on a bar's first beat. None
    when `tokens` have no ``Bar``."""
    bases = [encodings.base_tokens(t) for t in tokens]
    if not any(_kind(b) == "Bar" for base in bases for b in base):
        return None
    cap = metadata.get(EMPTY_BARS)
    counts = 1 if cap is None else cap + 2  # e: 0 .. cap + 1, or always 0 without a cap
    states = 2 * counts
    allowed = np.ones([states, len(tokens)], bool)
    next_state = np.zeros([states, len(tokens)], np.int32)
    for state in range(states):
        for v, base in enumerate(bases):
            since_note, on_first_beat, ok = state // 2, state % 2, True
            for b in base:
                kind = _kind(b)
                if kind == "Bar":
                    ok &= cap is None or since_note <= cap
                    since_note, on_first_beat = min(since_note + 1, counts - 1), 1
                elif kind in ONSET_TYPES:
                    since_note = 0
                elif kind == "Position":
                    on_first_beat &= int(b.split("_")[1]) == 0
                elif kind in TIME_TYPES:
                    on_first_beat = 0
                elif kind == "Tempo":
                    ok &= bool(on_first_beat)
            allowed[state, v], next_state[state, v] = ok, 2 * since_note + on_first_beat
    return Grammar(allowed, next_state, start=1)
