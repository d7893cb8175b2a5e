"""Shared by the tests: the data folder checked out beside the project (``../shared/data``);
Ctrl-C reaching the commands the tests start; one XLA compilation cache for all of them."""

import atexit
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# A process started with SIGINT ignored (pytest-xdist's workers are) passes that on to every
# command it starts, and the tests that press Ctrl-C on train.py or sample.py would wait
# forever. A handled signal is reset to its default in the child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Most tests train and sample the same tiny models, each in a new process that compiles the
# same XLA computations again: TensorFlow's persistent cache lets a later command load what an
# earlier one compiled (a folder per test process, so that no two pytest-xdist workers write one
# file at once), about halving a tiny model's first step (5.8 s to 3.0 s on 2 cores). Entries are
# keyed by the whole computation, so a cached one is the one that would be compiled.
if "tf_xla_persistent_cache_directory" not in os.environ.get("TF_XLA_FLAGS", ""):
    XLA_CACHE = tempfile.mkdtemp(prefix="lstm-core-xla-")
    atexit.register(shutil.rmtree, XLA_CACHE, ignore_errors=True)
    os.environ["TF_XLA_FLAGS"] = " ".join(filter(None, [
        os.environ.get("TF_XLA_FLAGS"), f"--tf_xla_persistent_cache_directory={XLA_CACHE}"]))


@pytest.fixture
def shared_data():
    """``shared_data("text", "tinyshakespeare.txt")``: that path under ``../shared/data``; the
    test is skipped, naming the path, when it is absent."""
    def path(*parts: str) -> Path:
        found = SHARED_DATA.joinpath(*parts)
        if not found.exists():
            pytest.skip(f"{found} is absent (../shared/data is not checked out beside the "
                        "project)")
        return found

    return path
