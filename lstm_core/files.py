"""Writing files so that a crash never leaves a half-written one: every file the project
writes (vocabularies, model configs, samples, MIDI, audio, pictures, caches) goes through
`atomic_write`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import BinaryIO, Iterator


def atomic_write(path: str, data: bytes) -> None:
    """Writes `data` to a temporary file beside `path`, then renames it over `path`."""
    with atomic_writer(path) as f:
        f.write(data)


@contextlib.contextmanager
def atomic_writer(path: str) -> Iterator[BinaryIO]:
    """A binary file to write in parts: a temporary file beside `path`, renamed over it when the
    block ends without an exception (and deleted when it raises)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
