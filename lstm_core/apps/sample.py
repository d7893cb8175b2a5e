"""``sample.py``: flags from `SampleOptions`, the model's samples written to files, a line each.

    python sample.py --model_name lyrics --output_file new_lyrics.txt --seed "Yeah, oho "
"""

from __future__ import annotations

import dataclasses
import sys

from lstm_core import cli, options as options_module
from lstm_core.apps.terminal import Progress
from lstm_core.files import STDOUT, require_model_folder
from lstm_core.kinds import Family
from lstm_core.sampling_options import SampleOptions, numbered_paths

INTERRUPTED = ("interrupted: nothing more was written (a sample does not resume; run the command "
               "again for a new one)")


def warn(line: str) -> None:
    """The library's warnings, on stderr: standard output may be the sample itself."""
    print(line, file=sys.stderr)


def check(options: SampleOptions, given: frozenset) -> None:
    """Every check of `options` (`given`: the names the user set) that needs no model: a
    `UsageError` before TensorFlow loads."""
    options.validate(given)
    options.check_outputs()
    require_model_folder(options.logdir, options.model_name)


def checked_options() -> tuple[SampleOptions, frozenset]:
    """The options of the flags, checked (`check`)."""
    options, given = options_module.from_flags(SampleOptions)
    check(options, given)
    return options, given


def write(samples, options: SampleOptions, family: Family) -> None:
    """Each sample to its file (and --audio, --piano_roll), atomically, with its line."""
    from lstm_core.files import atomic_write
    from lstm_core.music import render
    from lstm_core.sampling import describe

    paths = numbered_paths(options.output_file, options.num_samples)
    for n, (path, sample) in enumerate(zip(paths, samples.samples)):
        data = sample.text.encode("utf-8") if sample.text is not None else sample.score.dumps_midi()
        atomic_write(path, data)
        print(describe(sample, samples, family, path), file=sys.stderr if path == STDOUT else None)
        if options.audio:
            audio = numbered_paths(options.audio, options.num_samples)[n]
            renderer = render.render_audio(sample.score, audio, report=warn)
            print(f"wrote {audio} ({renderer} synthesiser)")
        if options.piano_roll:
            picture = numbered_paths(options.piano_roll, options.num_samples)[n]
            render.draw_piano_roll(sample.score, picture)
            print(f"wrote {picture}")
    if family is Family.TEXT and options.num_samples == 1 and paths[0] != STDOUT:
        print(samples.samples[0].text[:600])


def sample(options: SampleOptions, given: frozenset, progress: Progress) -> bool:
    """What ``sample.py`` does with its checked options: loads the model, samples and writes
    each sample with its line. Returns whether Ctrl-C cut the samples short (what was generated
    is written); raises `GenerationInterrupted` when it came before anything was."""
    from lstm_core.trained_model import check_fits, load

    model = load(options.model_name, options.checkpoint, options.logdir, options.vocabulary_file,
                 warn)
    check_fits(given, model.family, options.model_name)
    options = dataclasses.replace(options, random_seed=options.drawn_seed())
    if options.output_file is None:  # text to standard output, music to a file of its own
        options = dataclasses.replace(options, output_file=options.default_output(
            model.family, options.random_seed))
        options.check_outputs()
    options.check_output_kind(model.family)
    try:
        samples = model.sample(options, given, progress, report=warn)
    finally:
        progress.close()
    # After the checks a bad flag fails (their error is the only line); on stderr: standard
    # output may be the sample itself.
    print(f"sampling from {model.checkpoint_line}", file=sys.stderr)
    if samples.interrupted_after is not None:
        print(f"interrupted after {samples.interrupted_after} of {samples.length} tokens: "
              "writing what was generated", file=sys.stderr)
    write(samples, options, model.family)
    return samples.interrupted_after is not None


def main(checked: tuple[SampleOptions, frozenset]) -> None:
    from lstm_core.sampler import GenerationInterrupted

    options, given = checked
    try:
        cut_short = sample(options, given, Progress())
    except GenerationInterrupted:
        print(f"interrupted before the first chunk of --log_frequency {options.log_frequency} "
              "tokens was generated: nothing was written", file=sys.stderr)
        sys.exit(130)
    if cut_short:
        sys.exit(130)


def run() -> None:
    """Defines the flags and runs the command (the ``lstm-sample`` entry point)."""
    options_module.define_flags(SampleOptions)
    cli.run(main, interrupted=INTERRUPTED, check=checked_options)
