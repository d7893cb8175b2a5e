"""What every command-line app shares: bad input becomes one line on stderr and exit status 2."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Callable, Sequence

from absl import app, flags, logging

from lstm_core.errors import UsageError


def fail(message: str) -> None:
    """Prints `message` as one line on stderr (its lines joined by "; ") and exits with
    status 2."""
    one_line = "; ".join(line.strip() for line in message.splitlines() if line.strip())
    print(f"error: {one_line}", file=sys.stderr)
    sys.exit(2)


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow and starts its devices with stderr captured.

    Its start-up chatter (oneDNN notices, CUDA probing on machines without a GPU) is printed
    before any log setting applies; a user sees it only if the import fails.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_logical_devices()
        except Exception:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _parse_flags(argv: Sequence[str]) -> Sequence[str]:
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        fail(f"{e}; run with --helpfull to list the flags")


RESUMABLE = "interrupted: what was already saved is kept; run the same command to go on"


def run(main: Callable[[Sequence[str]], None], interrupted: str = RESUMABLE) -> None:
    """`absl.app.run` with `UsageError` and flag errors turned into exit status 2, and Ctrl-C
    outside the training loop (which saves a checkpoint itself) into the line `interrupted`
    and status 130 (a command that cannot resume says what it left instead)."""

    def guarded(argv: Sequence[str]) -> None:
        if len(argv) > 1:
            fail(f"unexpected argument {argv[1]!r}; every input is a flag, as in --name=value")
        logging.set_verbosity(logging.WARNING)
        try:
            import_tensorflow_quietly()
            main(argv)
        except KeyboardInterrupt:
            print(interrupted, file=sys.stderr)
            sys.exit(130)
        except UsageError as e:
            fail(str(e))
        except OSError as e:  # a path the user gave that cannot be read or written
            if e.filename is None:
                raise
            fail(f"{e.filename}: {e.strerror}; check the path and its permissions")

    app.run(guarded, flags_parser=_parse_flags)


def require_positive(**values: float) -> None:
    """Raises a `UsageError` for the first flag whose value is zero or negative."""
    for name, value in values.items():
        if value is not None and value <= 0:
            raise UsageError(f"--{name} is {value}; it must be greater than zero")


def require_output_paths(**paths: str | None) -> None:
    """Raises a `UsageError` for the first file to write (by flag; None: not asked for) that
    names a folder, or whose folder does not exist: nothing creates folders the user did not
    ask for."""
    for name, path in paths.items():
        if path is None:
            continue
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise UsageError(f"--{name} {path}: the folder {directory} does not exist; create "
                             "it or write elsewhere")
        if os.path.isdir(path):
            raise UsageError(f"--{name} {path} is a folder; give a file name")
