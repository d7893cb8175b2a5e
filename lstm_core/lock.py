"""One trainer per model: a lock file beside the model folder.

``logs/<model_name>.lock`` holds an exclusive `fcntl.flock` for as long as the trainer runs, and
says who holds it (process id, host, start time, command). The kernel releases a flock when its
process ends, however it ends, so a lock file left by a killed process is stale and the next
trainer takes it over. The file sits beside the folder, not in it, so that ``--fresh`` (which
moves the folder aside) keeps it.

Under several workers (``TF_CONFIG``) only the chief takes the lock: the other workers write
nothing into the model folder.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import shlex
import socket
import sys
import time

from lstm_core.errors import UsageError
from lstm_core.files import new_folders, writing
from lstm_core.progress import Report, silent_report


class ModelLock:
    """An exclusive lock on one model folder; a context manager (`with ModelLock(root):`).

    `chief`: False on the workers of a cluster other than the chief, which take no lock.
    """

    def __init__(self, model_root: str, chief: bool = True):
        self.model_root = os.path.normpath(model_root)
        self.path = self.model_root + ".lock"
        self.chief = chief
        self._file = None

    def hold_until_exit(self, report: Report = silent_report) -> "ModelLock":
        """Takes the lock and keeps it until the process ends."""
        atexit.register(self.release)
        return self.acquire(report)

    def acquire(self, report: Report = silent_report) -> "ModelLock":
        """Takes the lock, or raises a `UsageError` naming the process that holds it (or the
        full disk that cannot hold the lock file: `lstm_core.files.writing`). Taking over the
        lock of a process that ended is said through `report`."""
        if not self.chief:
            return self
        holder = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                             "command": shlex.join(sys.argv)}) + "\n"
        folder = os.path.dirname(os.path.abspath(self.path))
        with new_folders(folder), writing(self.path, len(holder.encode())):
            self._file = self._take(holder, report)
        return self

    def _take(self, holder: str, report: Report):
        """The lock file, locked and holding `holder`."""
        while True:
            file = open(self.path, "a+", encoding="utf-8")
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holding = _describe(_read_holder(file))
                file.close()
                raise UsageError(f"model {self.model_root} is being trained by {holding}; wait "
                                 f"for it to end, or stop it, then run the command again "
                                 f"(the lock is {self.path})") from None
            # A releasing holder deletes the file after we opened it: lock the new one instead.
            if _same_file(file, self.path):
                break
            file.close()
        stale = _read_holder(file)
        if stale:  # its process ended without releasing it (killed): the kernel freed the lock
            report(f"taking over the lock {self.path} of {_describe(stale)}, which has ended")
        try:
            file.seek(0)
            file.truncate()
            file.write(holder)
            file.flush()
        except OSError:  # a full disk: no lock file is left behind
            os.unlink(self.path)
            with contextlib.suppress(OSError):  # closing flushes the same unwritten line
                file.close()
            raise
        return file

    def release(self) -> None:
        """Deletes the lock file and releases the lock (deleting first: a waiting process that
        opened the old file notices it is gone)."""
        if self._file is None:
            return
        with contextlib.suppress(FileNotFoundError):  # removed with its folder by hand
            os.unlink(self.path)
        self._file.close()
        self._file = None

    def __enter__(self) -> "ModelLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def is_chief(tf_config: str | None = None) -> bool:
    """Whether this process writes the model folder: without ``TF_CONFIG``, yes; with it, the
    task of type ``chief``, or worker 0 of a cluster that has no chief."""
    tf_config = os.environ.get("TF_CONFIG") if tf_config is None else tf_config
    if not tf_config:
        return True
    try:
        config = json.loads(tf_config)
        task, cluster = config.get("task", {}), config.get("cluster", {})
    except (ValueError, AttributeError):
        raise UsageError("TF_CONFIG is not valid JSON with a cluster and a task; see "
                         "docs/files.md") from None
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)


def _read_holder(file) -> dict:
    file.seek(0)
    try:
        return json.loads(file.read() or "{}")
    except ValueError:
        return {}


def _describe(holder: dict) -> str:
    if not holder:
        return "another process"
    return (f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('started')}"
            f" ({holder.get('command')})")


def _same_file(file, path: str) -> bool:
    try:
        return os.path.samestat(os.fstat(file.fileno()), os.stat(path))
    except FileNotFoundError:
        return False
