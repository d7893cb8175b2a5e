"""train.py and sample.py run in the pytest process: the options a command line would give are
checked as the apps check them and handed to the apps' `main`, and what they print is captured.
No absl flag is parsed, so nothing is left behind for the next test; the exit statuses and the
one-line errors of the processes themselves are tested in test_cli.py."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os

from lstm_core.apps import sample as sample_app, train as train_app
from lstm_core.sampling_options import SampleOptions
from lstm_core.training_options import TrainOptions, check, with_defaults


@dataclasses.dataclass
class Output:
    stdout: str = ""
    stderr: str = ""


@contextlib.contextmanager
def run_in(folder: os.PathLike | str):
    """Runs the block in `folder` (as a command started there), its printed lines captured
    into the `Output` it gives."""
    # Bytes underneath, as a terminal's: a text sample for standard output is written there.
    output = Output()
    out, err = (io.TextIOWrapper(io.BytesIO(), "utf-8", write_through=True) for _ in "12")
    try:
        with contextlib.chdir(folder), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            yield output
    finally:
        output.stdout, output.stderr = (stream.buffer.getvalue().decode() for stream in (out, err))


def train_py(folder, **flags) -> Output:
    """``python train.py --name value ...`` in `folder`, as keywords (``units=16``)."""
    options, given = TrainOptions(**flags), frozenset(flags)
    with run_in(folder) as output:
        check(with_defaults(options, given))
        train_app.main((options, given))
    return output


def sample_py(folder, **flags) -> Output:
    """``python sample.py --name value ...`` in `folder`, as keywords (``top_k=10``)."""
    options, given = SampleOptions(**flags), frozenset(flags)
    with run_in(folder) as output:
        sample_app.check(options, given)
        sample_app.main((options, given))
    return output
