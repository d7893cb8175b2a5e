"""Playable parts: each instrument's pitch range and polyphony in the corpus, kept at sampling.

`measure` reads them off each Score at preparation (the notes of every track of a program
together, as MidiTok writes them: one program, one part) and `merge` joins the corpus's; the
vocabulary's metadata keeps them as ``"parts"`` (`PARTS`)::

    {"0": {"lowest": 21, "highest": 108, "polyphony": 9}, "65": {..., "polyphony": 1}, ...}

``polyphony`` is the most notes of the part sounding at once (an alto sax: 1). At sampling:
- `grammar` masks, while P is the program (since a ``Program_P`` token), a pitch outside P's
  range, and a note that would make P strike more than its polyphony at one time (P's run of
  notes with no time token between; a ``Program_P`` that could only lead to such a note is
  masked too, so in MIDI-Like P's ``NoteOff`` waits for the next time shift). It keeps one
  program and a count per state, which holds because MidiTok writes a program's notes at one
  time together;
- `enforce` keeps the written Score to the polyphony across time too: a note that starts while
  its part already sounds as many notes as it may ends the earliest-started of them there (a
  player lifting a finger). Which notes sound depends on every duration written before, more
  state than a grammar's table holds. A note beyond the polyphony at the same onset (the model
  came back to a program at the same time) is left out.
A vocabulary without ``"parts"`` has no such rule; a program the corpus never played has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import symusic

from lstm_core.grammar import Grammar
from lstm_core.music import tokenizer as encodings
from lstm_core.music.constants import BOUNDARY, DRUMS

PARTS = "parts"  # the metadata key
ONSET_TYPES = frozenset({"Pitch", "PitchDrum", "NoteOn", "DrumOn"})
TIME_TYPES = frozenset({"Bar", "Position", "TimeShift", "Rest"})


@dataclass(frozen=True)
class Part:
    lowest: int
    highest: int
    polyphony: int


def program_of(track: symusic.Track) -> int:
    return DRUMS if track.is_drum else track.program


def measure(score: symusic.Score) -> dict[int, Part]:
    """Each program's `Part` in `score` (programs with notes only)."""
    notes: dict[int, list] = {}
    for track in score.tracks:
        if len(track.notes):
            notes.setdefault(program_of(track), []).append(track.notes.numpy())
    parts = {}
    for program, arrays in notes.items():
        pitch = np.concatenate([a["pitch"] for a in arrays])
        start = np.concatenate([a["time"] for a in arrays]).astype(np.int64)
        end = start + np.maximum(np.concatenate([a["duration"] for a in arrays]), 1)
        # Sounding notes: +1 at each start, -1 at each end, an end before a start at one tick.
        times = np.concatenate([start, end])
        steps = np.concatenate([np.ones_like(start), -np.ones_like(end)])
        order = np.lexsort((steps, times))
        parts[program] = Part(int(pitch.min()), int(pitch.max()),
                              int(np.cumsum(steps[order]).max()))
    return parts


def merge(measured: Iterable[dict[int, Part]]) -> dict[str, dict]:
    """The corpus's parts (the widest range, the most notes at once of each program) as stored
    in the metadata."""
    merged: dict[int, Part] = {}
    for parts in measured:
        for program, part in parts.items():
            seen = merged.get(program, part)
            merged[program] = Part(min(seen.lowest, part.lowest),
                                   max(seen.highest, part.highest),
                                   max(seen.polyphony, part.polyphony))
    return to_json(dict(sorted(merged.items())))


def to_json(parts: dict[int, Part]) -> dict[str, dict]:
    """`parts` as the metadata and a file's cache entry hold them (`from_json` reads them
    back)."""
    return {str(p): vars(part) for p, part in parts.items()}


def from_json(stored: dict) -> dict[int, Part]:
    """The `Part` of each program in `stored` (``metadata["parts"]`` or a cache entry's)."""
    return {int(p): Part(**part) for p, part in stored.items()}


def of_metadata(metadata: dict) -> dict[int, Part]:
    return from_json(metadata.get(PARTS, {}))


def grammar(tokens: Sequence[str], metadata: dict) -> Grammar | None:
    """The masks of the module docstring over the vocabulary `tokens`. State 0: a program
    without a part; then, for each program with a part, one state per count of its notes
    struck at this time (0 .. polyphony): the program is the last ``Program`` token's, as
    MidiTok decodes a note. None without parts or ``Program`` tokens."""
    parts = of_metadata(metadata)
    bases = [encodings.base_tokens(t) for t in tokens]
    programs = sorted({int(b.split("_")[1]) for base in bases for b in base
                       if b.startswith("Program_")} & set(parts))
    if not programs:
        return None
    first_state, state_of = {}, [(None, 0)]  # state -> (program, notes struck)
    for program in programs:
        first_state[program] = len(state_of)
        state_of += [(program, count) for count in range(parts[program].polyphony + 1)]
    allowed = np.ones([len(state_of), len(tokens)], bool)
    next_state = np.zeros([len(state_of), len(tokens)], np.int32)
    for state, (program, count) in enumerate(state_of):
        for v, base in enumerate(bases):
            now, struck, ok = program, count, True
            for b in base:
                kind, value = b.split("_", 1) if "_" in b else (b, "")
                if kind in TIME_TYPES:  # MidiTok's decoder keeps the program over time
                    struck = 0
                elif kind == "Program":
                    same = int(value) == now
                    now = int(value) if int(value) in parts else None
                    struck = struck if same else 0
                    ok &= now is None or struck < parts[now].polyphony
                elif kind in ONSET_TYPES and now is not None:
                    part = parts[now]
                    ok &= part.lowest <= int(value) <= part.highest and struck < part.polyphony
                    struck = min(struck + 1, part.polyphony)
            allowed[state, v] = ok
            next_state[state, v] = 0 if now is None else first_state[now] + struck
    # A piece starts as MidiTok decodes one: program 0 until a Program token says otherwise.
    start = first_state.get(0, 0)
    next_state[:, [v for v, t in enumerate(tokens) if t == BOUNDARY]] = start
    return Grammar(allowed, next_state, start)


def enforce(score: symusic.Score, metadata: dict) -> symusic.Score:
    """`score` with each part sounding at most its polyphony (module docstring), in place."""
    parts = of_metadata(metadata)
    for track in score.tracks:
        part = parts.get(program_of(track))
        if part is None:
            continue
        kept, sounding = [], []  # sounding: the kept notes not yet ended, earliest start first
        for note in sorted(track.notes, key=lambda n: (n.time, n.pitch)):
            sounding = [n for n in sounding if n.end > note.time]
            while len(sounding) >= part.polyphony and sounding[0].time < note.time:
                earliest = sounding.pop(0)
                earliest.duration = note.time - earliest.time
            if len(sounding) >= part.polyphony:  # none started earlier: too many at once
                continue
            kept.append(note)
            sounding.append(note)
        track.notes = kept
    return score
