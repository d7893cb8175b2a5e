"""What every command-line app shares: bad input becomes one line on stderr and exit status 2."""

from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

# TensorFlow's start-up chatter (CUDA probing, oneDNN notices) is noise to a user; real errors
# still show. Set before TensorFlow is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from lstm_core.errors import UsageError  # noqa: E402


def fail(message: str) -> None:
    """Prints `message` as one line on stderr and exits with status 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _parse_flags(argv: Sequence[str]) -> Sequence[str]:
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        fail(f"{e}; run with --helpfull to list the flags")


def run(main: Callable[[Sequence[str]], None]) -> None:
    """`absl.app.run` with `UsageError` and flag errors turned into exit status 2."""

    def guarded(argv: Sequence[str]) -> None:
        if len(argv) > 1:
            fail(f"unexpected argument {argv[1]!r}; every input is a flag, as in --name=value")
        try:
            main(argv)
        except UsageError as e:
            fail(str(e))

    app.run(guarded, flags_parser=_parse_flags)


def require_positive(**values: float) -> None:
    """Raises a `UsageError` for the first flag whose value is zero or negative."""
    for name, value in values.items():
        if value is not None and value <= 0:
            raise UsageError(f"--{name} is {value}; it must be greater than zero")
