"""Writing a piece with a music model: the user's controls, the primer, the length in bars or
seconds, and the generated tokens as a symusic `Score`.

A piece continues a primer: the tokens of ``--primer_midi`` (a MIDI file, read as the model's
tokenizer reads its corpus), of ``--primer_notes`` (``C4 E4 G4``: one quarter note each, ``-`` a
quarter rest), or an excerpt of the training data. A piece primed by the user holds the primer
and its continuation, as melody_rnn's does; a piece primed by the training data holds only what
the model wrote, from the bar where it starts. Either way the tokens are decoded together with
the primer's, so the first notes keep their place in the bar, the tempo and the meter.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
from typing import Callable, Sequence

import numpy as np
import symusic

from lstm_core.errors import UsageError
from lstm_core.grammar import Conjunction, Grammar
from lstm_core.music import bars as bars_module
from lstm_core.music import constraints, pitches
from lstm_core.music import tokenizer as encodings
from lstm_core.music.constants import (DEFAULT_TEMPO, DRUMS, TICKS_PER_QUARTER, program_name,
                                       programs_named)
from lstm_core.music.primer import encode_midi_file
from lstm_core.preprocessing import describe_tokens
from lstm_core.progress import Report, silent_report

PRIMER_VELOCITY = 80
REST = "-"
NUMERIC_TYPES = ("Velocity", "Duration", "TimeShift", "Rest", "Tempo")  # valued by a number
TIME_TYPES = ("TimeShift", "Rest")
END = "end"  # the marker at the end of a piece of --bars or --seconds


@dataclasses.dataclass(frozen=True)
class Controls:
    """What the user asks of a piece: the programs it may use (None: any the model knows), the
    pitch classes of its pitched notes (None: any) and its tempo (None: the model's)."""
    programs: frozenset[int] | None = None
    pitch_classes: frozenset[int] | None = None
    tempo: float | None = None

    def grammar(self, tokens: Sequence[str], metadata: dict) -> Grammar | Conjunction:
        """`constraints.grammar` of these controls: what the sampler may write."""
        return constraints.grammar(tokens, metadata, self.programs, self.pitch_classes,
                                   self.tempo)


def vocabulary_programs(tokens: Sequence[str]) -> list[int]:
    """The programs the ``Program_P`` tokens of `tokens` name (`DRUMS` for the drum kit), in
    the order they first appear (a vocabulary's: most frequent first)."""
    return list(dict.fromkeys(int(constraints.token_value(b)) for t in tokens
                              for b in encodings.base_tokens(t)
                              if constraints.token_type(b) == "Program"))


def controls(tokens: Sequence[str], metadata: dict, instruments: str | None, key: str | None,
             scale: str | None, tempo: float | None) -> Controls:
    """The `Controls` of the flags; a `UsageError` for a name it does not know, for instruments
    the model never wrote, and for flags the model's encoding cannot follow."""
    notes = metadata.get("encoding") == encodings.NOTES
    if key is not None and scale is not None:
        raise UsageError("--key and --scale both choose the pitches; give one of them")
    programs = None
    if instruments is not None:
        if notes:
            raise UsageError("--instruments needs a multi-instrument model; this model's "
                             "encoding, notes, writes one piano; leave the flag out")
        programs = programs_named(instruments)
        known = set(vocabulary_programs(tokens))
        for word in instruments.split(","):
            if word.strip() and programs_named(word) is not None \
                    and not programs_named(word) & known:
                raise UsageError(f"--instruments: the model never wrote {word.strip()!r}; it "
                                 f"knows {', '.join(program_name(p) for p in sorted(known))}")
    pitch_classes = (pitches.key_pitch_classes(key) if key is not None
                     else pitches.scale_pitch_classes(scale) if scale is not None else None)
    return Controls(programs, pitch_classes, tempo)


def primer_from_midi(path: str, tokens: Sequence[str], metadata: dict,
                     flag: str = "--primer_midi", primer_bars: int = 0,
                     report: Report = silent_report) -> list[str]:
    """The tokens of the score file at `path` (its first `primer_bars` bars; 0: all of it) as
    the model's corpus was read (`BOUNDARY`, then the instruments it was trained on, by its
    tokenizer), in the vocabulary (`known_tokens`): a piece the model wrote reads back as the
    tokens it wrote."""
    if not os.path.isfile(path):
        raise UsageError(f"{flag} {path} does not exist; give a MIDI file")
    return known_tokens(encode_midi_file(path, metadata, flag, primer_bars), tokens,
                        f"{flag} {path}", report)


def primer_from_notes(text: str, tokens: Sequence[str], metadata: dict,
                      chosen: Controls, report: Report = silent_report) -> list[str]:
    """The tokens of a melody ``C4 E4 - G4`` (or MIDI numbers): one quarter note each, ``-`` a
    quarter rest, played by the first chosen pitched instrument the model knows (else its most
    frequent one), at the chosen tempo."""
    words = text.replace(",", " ").split()
    if not any(word != REST for word in words):
        raise UsageError("--primer_notes has no note; give notes such as \"C4 E4 G4\" or "
                         "\"60 64 67\"")
    known = [p for p in vocabulary_programs(tokens) if p != DRUMS]
    usable = [p for p in known if chosen.programs is None or p in chosen.programs]
    score = symusic.Score(TICKS_PER_QUARTER)
    score.tempos.append(symusic.Tempo(0, chosen.tempo or DEFAULT_TEMPO))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    program = (usable or known or [0])[0]
    track = symusic.Track(name=program_name(program), program=program)
    for n, word in enumerate(words):
        if word != REST:
            track.notes.append(symusic.Note(n * TICKS_PER_QUARTER, TICKS_PER_QUARTER,
                                            pitches.midi_pitch(word, "--primer_notes"),
                                            PRIMER_VELOCITY))
    score.tracks.append(track)
    return known_tokens(encodings.encode(score, encodings.from_metadata(metadata)), tokens,
                        "--primer_notes", report)


def known_tokens(primer: Sequence[str], tokens: Sequence[str], source: str,
                 report: Report = silent_report) -> list[str]:
    """`primer` in the vocabulary `tokens`: a velocity, duration or tempo it lacks becomes its
    nearest of the same type, a time shift or rest the known ones that add up to it (longest
    first); any other token it lacks is left out, with one warning naming them to `report`."""
    known = set(tokens)
    by_type = collections.defaultdict(list)
    for token in tokens:
        if constraints.token_type(token) in NUMERIC_TYPES:
            by_type[constraints.token_type(token)].append(token)
    kept, lacking = [], []
    for token in primer:
        same_type = by_type.get(constraints.token_type(token))
        if token in known:
            kept.append(token)
        elif same_type and constraints.token_type(token) in TIME_TYPES:
            kept += _sum_of(token, same_type)
        elif same_type:
            kept.append(min(same_type, key=lambda t: abs(_number(t) - _number(token))))
        else:
            lacking.append(token)
    if lacking:
        report(f"warning: {source} has {len(lacking)} token(s) the model never saw "
               f"({describe_tokens(list(dict.fromkeys(lacking)), 6)}); they are left out")
    if not kept:
        raise UsageError(f"{source} has nothing the model knows; give another primer")
    return kept


def _sum_of(token: str, shifts: Sequence[str]) -> list[str]:
    """Known `shifts` adding up to the time `token` moves on, longest first (to the nearest
    shortest one)."""
    by_length = sorted(shifts, key=_number, reverse=True)
    remaining, result = _number(token), []
    while remaining >= _number(by_length[-1]) / 2:
        shift = next((s for s in by_length if _number(s) <= remaining), by_length[-1])
        result.append(shift)
        remaining -= _number(shift)
    return result


def _number(token: str) -> float:
    """The value of a numeric token: ``Velocity_79`` → 79, ``Duration_1.2.8`` → 1.25 beats."""
    value = constraints.token_value(token)
    if value.count(".") == 2:
        beats, position, resolution = map(int, value.split("."))
        return beats + position / resolution
    return float(value)


def primer_programs(primer: Sequence[str]) -> frozenset[int]:
    """The programs a primer's notes use: the instruments a continued piece keeps."""
    return frozenset(vocabulary_programs(primer))


def piece(primer: Sequence[str], generated: Sequence[str], metadata: dict,
          keep_primer: bool, tempo: float | None = None) -> symusic.Score:
    """The Score of `generated` decoded after `primer`: with the primer's notes when
    `keep_primer`, else from the bar where the generated notes start. `tempo` (bpm) replaces
    every tempo of the piece."""
    whole = encodings.decode(list(primer) + list(generated), metadata)
    if not keep_primer:
        whole = _after(whole, encodings.decode(list(primer), metadata))
    if tempo is not None:
        whole.tempos = [symusic.Tempo(0, tempo)]
    return whole


def _after(whole: symusic.Score, primed: symusic.Score) -> symusic.Score:
    """`whole` without the notes of `primed` (its first part), shifted to start at the first
    whole bar of what is left; the tempo and meter in effect there start it."""
    primer_notes = collections.Counter(_note_key(t, n) for t in primed.tracks for n in t.notes)
    for track in whole.tracks:
        kept = []
        for note in track.notes:
            key = _note_key(track, note)
            if primer_notes[key]:
                primer_notes[key] -= 1
            else:
                kept.append(note)
        track.notes = kept
    onsets = [n.time for t in whole.tracks for n in t.notes]
    if not onsets:
        return whole.clip(0, 0)
    downbeats = [int(b) for b in whole.get_downbeats()]
    # The first whole bar, unless the piece has notes only before it (then the bar they are in).
    start = min([b for b in downbeats if min(onsets) <= b < max(onsets)],
                default=max([b for b in downbeats if b <= min(onsets)], default=0))
    shifted = whole.clip(start, whole.end() + 1).shift_time(-start)
    shifted.tempos = [_at(whole.tempos, start, symusic.Tempo(0, DEFAULT_TEMPO))] + [
        t.shift_time(-start) for t in whole.tempos if t.time > start]
    signatures = [_at(whole.time_signatures, start, symusic.TimeSignature(0, 4, 4))] + [
        s.shift_time(-start) for s in whole.time_signatures if s.time > start]
    shifted.time_signatures = signatures
    shifted.tracks = [t for t in shifted.tracks if t.notes]
    return shifted


def _note_key(track: symusic.Track, note: symusic.Note) -> tuple:
    """What tells a primer's note from the continuation's in the piece decoded from both."""
    return track.program, track.is_drum, note.time, note.duration, note.pitch, note.velocity


def _at(events, time: int, default):
    """A copy at time 0 of the last of `events` at or before `time` (`default` when none)."""
    before = [e for e in events if e.time <= time]
    if not before:
        return default
    event = before[-1].copy()
    event.time = 0
    return event


def bars(score: symusic.Score) -> int:
    """How many bars `score` has begun (by its time signatures; 4/4 when it has none)."""
    end = score.end()
    return sum(1 for b in score.get_downbeats() if b < end)


def seconds(score: symusic.Score) -> float:
    return float(score.to("second").end())


def length_line(score: symusic.Score, primer_bars: int = 0) -> str:
    """The length of a piece for the user, in `bars` and `seconds`, telling the `primer_bars`
    it starts with from the new ones: ``4 bars of primer + 8 new bars, 17 s``."""
    total = bars(score)
    length = (f"{_count(primer_bars, 'bar')} of primer + {_count(total - primer_bars, 'new bar')}"
              if primer_bars else _count(total, "bar"))
    return f"{length}, {seconds(score):.0f} s"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def clipped(score: symusic.Score, bar_count: int | None = None,
            second_count: float | None = None) -> symusic.Score:
    """`score` ending exactly at the end of bar `bar_count` or at `second_count` seconds (to
    the nearest tick): notes
    sounding there end there, and a piece that stops before it ends with silence up to it. The
    end is marked by an `END` marker there, the last event of the MIDI file: what a DAW and
    `symusic.Score.end` read as its length."""
    if bar_count is not None:
        end = int(bars_module.bar_lines(score, bar_count)[-1])
    else:
        end = _tick_at(score, second_count)
    cut = score.clip(0, end)
    for track in cut.tracks:
        for note in track.notes:
            note.duration = min(note.duration, end - note.time)
        for pedal in track.pedals:
            pedal.duration = min(pedal.duration, end - pedal.time)
    cut.tracks = [t for t in cut.tracks if t.notes]
    cut.markers = [m for m in cut.markers if m.time < end] + [symusic.TextMeta(end, END)]
    return cut


def _tick_at(score: symusic.Score, at_seconds: float) -> int:
    """The tick `at_seconds` seconds into `score`, through its tempo map."""
    tempos = sorted(score.tempos, key=lambda t: t.time) or [symusic.Tempo(0, DEFAULT_TEMPO)]
    tick, elapsed, qpm = 0, 0.0, tempos[0].qpm
    for tempo in tempos[1:]:
        span = (tempo.time - tick) * 60 / (qpm * score.ticks_per_quarter)
        if elapsed + span >= at_seconds:
            break
        tick, elapsed, qpm = tempo.time, elapsed + span, tempo.qpm
    return tick + round((at_seconds - elapsed) * qpm * score.ticks_per_quarter / 60)


def long_enough(generate: Callable[[int], np.ndarray], measure: Callable[[np.ndarray], float],
                target: float, first_length: int, max_length: int) -> np.ndarray:
    """Ids `[streams, length]` from `generate(length)`, whose every stream `measure`s at least
    `target` (bars, seconds), or of `max_length` tokens. Longer runs extend shorter ones
    (the sampler's draws depend on the position only), so asking for more is asking again."""
    length = first_length
    while True:
        ids = generate(length)
        shortest = min(measure(stream) for stream in ids)
        if shortest >= target or length >= max_length:
            return ids
        grown = math.ceil(length * 1.25 * target / shortest) if shortest > 0 else 4 * length
        length = min(max_length, max(grown, 2 * length))
