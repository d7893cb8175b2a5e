"""Writing files so that a crash never leaves a half-written one, and nothing is replaced that
should not be: every file the project writes (vocabularies, model configs, samples, MIDI,
audio, pictures, caches) goes through `atomic_write`, and every command checks its outputs
with `check_output` before it starts (the rules: docs/files.md)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
from typing import BinaryIO, Iterator

from lstm_core.errors import UsageError

STDOUT = "-"  # as an output path: standard output


def atomic_write(path: str, data: bytes) -> None:
    """Writes `data` to `path` so that a crash never leaves half a file.

    A regular file (or a new one) is written beside `path` and renamed over it. A symlink is
    followed: its target is replaced and the link kept. Anything else, a device such as
    /dev/null or a FIFO, is written to in place (a rename would replace it with a regular
    file), and `STDOUT` is standard output. A full disk is a `UsageError` naming `path` and the
    bytes it needed; any other failure is an `OSError` naming `path` (not a temporary file).
    """
    if path == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = os.path.realpath(path)  # the file a symlink points to, which is what is written
    try:
        if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
            with open(target, "wb") as f:
                _write_all(f.fileno(), data)
            return
        _replace(target, data)
    except OSError as e:
        raise _named(e, path, len(data)) from None


def _named(error: OSError, path: str, needed: int) -> Exception:
    """`error` as the user should read it: a full disk as a `UsageError` with the bytes
    `needed`, anything else as an `OSError` naming `path` rather than a temporary file."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return UsageError(no_space_message(path, needed))
    return OSError(error.errno, error.strerror, path)


def _replace(path: str, data: bytes) -> None:
    with atomic_writer(path) as f:
        f.write(data)


@contextlib.contextmanager
def atomic_writer(path: str) -> Iterator[BinaryIO]:
    """A regular file to write in parts (the encoded ids of a corpus): a temporary file beside
    `path`, renamed over it when the block ends, deleted when it raises."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    except OSError as e:  # e.g. a folder that takes no new files, such as /proc
        raise _named(e, path, 0) from None
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def no_space_message(path: str, needed: int) -> str:
    """One line for a full disk: the path, the bytes it needed and what is free there."""
    free = shutil.disk_usage(_existing_parent(path)).free
    return (f"no space left on the device of {path}: writing it needs {format_bytes(needed)} "
            f"and {format_bytes(free)} are free; free some space or write elsewhere")


def format_bytes(count: float) -> str:
    """``1,000 bytes``, ``3.2 MB``, ``1.5 TB``: binary multiples, as `df -h` counts."""
    if count < 1024:
        return f"{count:,.0f} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        count /= 1024
        if count < 1024 or unit == "TB":
            return f"{count:,.1f} {unit}"


def _existing_parent(path: str) -> str:
    path = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return path


def is_special(path: str) -> bool:
    """Whether writing `path` writes to a stream rather than replacing a file: standard output,
    a device, a FIFO or a socket (after following symlinks)."""
    if path == STDOUT:
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    except OSError:
        return False


def check_output(flag: str, path: str, overwrite: bool = False) -> None:
    """The rule every command applies to a file it will write, before it starts work: raises a
    `UsageError` naming `flag` when `path` is a folder, lies in a folder that does not exist
    (nothing creates folders the user did not ask for), lies inside a model folder (only the
    trainer writes there), or names an existing file and `overwrite` is False. Devices, FIFOs
    and `STDOUT` are written to, so they pass."""
    if path == STDOUT or is_special(path):
        return
    if os.path.isdir(path):
        raise UsageError(f"--{flag} {path} is a folder; give a file name")
    directory = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--{flag} {path}: the folder {directory} does not exist; create it "
                         "or write elsewhere")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"--{flag} {path}: the folder {directory} is not writable; write "
                         "elsewhere")
    model = model_folder_holding(directory)
    if model is not None:
        raise UsageError(f"--{flag} {path} lies in the model folder {model}, which only "
                         "train.py writes; write elsewhere")
    if os.path.lexists(path) and not overwrite:
        raise UsageError(f"--{flag} {path} exists already; pass --overwrite to replace it, or "
                         "choose another path")


def check_output_folder(flag: str, path: str, overwrite: bool = False) -> None:
    """`check_output` for a command that writes a folder (an export): a `UsageError` when
    `path` is a file, lies in a missing folder or a model folder, or is a folder that holds
    files and `overwrite` is False."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--{flag} {path} is a file; give a folder")
    parent = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"--{flag} {path}: the folder {parent} does not exist; create it or "
                         "write elsewhere")
    model = model_folder_holding(path if os.path.isdir(path) else parent)
    if model is not None:
        raise UsageError(f"--{flag} {path} lies in the model folder {model}, which only "
                         "train.py writes; write elsewhere")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise UsageError(f"--{flag} {path} exists already and holds files; pass --overwrite to "
                         "replace them, or choose another folder")


# A folder holding both is a model folder (`lstm_core.saved.ModelFolder`).
MODEL_FOLDER_FILES = ("config.json", "vocabulary.vocab")


def model_folder_holding(directory: str) -> str | None:
    """The model folder that is `directory` or one of its parents, if any."""
    directory = os.path.realpath(directory)
    while True:
        if all(os.path.isfile(os.path.join(directory, name)) for name in MODEL_FOLDER_FILES):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
