"""What a sampling run returns (`Samples`: one `Sample` per stream, the seed of its draws, and
whether Ctrl-C cut it short), and `run_sampler`, which continues one primer in many streams.

The workflows of each kind of model (`text_sampling`, `music.compose`, `music.jazz.improvise`)
return `Samples`; `TrainedModel` and ``sample.py`` read them, and `describe` words the line
that says what a sample file holds. TensorFlow loads with the sampler,
not with this module.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from lstm_core.files import STDOUT
from lstm_core.kinds import Family

if TYPE_CHECKING:  # the sampler loads TensorFlow: `trained_model` reads this module before
    from lstm_core.sampler import Generated, Sampler

Progress = Callable[[int, int], None]  # progress(done, total): tokens generated so far
Report = Callable[[str], None]  # a line for the user (a warning)


@dataclasses.dataclass(frozen=True)
class Sample:
    """One sample: the ids generated `[tokens]` (without the seed or primer), their
    log-likelihood under the model, and what they make: `text` (the seed and what followed)
    or `score` (a `symusic.Score`), with, for music, the tokens that break the encoding's
    grammar (`invalid`)."""
    ids: np.ndarray
    log_likelihood: float
    text: str | None = None
    score: Any = None  # symusic.Score (music and jazz models)
    invalid: int | None = None

    @property
    def tokens(self) -> int:
        return len(self.ids)


@dataclasses.dataclass(frozen=True)
class Samples:
    """The samples of one run, the `random_seed` of its draws, the `length` asked of its last
    generation (tokens), `interrupted_after`: the tokens each sample got when Ctrl-C stopped it
    (None: it ran to the end), for a jazz solo its chord `progression`, and for a piece that
    keeps the user's primer the bars that primer fills (`primer_bars`, 0: none)."""
    samples: list[Sample]
    random_seed: int
    length: int
    interrupted_after: int | None = None
    progression: Any = None  # lstm_core.music.jazz.Progression
    primer_bars: int = 0


def run_sampler(sampler: Sampler, primer: Sequence[int], samples: int, length: int,
                random_seed: int, progress: Progress | None = None) -> Generated:
    """`length` ids `[samples, length]` continuing `primer` (ids `[time]`, the same for every
    sample) and their log-likelihoods `[samples]`.

    Raises:
      GenerationInterrupted: Ctrl-C, with the chunks finished so far.
    """
    primer_ids = np.tile(np.asarray(primer, np.int32), [samples, 1])
    return sampler.generate_scored(primer_ids, length, random_seed, progress)


def interruptible(generate: Callable[[], Generated]) -> tuple[Generated, int | None]:
    """`generate()`, and None; after Ctrl-C, what its finished chunks hold and the tokens each
    sample got. Ctrl-C before the first chunk finished re-raises its `GenerationInterrupted`
    (there is nothing to keep)."""
    from lstm_core.sampler import GenerationInterrupted

    try:
        return generate(), None
    except GenerationInterrupted as stop:
        done = stop.generated.ids.shape[1]
        if not done:
            raise
        return stop.generated, done


SHOWN_BARS = 8  # of a jazz progression, in the line that names what was written


def likelihood(log_likelihood: float, tokens: int) -> str:
    """The log-likelihood of a sample, in all and per token, for comparing samples."""
    return (f"log-likelihood {log_likelihood:.1f}, {log_likelihood / max(tokens, 1):.3f} per "
            "token")


def describe(sample: Sample, samples: Samples, family: Family, path: str) -> str:
    """The line that says what was written to `path` (`STDOUT`: the text alone)."""
    from lstm_core.music import generation, jazz, scores
    from lstm_core.music.constants import program_name

    drawn = (f"--random_seed {samples.random_seed}, "
             f"{likelihood(sample.log_likelihood, sample.tokens)}")
    if family is Family.TEXT:
        return (f"wrote {sample.tokens} characters ({drawn})" if path == STDOUT
                else f"wrote {path} ({sample.tokens} characters, {drawn})")
    score = sample.score
    if family is Family.JAZZ:
        bars = samples.progression
        more = " | ..." if len(bars) > SHOWN_BARS else ""
        return (f"wrote {path}: a solo over {len(bars)} bars of "
                f"{jazz.format_progression(bars[:SHOWN_BARS])}{more} ({drawn})")
    names = ", ".join(program_name(scores.program_of(t)) for t in score.tracks)
    return (f"wrote {path}: {len(score.tracks)} track(s) ({names}), "
            f"{generation.length_line(score, samples.primer_bars)}, {sample.tokens} tokens, "
            f"{sample.invalid} invalid ({drawn})")
