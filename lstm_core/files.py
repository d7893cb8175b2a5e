"""Writing files so that a crash never leaves a half-written one, and nothing is replaced that
should not be: every file the project writes (vocabularies, model configs, samples, MIDI,
audio, pictures, caches) goes through `atomic_write`, and every command checks its outputs
with `check_output` before it starts (the rules: docs/files.md)."""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
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


# What a write can fail with that is the storage's, not the path's: a full disk, a full quota, a
# read-only file system. TensorFlow's own writers (SavedModel, checkpoints) report them as
# errors of their own whose message holds the system's text for these codes.
STORAGE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def storage_failure(error: BaseException, path: str, needed: int) -> UsageError | None:
    """The one line for `error` when the storage of `path` failed (`STORAGE_ERRORS`, as an
    `OSError` or in TensorFlow's message), else None: the bytes `needed` and what is free, or
    that the file system is read-only."""
    code = error.errno if isinstance(error, OSError) else next(
        (c for c in STORAGE_ERRORS if os.strerror(c) in str(error)), None)
    if code == errno.EROFS:
        return UsageError(f"the file system of {path} is read-only; write elsewhere")
    if code in STORAGE_ERRORS:
        return UsageError(no_space_message(path, needed))
    return None


@contextlib.contextmanager
def writing(path: str, needed: int) -> Iterator[None]:
    """The one path every write goes through: within the block, a full disk, quota or read-only
    file system (`storage_failure`) becomes a `UsageError` naming `path` and the bytes
    `needed`; the caller removes what it left half written."""
    try:
        yield
    except Exception as e:
        failure = storage_failure(e, path, needed)
        if failure is None:
            raise
        raise failure from None


def _named(error: OSError, path: str, needed: int) -> Exception:
    """`error` as the user should read it: a storage failure (`storage_failure`) as a
    `UsageError`, anything else as an `OSError` naming `path` rather than a temporary file."""
    return storage_failure(error, path, needed) or OSError(error.errno, error.strerror, path)


def _replace(path: str, data: bytes) -> None:
    with atomic_writer(path, len(data)) as f:
        f.write(data)


@contextlib.contextmanager
def atomic_writer(path: str, needed: int = 0) -> Iterator[BinaryIO]:
    """A regular file to write in parts (the encoded ids of a corpus): a temporary file beside
    `path`, renamed over it when the block ends, deleted when it raises. A full disk is the
    `UsageError` of `writing`, with the `needed` bytes."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    except OSError as e:  # e.g. a folder that takes no new files, such as /proc
        raise _named(e, path, needed) from None
    try:
        with writing(path, needed):
            os.chmod(temporary, 0o666 & ~_umask())  # as open() would create it, not mkstemp's
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


# Written into every folder an export writes: the mark of a folder `--overwrite` may replace.
EXPORT_MARKER = ".lstm-core-export"


def check_output_folder(flag: str, path: str, overwrite: bool = False) -> None:
    """`check_output` for a command that writes a folder (an export), before it starts: a
    `UsageError` when `path` is empty or a file, lies in a model folder or below a file or an
    unwritable folder, is a folder never to replace (`_never_replaced`), or is a folder that
    holds files and either `overwrite` is False or no export of this project wrote it (it has
    no `EXPORT_MARKER`, or holds a model folder). Missing parent folders are fine: the command
    creates them (`new_folders`)."""
    if not path.strip():
        raise UsageError(f"--{flag} is empty; give the folder to write, such as exported/lyrics")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--{flag} {path} is a file; give a folder")
    real = os.path.realpath(path)
    never = _never_replaced(real)
    if never:
        raise UsageError(f"--{flag} {path} is {never}, which is never replaced; give a folder "
                         "of its own, such as exported/lyrics")
    existing = real if os.path.isdir(real) else _existing_parent(real)
    if not os.path.isdir(existing):
        raise UsageError(f"--{flag} {path}: {existing} is a file, not a folder; write elsewhere")
    if not os.access(existing, os.W_OK):
        raise UsageError(f"--{flag} {path}: the folder {existing} is not writable; write "
                         "elsewhere")
    model = model_folder_holding(existing)
    if model is not None:
        raise UsageError(f"--{flag} {path} lies in the model folder {model}, which only "
                         "train.py writes; write elsewhere")
    if not os.path.isdir(real) or not os.listdir(real):
        return
    if not overwrite:
        raise UsageError(f"--{flag} {path} exists already and holds files; pass --overwrite to "
                         "replace an export, or choose another folder")
    if not os.path.isfile(os.path.join(real, EXPORT_MARKER)) or _holds_model_folder(real):
        raise UsageError(f"--{flag} {path} holds files no export wrote (an export has "
                         f"{EXPORT_MARKER}, and no model folder), and --overwrite replaces only "
                         "an export; choose another folder, or empty this one yourself")


def _never_replaced(real: str) -> str | None:
    """What `real` (a resolved path) is, when it is a folder no command replaces: the file
    system's root, the home folder, or the current folder or one above it."""
    here = os.path.realpath(os.curdir)
    if real == os.path.dirname(real):
        return "the file system's root"
    if real == os.path.realpath(os.path.expanduser("~")):
        return "the home folder"
    if here == real or here.startswith(os.path.join(real, "")):
        return "the current folder or one above it"
    return None


def _holds_model_folder(directory: str) -> bool:
    return any(all(name in names for name in MODEL_FOLDER_FILES)
               for _, _, names in os.walk(directory))


@contextlib.contextmanager
def new_folders(directory: str) -> Iterator[None]:
    """Creates `directory` and its missing parents; removes those it created when the block
    raises, so that a failed command leaves the folders as they were."""
    missing = []
    directory = os.path.abspath(directory)
    while not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    made = []
    try:
        for folder in reversed(missing):  # outermost first
            with writing(folder, 0):
                os.mkdir(folder)
            made.append(folder)
        yield
    except BaseException:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


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


def model_root(log_dir: str, model_name: str) -> str:
    """The folder of `model_name`: ``<log_dir>/<model_name>`` for a name (one or more path
    components, none empty, ``.`` or ``..``), or the path itself for an explicit path (one that
    starts with ``/``, ``./`` or ``../``), which must not be the log folder, the current folder
    or one above it. Anything else is a `UsageError`."""
    explicit = model_name.startswith(("/", "./", "../"))
    if explicit:
        root = os.path.normpath(model_name)
        here = os.path.abspath(os.curdir)
        if (os.path.abspath(root) in (os.path.abspath(log_dir), here)
                or here.startswith(os.path.join(os.path.abspath(root), ""))):
            raise UsageError(f"--model_name {model_name} is the log folder, the current folder "
                             "or one above it; give a folder of its own, such as ./models/lyrics")
        return root
    if any(part in ("", ".", "..") for part in model_name.split("/")):
        raise UsageError(f"--model_name {model_name!r} is not a model name; give a name such "
                         f"as lyrics (kept in {log_dir}/lyrics), or an explicit path that starts "
                         "with /, ./ or ../")
    return os.path.join(log_dir, model_name)


def no_trained_model(model_name: str, root: str) -> UsageError:
    return UsageError(f"--model_name {model_name}: no trained model in {root}; train one with: "
                      f"python train.py --model_name {shlex.quote(model_name)} ...")


def require_model_folder(log_dir: str, model_name: str) -> str:
    """The folder of `model_name` (`model_root`), or a `UsageError` when it holds no model:
    the check a command makes before it loads TensorFlow."""
    root = model_root(log_dir, model_name)
    if model_folder_holding(root) != os.path.realpath(root):
        raise no_trained_model(model_name, root)
    return root


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
