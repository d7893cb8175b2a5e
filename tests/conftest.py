"""Shared by the tests: the data folder checked out beside the project (``../shared/data``);
the tiny text, band and jazz models that several test files only read, trained once (with
`--dist loadscope`, those files run in one test process); the slowest files first; two logical
CPUs in each test process; Ctrl-C reaching the commands the tests start; XLA compiling quickly,
with one compilation cache for all of them."""

import atexit
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from apps import train_py

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# A process started with SIGINT ignored (pytest-xdist's workers are) passes that on to every
# command it starts, and the tests that press Ctrl-C on train.py or sample.py would wait
# forever. A handled signal is reset to its default in the child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The tests' models are tiny: LLVM's optimisations of each XLA computation take far longer than
# running it ever does (a tiny trainer's first three steps: 5.0 CPU s, 3.7 without them). The
# computations are the same; only their machine code is less optimised.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = " ".join(filter(None, [
        os.environ.get("XLA_FLAGS"), "--xla_backend_optimization_level=0"]))

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


def pytest_configure(config):
    """Splits this process's CPU into two logical devices before TensorFlow starts, so that the
    tests of two replicas (`MirroredStrategy` over ``/cpu:0`` and ``/cpu:1``) run in the pytest
    process. One device is what everything else uses: the project mirrors over GPUs only."""
    if getattr(config, "workerinput", None) is None and config.getoption("numprocesses", None):
        # pytest-xdist's controller runs no test: it need not load TensorFlow. It hands out the
        # files in the order collected, `SLOWEST_FIRST`, rather than by their number of tests.
        config.option.loadscopereorder = False
        return
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: a test process for each core and one more (unless
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` says). A test that waits on a process it started, or on a
    FIFO or a timeout, leaves its core to the spare one (on 2 cores, the suite took 303 s with 3
    test processes, 317 s with 2 and 327 s with 4)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) + 1


# The files that take longest, first (measured on 2 cores; files not named follow in their own
# order). pytest-xdist hands each worker a whole file at a time (`--dist loadscope`), and a long
# file begun last would leave one core working alone at the end.
SLOWEST_FIRST = ("test_sampler.py", "test_trainer.py", "test_attention.py", "test_cli.py",
                 "test_distributed.py", "test_api_sample.py", "test_lookback.py",
                 "test_fast_paths.py", "test_music_cli.py", "test_inspect.py")
# The files that use the session's models below run on one worker, which trains each model once.
SHARED_MODELS = {"text_model", "band_model", "jazz_model"}
SHARING_FILES = {"test_sampler.py", "test_attention.py", "test_api_sample.py", "test_export.py",
                 "test_jazz_cli.py"}


def pytest_collection_modifyitems(items):
    rank = {name: place for place, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    unlisted = {item.path.name for item in items
                if SHARED_MODELS & set(item.fixturenames)} - SHARING_FILES
    if unlisted:
        raise pytest.UsageError(f"{', '.join(sorted(unlisted))} use a session model: add them "
                                "to SHARING_FILES in tests/conftest.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope`, a scope per file, with `SHARING_FILES` as one scope. (pytest-xdist's
    own groups, `--dist loadgroup`, rename the tests' ids, which pytest 9 ignores: each test
    would run on its own.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return "the session's models" if Path(path).name in SHARING_FILES else path

    return FileScopes(config, log)


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


FIRST_LINE = "the cat sat on the mat, the dog ran far away."  # text_model's corpus: its seed


@pytest.fixture(scope="session")
def text_model(tmp_path_factory):
    """A folder where a tiny text model, ``words``, was trained (5 steps) on 200 lines of
    `FIRST_LINE`; tests write their samples there under names of their own."""
    path = tmp_path_factory.mktemp("sampling")
    (path / "words.txt").write_text((FIRST_LINE + "\n") * 200, encoding="utf-8")
    train_py(path, training_file="words.txt", model_name="words", units=16, embedding_size=8,
             batch_size=4, sequence_length=16, max_steps=5, sample_every=0,
             histogram_frequency=0)
    return path


@pytest.fixture(scope="session")
def band_model(tmp_path_factory):
    """The folder of a tiny music model, ``band``, of the default options (attention, lookback),
    trained (3 steps) on two synthetic band pieces (tests/band.py): piano, guitar, bass, drums.
    Tests load it (`lstm_core.load`) and must not write into it."""
    from band import band_folder
    from lstm_core import train

    path = tmp_path_factory.mktemp("band")
    band_folder(path)
    trained = train(str(path / "songs"), logdir=str(path / "logs"), model_name="band",
                    units=16, batch_size=4, sequence_length=16, max_steps=3, sample_every=0,
                    histogram_frequency=0)
    return trained.folder.root


METHENY = SHARED_DATA / "midi" / "jazz" / "original_metheny.mid"


@pytest.fixture(scope="session")
def jazz_model(tmp_path_factory):
    """A folder where a jazz model, ``jazz``, was trained (30 steps, deepjazz's setup) on Pat
    Metheny's solo of ../shared/data (skipped when it is absent)."""
    if not METHENY.exists():
        pytest.skip(f"{METHENY} is absent (../shared/data is not checked out beside the project)")
    path = tmp_path_factory.mktemp("jazz")
    train_py(path, training_file=str(METHENY), encoding="jazz", vocabulary_file="jazz.vocab",
             model_name="jazz", preset="djmodel", max_steps=30)
    return path
