"""Inputs that are not regular files: a FIFO (``mkfifo``, a shell's ``<(command)``), a device or
a socket, given as ``--training_file`` or ``--input_file``.

Such an input is opened without blocking and waited on for at most `WAIT_SECONDS`: one that
gives nothing in that time (a FIFO nobody writes to, a terminal) is a `UsageError` instead of a
wait forever. What it gives is copied once into a temporary regular file (`local_copy`),
since a corpus is read more than once (counted, then encoded) and a stream can be read only
once. The copy must look like UTF-8 text or MIDI, so that a device such as /dev/zero or
/dev/urandom is refused at its first chunk rather than copied until the disk is full.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import os
import select
import stat
import tempfile
from typing import Iterator

from lstm_core.errors import UsageError
from lstm_core.files import writing

WAIT_SECONDS = 5.0  # for the first bytes (or the end) of a stream
CHUNK_BYTES = 1 << 20
MIDI_MAGIC = b"MThd"


def is_stream(path: str) -> bool:
    """Whether `path` exists and is neither a regular file nor a folder (symlinks followed)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def read_stream(path: str, flag: str) -> Iterator[bytes]:
    """The bytes of the stream `path`, chunk by chunk, until it ends; a `UsageError` naming
    `flag` when it is a socket, or gives neither bytes nor its end within `WAIT_SECONDS`."""
    if stat.S_ISSOCK(os.stat(path).st_mode):
        raise UsageError(f"{flag} {path} is a socket, which cannot be read as a file; give a "
                         "file or a FIFO")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        started = False
        while True:
            # Once it has started, a stream is waited on as long as it takes, as a file is.
            if not select.select([fd], [], [], None if started else WAIT_SECONDS)[0]:
                raise UsageError(f"{flag} {path} gave nothing within {WAIT_SECONDS:g} s (a FIFO "
                                 "that nothing writes to?); start what writes to it first, or "
                                 "give a regular file")
            try:
                chunk = os.read(fd, CHUNK_BYTES)
            except BlockingIOError:  # woken without data (a device's quirk): wait again
                continue
            if not chunk:
                return
            started = True
            yield chunk
    finally:
        os.close(fd)


def not_utf8(path: str, flag: str, offset: int, byte: bytes) -> UsageError:
    return UsageError(f"{flag} {path} is not UTF-8 (byte {offset}: {byte!r}); convert it, for "
                      "example with iconv -t UTF-8")


def local_copy(path: str, flag: str) -> str:
    """A temporary regular file holding what the stream `path` gives (deleted when the process
    ends; it keeps the suffix of `path`, which says what kind of file it is). A `UsageError`
    naming `flag` when the stream gives nothing, binary data that is not MIDI, or text that is
    not UTF-8."""
    fd, copy = tempfile.mkstemp(prefix="lstm-core-input-", suffix=os.path.splitext(path)[1])
    atexit.register(_remove, copy)
    decoder, done = None, 0
    with os.fdopen(fd, "wb") as f, writing(copy, 0):
        for chunk in read_stream(path, flag):
            if not done and not chunk.startswith(MIDI_MAGIC):
                decoder = codecs.getincrementaldecoder("utf-8")()  # text: checked as it comes
                if b"\x00" in chunk:
                    raise UsageError(f"{flag} {path} gives binary data (NUL bytes) that is not "
                                     "MIDI; give UTF-8 text or a MIDI file")
            if decoder is not None:
                _check_utf8(decoder, chunk, done, path, flag)
            f.write(chunk)
            done += len(chunk)
    if not done:
        raise UsageError(f"{flag} {path} ended without giving anything; give a file with the "
                         "corpus, or start what writes to it")
    if decoder is not None:
        _check_utf8(decoder, b"", done, path, flag, final=True)
    return copy


def _check_utf8(decoder, chunk: bytes, done: int, path: str, flag: str,
                final: bool = False) -> None:
    pending = len(decoder.getstate()[0])  # bytes of a character the last chunk split
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError as e:
        raise not_utf8(path, flag, done - pending + e.start,
                       e.object[e.start:e.start + 1]) from None


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
