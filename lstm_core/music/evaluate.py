"""Generated pieces against real excerpts of their corpus, in the figures the field reports:

    python -m lstm_core.music.evaluate song-1.mid song-2.mid --reference midi/piano [--json]

Every piece, generated or real, is measured over the same number of bars (``--bars``; default:
the most bars a generated piece has begun), so a piece shorter than asked counts its missing bars
as empty. The real excerpts (``--excerpts``, drawn with ``--seed`` among every whole-bar
position of the reference files) are the ceiling: what the corpus itself scores over that many
bars. Each figure is the mean over pieces (`lstm_core.music.metrics` defines them, MusPy's
definitions where it has one); the histograms of the generated pieces together, and of as many
excerpts together, are compared with those of the whole reference. Prints a table (rows:
figures; columns: generated, reference excerpts) and one JSON line; with ``--json`` the JSON
line alone.

In Python: ``evaluate(generated_scores, reference_scores) -> dict``, ``format_table(result)``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Sequence

import numpy as np
import symusic

from lstm_core.errors import UsageError
from lstm_core.music import metrics, scores
from lstm_core.music.bars import bar_count, excerpt
from lstm_core.music.constants import (EXCERPT_SEED, EXCERPTS, SELF_SIMILARITY_LAGS,
                                       program_name)

# name → (what the table calls it, the function of a piece); each is averaged over pieces.
FIGURES = {
    "notes_per_bar": ("notes per bar", metrics.notes_per_bar),
    "empty_bar_rate": ("empty-bar rate", metrics.empty_bar_rate),
    "pitch_class_entropy": ("pitch-class entropy (bits)", metrics.pitch_class_entropy),
    "scale_consistency": ("scale consistency", metrics.scale_consistency),
    "groove_consistency": ("groove consistency", metrics.groove_consistency),
    "drum_pattern_consistency": ("drum-pattern consistency", metrics.drum_pattern_consistency),
    "tempo_changes_per_bar": ("tempo changes per bar", metrics.tempo_changes_per_bar),
}


def evaluate(generated: Sequence[symusic.Score], reference: Sequence[symusic.Score],
             bars: int | None = None, excerpts: int = EXCERPTS,
             seed: int = EXCERPT_SEED) -> dict:
    """The figures of the `generated` pieces and of `excerpts` real excerpts of `reference`,
    all over `bars` bars (None: the most any generated piece has begun), as one JSON-ready
    dict: ``{"bars", "pieces", "excerpts", "seed", "generated": {...}, "reference": {...}}``;
    a figure with nothing to measure is None. Raises `UsageError` when a list is empty or no
    reference piece is `bars` long."""
    if not generated:
        raise UsageError("no generated piece to evaluate; give MIDI files")
    if not reference:
        raise UsageError("no reference piece; give a folder of MIDI files with notes")
    bars = bars or max(bar_count(score) for score in generated)
    corpus = corpus_histograms(reference)
    drawn = reference_excerpts(reference, bars, excerpts, seed)
    return {"bars": bars, "pieces": len(generated), "excerpts": len(drawn), "seed": seed,
            "generated": figures([metrics.piece(s, bars) for s in generated], corpus,
                                 len(generated)),
            "reference": figures([metrics.piece(s, bars) for s in drawn], corpus,
                                 len(generated))}


def reference_excerpts(reference: Sequence[symusic.Score], bars: int, count: int,
                       seed: int) -> list[symusic.Score]:
    """`count` excerpts of `bars` bars (fewer when there are not that many), in the order
    drawn, without replacement, seeded, among every bar a reference piece has `bars` bars
    from: each bar of the corpus is as likely a start as any other."""
    starts = [(i, first) for i, score in enumerate(reference)
              for first in range(bar_count(score) - bars + 1)]
    if not starts:
        longest = max(bar_count(score) for score in reference)
        raise UsageError(f"no reference piece has {bars} bars (the longest has {longest}); "
                         "give fewer --bars or a reference of longer pieces")
    chosen = np.random.default_rng(seed).choice(len(starts), min(count, len(starts)),
                                                replace=False)
    return [excerpt(reference[starts[c][0]], starts[c][1], bars) for c in chosen]


def corpus_histograms(reference: Sequence[symusic.Score]) -> dict[str, np.ndarray]:
    """Each of `metrics.histograms`, summed over the whole of every reference piece."""
    counts = [metrics.histograms(metrics.piece(score)) for score in reference]
    return {name: sum(c[name] for c in counts) for name in metrics.HISTOGRAMS}


def figures(pieces: list[metrics.Piece], corpus: dict[str, np.ndarray], pooled: int) -> dict:
    """The mean of each figure over `pieces` (NaNs left out), the self-similarity by lag, per
    instrument its polyphony and pitch range, and the overlaps with `corpus` of the histograms
    of `pooled` pieces together, averaged over the groups of `pooled` pieces in turn: a group
    of real excerpts as large as the generated set spans as many keys and moods, so the two
    columns compare like with like."""
    result = {name: _mean([measure(p) for p in pieces]) for name, (_, measure) in FIGURES.items()}
    result["self_similarity"] = {str(lag): _mean([metrics.self_similarity(p, lag)
                                                  for p in pieces])
                                 for lag in SELF_SIMILARITY_LAGS}
    counts = [metrics.histograms(p) for p in pieces]
    groups = [counts[i:i + pooled] for i in range(0, max(len(counts) - pooled, 0) + 1, pooled)]
    result["overlap"] = {name: _mean([metrics.overlap(sum(c[name] for c in group), corpus[name])
                                      for group in groups]) for name in metrics.HISTOGRAMS}
    result["instruments"] = instruments(pieces)
    return result


def instruments(pieces: list[metrics.Piece]) -> dict:
    """Per pitched instrument (General MIDI name), over the pieces it plays in: the mean and
    the most simultaneous pitches (MusPy's polyphony), the mean pitch range, the lowest and
    highest pitch."""
    result = {}
    for program in sorted({int(x) for p in pieces for x in np.unique(p.program[p.pitched])}):
        playing = [p for p in pieces if (p.program == program).any()]
        held = [metrics.polyphony(p, program) for p in playing]
        ranges = [metrics.pitch_range(p, program) for p in playing]
        result[program_name(program)] = {
            "pieces": len(playing),
            "polyphony": _mean([mean for mean, _ in held]),
            "polyphony_max": max(most for _, most in held),
            "pitch_range": _mean([span for span, _, _ in ranges]),
            "lowest": min(low for _, low, _ in ranges),
            "highest": max(high for _, _, high in ranges)}
    return result


def _mean(values: list[float]) -> float | None:
    kept = [v for v in values if not math.isnan(v)]
    return round(float(np.mean(kept)), 4) if kept else None


def format_table(result: dict) -> str:
    """`result` of `evaluate` as a plain-text table: a row per figure, a column each for the
    generated pieces and the reference excerpts; ``-`` where there is nothing to measure. The
    instruments are those the generated pieces play (the result holds the reference's too)."""
    generated, reference = result["generated"], result["reference"]
    rows = [(label, generated[name], reference[name]) for name, (label, _) in FIGURES.items()]
    rows += [(f"self-similarity, lag {lag} bar{'s' * (lag != '1')}",
              generated["self_similarity"][lag], reference["self_similarity"][lag])
             for lag in generated["self_similarity"]]
    rows += [(f"{name.replace('_', ' ')} overlap with the corpus", generated["overlap"][name],
              reference["overlap"][name]) for name in generated["overlap"]]
    for name, ours in generated["instruments"].items():
        theirs = reference["instruments"].get(name, {})
        rows += [(f"{name}: {label}", ours[key], theirs.get(key)) for key, label in (
            ("pieces", "pieces playing"), ("polyphony", "polyphony"),
            ("polyphony_max", "most pitches at once"), ("pitch_range", "pitch range"))]
        rows.append((f"{name}: lowest-highest", f"{ours['lowest']}-{ours['highest']}",
                     f"{theirs['lowest']}-{theirs['highest']}" if theirs else None))
    width = max(len(label) for label, _, _ in rows)
    lines = [f"{'over ' + str(result['bars']) + ' bars':{width}s}  {'generated':>12s}  "
             f"{'reference':>12s}",
             f"{'pieces':{width}s}  {result['pieces']:>12d}  {result['excerpts']:>12d}"]
    lines += [f"{label:{width}s}  {_cell(ours):>12s}  {_cell(theirs):>12s}"
              for label, ours, theirs in rows]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


class _Arguments(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        from lstm_core.cli import fail

        fail(f"{message}; run with --help for the arguments")


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: bad input is one line on stderr and exit status 2."""
    from lstm_core.cli import fail, require_positive

    parser = _Arguments(prog="python -m lstm_core.music.evaluate",
                        description=__doc__.splitlines()[0])
    parser.add_argument("generated", nargs="+", metavar="GENERATED", help="MIDI files to judge")
    parser.add_argument("--reference", required=True, help="the corpus: a folder, file or glob")
    parser.add_argument("--bars", type=int, default=None, help="bars every piece is measured "
                        "over (default: the most a generated piece has begun)")
    parser.add_argument("--excerpts", type=int, default=EXCERPTS,
                        help="real excerpts drawn from the reference")
    parser.add_argument("--seed", type=int, default=EXCERPT_SEED, help="seed of the excerpts")
    parser.add_argument("--json", action="store_true", help="print the JSON line alone")
    args = parser.parse_args(argv)
    try:
        require_positive(bars=args.bars, excerpts=args.excerpts)
        generated = [_read(path, "GENERATED") for path in args.generated]
        reference, skipped = read_reference(args.reference)
        for reason in skipped:
            print(f"warning: skipping {reason}", file=sys.stderr)
        result = evaluate(generated, reference, args.bars, args.excerpts, args.seed)
    except UsageError as e:
        fail(e.flag_wording())
    except OSError as e:  # a reference file that cannot be read
        fail(f"{e.filename}: {e.strerror}; check the path and its permissions")
    if not args.json:
        print(format_table(result))
    print(json.dumps(result))


def read_reference(source: str,
                   flag: str = "--reference") -> tuple[list[symusic.Score], list[str]]:
    """The Scores with notes of the files `source` names (a folder, file, glob or
    ``music21:NAME``, as ``--training_file`` takes them), and for each file left out its path
    and why."""
    from lstm_core.music.corpus import source_files

    pieces, skipped = [], []
    for path in source_files(source, flag):
        try:
            pieces.append(scores.select_instruments(scores.read_score(path), None))
        except scores.Unusable as e:
            skipped.append(f"{path}: {e}")
    return pieces, skipped


def _read(path: str, what: str) -> symusic.Score:
    try:
        return scores.read_score(path)
    except OSError as e:
        raise UsageError(f"{what} {path}: {e.strerror}; give MIDI files that exist") from None
    except scores.Unusable as e:
        raise UsageError(f"{what} {path}: {e}; give MIDI files") from None


if __name__ == "__main__":
    main()
