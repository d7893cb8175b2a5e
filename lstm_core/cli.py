"""What every command-line app shares: bad input becomes one line on stderr and exit status 2,
and TensorFlow's own log lines stay hidden unless ``--verbose`` asks for them."""

from __future__ import annotations

import math
import os
import signal
import sys
import tempfile
from typing import Any, Callable, Sequence

from absl import app, flags, logging

from lstm_core.errors import UsageError
from lstm_core.files import check_output, storage_failure

flags.DEFINE_bool("verbose", False, "Show TensorFlow's own log lines (its C++ start-up notices, "
                  "device probing such as 'failed call to cuInit', and its Python INFO lines), "
                  "which are hidden by default.")


def fail(message: str) -> None:
    """Prints `message` as one line on stderr (its lines joined by "; ") and exits with
    status 2."""
    one_line = "; ".join(line.strip() for line in message.splitlines() if line.strip())
    print(f"error: {one_line}", file=sys.stderr)
    sys.exit(2)


def verbose() -> bool:
    """Whether ``--verbose`` was given (read from the command line itself while the flags are
    not parsed yet: an app may import TensorFlow before absl parses them)."""
    if flags.FLAGS.is_parsed():
        return flags.FLAGS.verbose
    return any(argument in ("--verbose", "--verbose=true", "--verbose=True", "--verbose=1")
               for argument in sys.argv[1:])


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow and starts its devices with stderr captured, its C++ logging off
    (``TF_CPP_MIN_LOG_LEVEL=3``, which it reads once, at import) unless ``--verbose``.

    Its start-up chatter (oneDNN notices, CUDA probing on machines without a GPU) is printed
    before any log setting applies; a user sees it only if the import fails, or with
    ``--verbose``.
    """
    if verbose():
        import tensorflow as tf

        tf.get_logger().setLevel("INFO")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            if not os.environ.get("TF_CONFIG", "").strip():
                # Under TF_CONFIG, MultiWorkerMirroredStrategy must configure the devices first
                # (lstm_core.distribute): starting them here would make that fail.
                tf.config.list_logical_devices()
        except Exception:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


INT64 = 2 ** 63  # integers a flag may hold: TensorFlow and numpy take them as int64


def _parse_flags(argv: Sequence[str]) -> Sequence[str]:
    try:
        rest = flags.FLAGS(argv)
    except flags.Error as e:
        fail(f"{e}; run with --helpfull to list the flags")
    for name in flags.FLAGS:
        value = flags.FLAGS[name].value
        if isinstance(value, float) and not math.isfinite(value):
            fail(f"--{name} is {value}; give a finite number")
        if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
            fail(f"--{name} {value} is too large; give a number below 2**63")
    return rest


RESUMABLE = "interrupted: what was already saved is kept; run the same command to go on"


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`), raised wherever the app is, as Ctrl-C raises `KeyboardInterrupt`: the
    blocks it leaves clean up (`lstm_core.files.atomic_writer` deletes its temporary file)."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def run(main: Callable[[Any], None], interrupted: str = RESUMABLE,
        check: Callable[[], Any] | None = None) -> None:
    """`absl.app.run` with `UsageError` and flag errors turned into exit status 2, and Ctrl-C or
    SIGTERM outside the training loop (which saves a checkpoint itself) into the line
    `interrupted` and status 130 or 143 (a command that cannot resume says what it left
    instead). `check` runs once, before TensorFlow loads: the flags and paths that can be
    checked without it; `main` takes what it returns (an app's checked options), or the
    command line's arguments when there is no `check`."""

    def guarded(argv: Sequence[str]) -> None:
        if len(argv) > 1:
            fail(f"unexpected argument {argv[1]!r}; every input is a flag, as in --name=value")
        logging.set_verbosity(logging.INFO if verbose() else logging.WARNING)
        signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            checked = argv if check is None else check()
            import_tensorflow_quietly()
            main(checked)
        except KeyboardInterrupt as stop:
            print(interrupted, file=sys.stderr)
            sys.exit(128 + (signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT))
        except UsageError as e:
            fail(e.flag_wording())
        except OSError as e:  # a path the user gave that cannot be read or written
            if e.filename is None:
                raise
            full = storage_failure(e, e.filename, 0)
            fail(str(full) if full else f"{e.filename}: {e.strerror}; check the path and its "
                 "permissions")

    app.run(guarded, flags_parser=_parse_flags)


def require_positive(**values: float) -> None:
    """Raises a `UsageError` for the first option whose value is zero, negative or NaN."""
    for name, value in values.items():
        if value is not None and not value > 0:
            raise UsageError(f"{name} is {value}; it must be greater than zero", option=name)


def require_output_paths(overwrite: bool = False, **paths: str | None) -> None:
    """`lstm_core.files.check_output` for each file to write, by flag (None: not asked for):
    a folder, a missing folder, a model folder, or an existing file without `overwrite` is a
    `UsageError`."""
    for name, path in paths.items():
        if path is not None:
            check_output(name, path, overwrite)
