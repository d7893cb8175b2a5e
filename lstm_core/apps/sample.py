"""``sample.py``: flags from `SampleOptions`, the model's samples written to files, a line each.

    python sample.py --model_name lyrics --output_file new_lyrics.txt --seed "Yeah, oho "
"""

from __future__ import annotations

import sys
from typing import Sequence

from absl import flags

from lstm_core import cli, options as options_module
from lstm_core.files import STDOUT
from lstm_core.kinds import Family
from lstm_core.sampling_options import SampleOptions, numbered_paths

SHOWN_BARS = 8  # of a jazz progression, in the line that names what was written
INTERRUPTED = ("interrupted: nothing more was written (a sample does not resume; run the command "
               "again for a new one)")


def likelihood(log_likelihood: float, tokens: int) -> str:
    """The log-likelihood of a sample, in all and per token, for comparing samples."""
    return (f"log-likelihood {log_likelihood:.1f}, {log_likelihood / max(tokens, 1):.3f} per "
            "token")


def described(sample, samples, family: Family, path: str) -> str:
    """The line that says what was written to `path`."""
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


def write(samples, options: SampleOptions, family: Family) -> None:
    """Each sample to its file (and --audio, --piano_roll), atomically, with its line."""
    from lstm_core.files import atomic_write

    paths = numbered_paths(options.output_file, options.num_samples)
    for n, (path, sample) in enumerate(zip(paths, samples.samples)):
        data = sample.text.encode("utf-8") if sample.text is not None else sample.score.dumps_midi()
        atomic_write(path, data)
        print(described(sample, samples, family, path), file=sys.stderr if path == STDOUT else None)
        if family is not Family.TEXT:
            render_extras(sample.score, options, n)
    if family is Family.TEXT and options.num_samples == 1 and paths[0] != STDOUT:
        print(samples.samples[0].text[:600])


def render_extras(score, options: SampleOptions, n: int) -> None:
    """--audio and --piano_roll of sample `n`."""
    from lstm_core.music import render

    if options.audio:
        audio = numbered_paths(options.audio, options.num_samples)[n]
        print(f"wrote {audio} ({render.render_audio(score, audio)} synthesiser)")
    if options.piano_roll:
        picture = numbered_paths(options.piano_roll, options.num_samples)[n]
        render.draw_piano_roll(score, picture)
        print(f"wrote {picture}")


class Progress:
    """The progress bar of each generation run (a music piece may take a longer run again)."""

    def __init__(self):
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        from lstm_core.progress import ProgressBar

        if self.bar is None or self.bar.total != total:
            self.close()
            self.bar = ProgressBar(total, lines=True)
        self.bar.update(done, "tokens")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def main(argv: Sequence[str]) -> None:
    from lstm_core.sampler import GenerationInterrupted
    from lstm_core.trained_model import check_fits, load

    options, given = options_module.from_flags(SampleOptions)
    options.validate(given)
    options.check_outputs()
    model = load(options.model_name, options.checkpoint, options.logdir, options.vocabulary_file)
    if options.checkpoint != "latest":  # on stderr: standard output may be the sample itself
        print(f"sampling from {model.checkpoint_path}", file=sys.stderr)
    check_fits(given, model.family, options.model_name)
    options.check_output_kind(model.family)
    progress = Progress()
    try:
        samples = model.sample(options, given, progress,
                               report=lambda line: print(line, file=sys.stderr))
    except GenerationInterrupted:
        progress.close()
        print("interrupted before the first chunk of --log_frequency "
              f"{options.log_frequency} tokens was generated: nothing was written",
              file=sys.stderr)
        sys.exit(130)
    progress.close()
    if samples.interrupted_after is not None:
        print(f"interrupted after {samples.interrupted_after} of {samples.length} tokens: "
              "writing what was generated", file=sys.stderr)
    write(samples, options, model.family)
    if samples.interrupted_after is not None:
        sys.exit(130)


def run() -> None:
    options_module.define_flags(SampleOptions)
    flags.mark_flag_as_required("output_file")
    cli.run(main, interrupted=INTERRUPTED)
