"""Hostile and careless input: outputs that are devices, FIFOs, symlinks, existing files or
model folders; two trainers on one model; a full disk; sizes and numbers that cannot work; a
model folder edited by hand. Each ends in one line and exit status 2, or succeeds as
docs/files.md says, and nothing that existed before is changed without --overwrite.

The commands run in the pytest process (`apps`), but for the flag values the apps refuse as they
parse the command line: those run as subprocesses side by side (`run_all`), each ending before
TensorFlow loads."""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from apps import sample_py, train_py
from test_cli import VERSE, assert_usage_error

from lstm_core import checkpoints, files, limits
from lstm_core.errors import UsageError
from lstm_core.lock import ModelLock, is_chief

ROOT = Path(__file__).resolve().parents[1]
TINY_OPTIONS = dict(units=16, embedding_size=8, batch_size=8, sequence_length=20, sample_every=0,
                    histogram_frequency=0)
TINY = [f"--{name}={value}" for name, value in TINY_OPTIONS.items()]  # as flags
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def command(script, *flags):
    target = ["-m", script] if script.startswith("lstm_core.") else [str(ROOT / script)]
    return [sys.executable, *target, *flags]


def run_all(commands: dict, cwd) -> dict:
    """Runs the named commands in `cwd` side by side; their results by name."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = {name: subprocess.Popen(argv, cwd=cwd, env=environment, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for name, argv in commands.items()}
    results = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=600)
        results[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return results


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny text model after 4 steps (checkpoints at steps 2 and 4)."""
    path = tmp_path_factory.mktemp("hostile")
    (path / "lyrics.txt").write_text(VERSE * 60, encoding="utf-8")
    train_py(path, training_file="lyrics.txt", model_name="tiny", max_steps=4, checkpoint_every=2,
             **TINY_OPTIONS)
    return path


def model_copy(trained, tmp_path, name) -> Path:
    """A copy of the trained model in its own log folder `tmp_path/name`."""
    shutil.copytree(trained / "logs" / "tiny", tmp_path / name / "tiny")
    return tmp_path / name / "tiny"


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# ---- writing: devices, FIFOs, symlinks, standard output ---------------------------------------
def test_a_device_stays_a_device(tmp_path):
    """A rename over /dev/null would turn it into a regular file (as root); a node of our own
    stands in for it, since a test must not risk the real one."""
    if not IS_ROOT:
        pytest.skip("making a device node needs root")
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    files.atomic_write(str(null), b"a sample")
    assert stat.S_ISCHR(os.stat(null).st_mode)
    files.check_output("output_file", str(null))  # a device is written to, never "kept"


def test_a_fifo_is_written_to_not_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    files.atomic_write(str(fifo), b"through the pipe")
    assert reader.communicate(timeout=30)[0] == b"through the pipe"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_is_followed_and_kept(tmp_path):
    (tmp_path / "target.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to("target.txt")
    files.atomic_write(str(tmp_path / "link.txt"), b"new")
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "target.txt").read_text() == "new"
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to("made.txt")
    files.atomic_write(str(dangling), b"made")
    assert dangling.is_symlink() and (tmp_path / "made.txt").read_text() == "made"


def test_dash_is_standard_output(capfd):
    files.atomic_write("-", b"to stdout")
    assert capfd.readouterr().out == "to stdout"


def test_a_failed_write_names_the_path_not_a_temporary_file(tmp_path):
    missing = tmp_path / "no" / "such" / "x.vocab"
    (tmp_path / "no").write_text("a file, not a folder")
    with pytest.raises(OSError) as raised:
        files.atomic_write(str(missing), b"x")
    assert raised.value.filename == str(missing)


# ---- the output rule: existing files, folders, model folders ----------------------------------
def test_check_output_keeps_files_and_model_folders(tmp_path):
    (tmp_path / "keep.txt").write_text("kept")
    with pytest.raises(UsageError, match="exists already; pass --overwrite"):
        files.check_output("output_file", str(tmp_path / "keep.txt"))
    files.check_output("output_file", str(tmp_path / "keep.txt"), overwrite=True)
    files.check_output("output_file", str(tmp_path / "new.txt"))
    model = tmp_path / "logs" / "m"
    (model / "checkpoints").mkdir(parents=True)
    for name in files.MODEL_FOLDER_FILES:
        (model / name).write_text("{}")
    (tmp_path / "into_model").symlink_to(model / "checkpoints")
    for inside in (model / "vocabulary.vocab", model / "new.txt", model / "checkpoints" / "x",
                   tmp_path / "into_model" / "y.txt"):
        with pytest.raises(UsageError, match="lies in the model folder"):
            files.check_output("output_file", str(inside), overwrite=True)
    with pytest.raises(UsageError, match="is a folder"):
        files.check_output("png", str(tmp_path), overwrite=True)
    files.check_output("output_file", "-")


# ---- a full disk ---------------------------------------------------------------------------------
@pytest.fixture
def full_device(tmp_path):
    """A device that answers every write with ENOSPC: a /dev/full node of our own as root,
    else /dev/full itself (which a non-root rename cannot replace)."""
    if IS_ROOT:
        full = tmp_path / "full"
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        return str(full)
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    return "/dev/full"


def test_disk_full_on_write_is_one_line_naming_path_and_size(full_device):
    with pytest.raises(UsageError) as raised:
        files.atomic_write(full_device, b"x" * 3000)
    assert f"no space left on the device of {full_device}" in str(raised.value)
    assert "needs 2.9 KB" in str(raised.value)


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 256 KB tmpfs, where the machine lets us mount one (root); skipped elsewhere, where
    `full_device` and the injected failure below cover a full disk."""
    mount = tmp_path / "small"
    mount.mkdir()
    if not IS_ROOT or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                                      str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_disk_full_keeps_the_previous_file(small_tmpfs):
    path = small_tmpfs / "sample.txt"
    files.atomic_write(str(path), b"previous")
    with pytest.raises(UsageError, match="sample.txt: writing it needs 1.0 MB"):
        files.atomic_write(str(path), b"x" * (1 << 20))
    assert path.read_bytes() == b"previous" and os.listdir(small_tmpfs) == ["sample.txt"]


def tiny_manager(directory):
    import tensorflow as tf

    from lstm_core.model import LanguageModel, ModelConfig

    model = LanguageModel(ModelConfig(40, embedding_size=8, units=64, layers=2))
    return tf.train.CheckpointManager(tf.train.Checkpoint(model=model), str(directory), 3), model


def test_disk_full_while_saving_a_checkpoint_keeps_the_last_one(small_tmpfs):
    manager, model = tiny_manager(small_tmpfs / "checkpoints")
    first = checkpoints.save(manager, 1)
    size = checkpoints.size(manager.checkpoint)
    assert size >= 4 * sum(v.shape.num_elements() for v in model.variables)
    free = shutil.disk_usage(small_tmpfs).free
    (small_tmpfs / "filler").write_bytes(b"\0" * (free - size // 2))
    with pytest.raises(UsageError) as raised:
        checkpoints.save(manager, 2)
    assert "no space left" in str(raised.value) and "ckpt-2" in str(raised.value)
    assert f"the checkpoint {first} is kept" in str(raised.value)
    assert checkpoints.latest(str(small_tmpfs / "checkpoints")) == first
    assert not list((small_tmpfs / "checkpoints").glob("*_temp*"))


def test_a_save_failing_with_enospc_is_a_usage_error(tmp_path):
    """The same translation, with ENOSPC injected, for machines that cannot mount a tmpfs."""
    import tensorflow as tf

    manager, model = tiny_manager(tmp_path)

    class FullDisk(type(manager)):
        def save(self, checkpoint_number=None):
            (tmp_path / f"ckpt-{checkpoint_number}_temp").mkdir()
            raise tf.errors.ResourceExhaustedError(
                None, None, "ckpt; No space left on device [Op:SaveV2]")

    manager.__class__ = FullDisk
    with pytest.raises(UsageError, match="no space left .* needs"):
        checkpoints.save(manager, 7)
    assert not (tmp_path / "ckpt-7_temp").exists()


def fill(mount: Path) -> None:
    (mount / "filler").write_bytes(b"\0" * shutil.disk_usage(mount).free)


def test_disk_full_for_the_lock_is_one_line_and_leaves_no_lock(small_tmpfs):
    fill(small_tmpfs)
    with pytest.raises(UsageError, match="no space left on the device of .*m.lock"):
        ModelLock(str(small_tmpfs / "logs" / "m")).acquire()  # nor the log folder it made
    assert os.listdir(small_tmpfs) == ["filler"]


def test_disk_full_while_exporting_leaves_nothing(small_tmpfs):
    from lstm_core.export import export
    from lstm_core.preprocessing import Vocabulary

    manager, model = tiny_manager(small_tmpfs)
    vocabulary = Vocabulary([chr(97 + n % 26) * (1 + n // 26) for n in range(40)])
    vocabulary.save(str(small_tmpfs / "v.vocab"))
    fill(small_tmpfs)
    with pytest.raises(UsageError, match="no space left on the device of .*out"):
        export(model, vocabulary, str(small_tmpfs / "v.vocab"), str(small_tmpfs / "new" / "out"))
    assert sorted(os.listdir(small_tmpfs)) == ["filler", "v.vocab"]  # no partial folder


def test_one_path_turns_every_storage_failure_into_one_line(tmp_path):
    import errno

    for error in (OSError(errno.ENOSPC, "No space left on device"),
                  OSError(errno.EDQUOT, "Disk quota exceeded"),
                  RuntimeError("SaveV2: No space left on device [Op:SaveV2]")):
        with pytest.raises(UsageError, match=f"no space left on the device of {tmp_path}"):
            with files.writing(str(tmp_path), 10):
                raise error
    with pytest.raises(UsageError, match="read-only; write elsewhere"):
        with files.writing(str(tmp_path), 10):
            raise OSError(errno.EROFS, "Read-only file system")
    with pytest.raises(OSError, match="denied"):  # not the storage's: as it was
        with files.writing(str(tmp_path), 10):
            raise PermissionError(errno.EACCES, "Permission denied")


# ---- inputs that are not files: FIFOs, devices ---------------------------------------------------
def test_a_fifo_with_no_writer_is_refused_and_one_with_a_writer_is_read(tmp_path, monkeypatch):
    from lstm_core import inputs
    from lstm_core.preprocessing import read_text_file

    monkeypatch.setattr(inputs, "WAIT_SECONDS", 0.2)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="--input_file .*fifo gave nothing within 0.2 s"):
        read_text_file(str(fifo), "--input_file")
    writer = subprocess.Popen(["sh", "-c", f"sleep 0.1; printf 'la la\\n' > {fifo}"])
    assert read_text_file(str(fifo), "--input_file") == "la la\n"
    writer.wait()
    for device, problem in (("/dev/null", "ended without giving anything"),
                            ("/dev/zero", "gives binary data")):
        with pytest.raises(UsageError, match=problem):
            read_text_file(device, "--input_file")


def test_a_corpus_from_a_fifo_is_read_once_into_a_copy(tmp_path):
    from lstm_core.corpus import load_corpus, vocabulary_and_ids

    fifo = tmp_path / "lyrics.txt"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"printf 'sing along\\n' > {fifo}"])
    corpus = load_corpus(str(fifo))
    writer.wait()
    assert corpus.source == str(fifo) and Path(corpus.file).read_text() == "sing along\n"
    vocabulary, ids, _ = vocabulary_and_ids(corpus, str(tmp_path / "v.vocab"))
    assert vocabulary.decode(ids) == "sing along\n"


# ---- checkpoints: a lost index, interrupted saves ------------------------------------------------
def test_a_lost_index_is_recovered_from_the_files(tmp_path):
    manager, model = tiny_manager(tmp_path)
    for step in (10, 20, 30):
        checkpoints.save(manager, step)
    (tmp_path / "checkpoint").unlink()
    for data in tmp_path.glob("ckpt-30.data-*"):
        data.unlink()  # the newest is damaged: the one before it is the newest readable
    (tmp_path / "ckpt-40_temp").mkdir()
    (tmp_path / "ckpt-40_temp" / "part-00000").write_bytes(b"half")
    (tmp_path / "best" / "ckpt-35_temp").mkdir(parents=True)  # the best checkpoint's too
    lines = []
    assert checkpoints.latest(str(tmp_path), lines.append) == str(tmp_path / "ckpt-20")
    assert lines[0].startswith("note: the checkpoint index") and lines[0].endswith("ckpt-20")
    lines.clear()
    checkpoints.tidy(str(tmp_path), lines.append)
    assert sorted(line.split(",")[0] for line in lines) == [
        f"removed {tmp_path / 'best' / 'ckpt-35_temp'}", f"removed {tmp_path / 'ckpt-40_temp'}",
        f"the checkpoint index of {tmp_path} was missing; rebuilt it from the files"]
    assert not (tmp_path / "ckpt-40_temp").exists()
    assert not (tmp_path / "best" / "ckpt-35_temp").exists()
    import tensorflow as tf

    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-20")
    assert checkpoints.model_sizes(str(tmp_path / "ckpt-20")) == {
        "vocabulary_size": 40, "embedding_size": 8, "units": 64, "layers": 2}


# ---- the lock ------------------------------------------------------------------------------------
def test_the_lock_names_its_holder_and_is_released(tmp_path):
    root = tmp_path / "logs" / "m"
    with ModelLock(str(root)) as held:
        assert json.loads(Path(held.path).read_text())["pid"] == os.getpid()
        with pytest.raises(UsageError, match=f"being trained by process {os.getpid()}"):
            ModelLock(str(root)).acquire()
    assert not os.path.exists(held.path)
    with ModelLock(str(root)):  # free again
        pass


def test_a_killed_holder_leaves_a_stale_lock_that_is_taken_over(tmp_path):
    root = tmp_path / "m"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from lstm_core.lock import ModelLock
            lock = ModelLock({str(root)!r}).acquire()
            print("held", flush=True)
            time.sleep(600)""")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(UsageError, match=f"process {holder.pid}"):
        ModelLock(str(root)).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert os.path.exists(str(root) + ".lock")  # left behind by the killed process
    lines = []
    ModelLock(str(root)).acquire(lines.append).release()
    [line] = lines
    assert line.startswith(f"taking over the lock {root}.lock of process {holder.pid}")


def test_only_the_chief_of_a_cluster_takes_the_lock(tmp_path):
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    assert is_chief(json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert not is_chief(json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    with_chief = {**cluster, "chief": ["localhost:3"]}
    assert is_chief(json.dumps({"cluster": with_chief, "task": {"type": "chief", "index": 0}}))
    assert not is_chief(json.dumps({"cluster": with_chief,
                                    "task": {"type": "worker", "index": 0}}))
    assert is_chief("")
    with ModelLock(str(tmp_path / "m"), chief=False):
        assert not os.path.exists(str(tmp_path / "m") + ".lock")


# ---- model names and limits ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["", ".", "..", "a/..", "../..", "a//b", "./", "/", "logs"])
def test_model_names_that_are_no_model_folder_are_refused(name, tmp_path, monkeypatch):
    from lstm_core.saved import model_root

    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="--model_name"):
        model_root("logs" if name != "logs" else "./logs", name if name != "logs" else "./logs")


def test_names_and_explicit_paths(tmp_path, monkeypatch):
    from lstm_core.saved import model_root

    monkeypatch.chdir(tmp_path)
    assert model_root("logs", "lyrics") == os.path.join("logs", "lyrics")
    assert model_root("logs", "band/v2") == os.path.join("logs", "band", "v2")
    assert model_root("logs", "./models/lyrics") == os.path.join("models", "lyrics")
    assert model_root("logs", "../elsewhere") == os.path.join("..", "elsewhere")
    assert model_root("logs", str(tmp_path / "m")) == str(tmp_path / "m")


def test_memory_estimates_refuse_what_cannot_fit():
    for sizes in ([1, 64, 1_000_000, 2, 50, 50], [1, 100_000_000, 128, 2, 50, 50],
                  [48, 64, 128, 2, 1_000_000, 1_000_000]):
        with pytest.raises(UsageError, match="needs about .* of memory"):
            limits.require_training_fits(*sizes)
    with pytest.raises(UsageError, match="at most 64 layers"):
        limits.require_training_fits(48, 64, 128, 100_000, 50, 50)
    limits.require_training_fits(48, 64, 128, 2, 50, 50)  # the default model fits anywhere
    # The estimate counts what a 2x128 model holds: weights, gradients and Adam's moments.
    assert limits.parameters(48, 64, 128, 2) == (48 * 64 + (64 + 129) * 512 + 257 * 512
                                                 + 129 * 48)


def test_sizes_of_a_sample_beyond_a_day_of_work_are_refused():
    from lstm_core.music.jazz.chords import parse_progression, solo_form

    limits.require_sample_bounds(None, 1, None, None, 1)  # the defaults
    limits.require_sample_bounds(limits.MAX_SAMPLE_LENGTH, 1, limits.MAX_BARS,
                                 limits.MAX_SECONDS, limits.MAX_BARS)
    for sizes, flag in (((limits.MAX_SAMPLE_LENGTH + 1, 1, None, None, 1), "--sample_length"),
                        ((None, limits.MAX_TOKENS, None, None, 1), "--num_samples"),
                        ((None, 1, limits.MAX_BARS + 1, None, 1), "--bars"),
                        ((None, 1, None, limits.MAX_SECONDS * 2, 1), "--seconds"),
                        ((None, 1, None, None, limits.MAX_BARS + 1), "--choruses")):
        with pytest.raises(UsageError, match=f"{flag} asks for .* in a day"):
            limits.require_sample_bounds(*sizes)
    chorus = parse_progression("C | G | F | C", 4)
    with pytest.raises(UsageError, match="a solo of 40,000,000 bars"):
        solo_form(chorus, choruses=10_000_000)
    assert len(solo_form(chorus, choruses=3)) == 12


def test_flags_for_another_kind_and_aliases_given_twice_are_refused():
    from absl import flags

    from lstm_core.corpus import refuse_options_not_for
    from lstm_core.kinds import TokenKind
    from lstm_core.options import define_flags, from_flags, replace
    from lstm_core.training_options import TrainOptions

    for argv, given_twice in ((["--epoch", "3"], False), (["--epochs", "3"], False),
                              (["--epochs", "1", "--epoch", "3"], True),
                              (["--epoch", "1", "--epochs", "3"], True)):
        values = flags.FlagValues()
        define_flags(TrainOptions, values)
        values(["app", *argv])
        if given_twice:
            with pytest.raises(UsageError, match="--epochs and --epoch are the same flag"):
                from_flags(TrainOptions, values)
        else:
            assert from_flags(TrainOptions, values)[0].epochs == 3
    options = replace(TrainOptions(), instruments="kazoo", melody_part="1")
    given = {"instruments", "melody_part"}
    refuse_options_not_for(TokenKind.JAZZ, {"melody_part"}, options, "")
    for kind, flag in ((TokenKind.CHARACTERS, "instruments"), (TokenKind.REMI, "melody_part"),
                       (TokenKind.JAZZ, "instruments")):
        with pytest.raises(UsageError, match=f"--{flag} .* needs .*, but it is {kind}"):
            refuse_options_not_for(kind, {flag}, options, f"it is {kind}")
    with pytest.raises(UsageError, match="--instruments kazoo needs"):
        refuse_options_not_for(TokenKind.CHARACTERS, given, options, "text")


# ---- the commands, as a user runs them -----------------------------------------------------------
def test_flag_values_no_option_takes_are_refused_in_one_line_before_tensorflow(tmp_path):
    """What the apps refuse as they parse the command line: not a finite number, a number
    beyond 64 bits, a flag given under two names. All run side by side."""
    train = ["--training_file", "lyrics.txt", *TINY]
    sample = ["--model_name", "tiny", "--output_file", "x.txt"]
    results = run_all({
        "nan temperature": command("sample.py", *sample, "--temperature", "nan"),
        "nan top_p": command("sample.py", *sample, "--top_p", "nan"),
        "infinite rate": command("train.py", *train, "--learning_rate", "inf"),
        "nan clip": command("train.py", *train, "--gradient_clip", "nan"),
        "huge seed": command("train.py", *train, "--random_seed", "9" * 24),
        "epochs twice": command("train.py", *train, "--epochs", "1", "--epoch", "3"),
        "units twice": command("train.py", *train, "--units", "16", "--units_number", "32"),
    }, tmp_path)
    expected = {
        "nan temperature": ["--temperature is nan"], "nan top_p": ["--top_p is nan"],
        "infinite rate": ["--learning_rate is inf"], "nan clip": ["--gradient_clip is nan"],
        "huge seed": ["--random_seed 999999999999999999999999 is too large"],
        "epochs twice": ["--epochs and --epoch are the same flag"],
        "units twice": ["--units and --units_number are the same flag"],
    }
    for name, fragments in expected.items():
        assert_usage_error(results[name], *fragments)
    assert list(tmp_path.iterdir()) == []


def hostile_cases(tmp_path) -> dict:
    """Each bad command of a user, run in the pytest process (`apps`), by name."""
    from lstm_core.preprocessing import write_vocabulary
    from lstm_core.trained_model import load

    sample = dict(model_name="tiny", sample_length=20, seed="Sing ")
    train = dict(training_file="lyrics.txt", vocabulary_file="lyrics.vocab", **TINY_OPTIONS)

    def export(output_dir, overwrite=False):
        load("tiny", logdir="logs").export(output_dir, overwrite)

    return {
        "existing": lambda: sample_py(tmp_path, **sample, output_file="keep.txt"),
        "model folder": lambda: sample_py(tmp_path, **sample, overwrite=True,
                                          output_file="logs/tiny/vocabulary.vocab"),
        "stdout twice": lambda: sample_py(tmp_path, **sample, output_file="-", num_samples=2),
        "tiny temperature": lambda: sample_py(tmp_path, **sample, output_file="x.txt",
                                              temperature=1e-9),
        "absurd length": lambda: sample_py(tmp_path, **{**sample, "sample_length": 10 ** 15},
                                           output_file="x.txt"),
        "short vocabulary": lambda: sample_py(tmp_path, **sample, output_file="x.txt",
                                              logdir="short"),
        "edited config": lambda: sample_py(tmp_path, **sample, output_file="x.txt",
                                           logdir="edited"),
        "inspect existing": lambda: load("tiny", logdir="logs").inspect("Sing", "keep.html"),
        "nan decay": lambda: train_py(tmp_path, **train, learning_rate_decay=float("nan")),
        "huge rate": lambda: train_py(tmp_path, **train, learning_rate=1e30),
        "huge units": lambda: train_py(tmp_path, **{**train, "units": 1000000}),
        "deep": lambda: train_py(tmp_path, **train, layers=100000),
        "wide embedding": lambda: train_py(tmp_path, **{**train, "embedding_size": 100000000}),
        "empty name": lambda: train_py(tmp_path, **train, model_name=""),
        "dot name": lambda: train_py(tmp_path, **train, model_name=".", fresh=True),
        "locked": lambda: train_py(tmp_path, **train, model_name="tiny", logdir="locked"),
        "proc": lambda: train_py(tmp_path, training_file="/proc/cpuinfo", model_name="cpu",
                                 **TINY_OPTIONS),
        "export over logs": lambda: export("logs", overwrite=True),
        "export over here": lambda: export(".", overwrite=True),
        "export over parent": lambda: export("..", overwrite=True),
        "export to ''": lambda: export(""),
        "fifo without writer": lambda: train_py(tmp_path, **{**train, "training_file": "fifo"}),
        "fifo to preprocess": lambda: write_vocabulary("fifo", "fifo.vocab"),
        "endless zeros": lambda: write_vocabulary("/dev/zero", "zero.vocab"),
        "bpe on text": lambda: train_py(tmp_path, **train, bpe_vocabulary=-1),
        "kazoo on text": lambda: train_py(tmp_path, **train, instruments="kazoo"),
        "jazz parts on remi": lambda: train_py(tmp_path, **train, melody_part="0"),
        "endless choruses": lambda: sample_py(tmp_path, model_name="tiny", output_file="solo.mid",
                                              chords="C | G", choruses=1000000000),
        "countless samples": lambda: sample_py(tmp_path, **sample, output_file="x.txt",
                                               num_samples=1000000000),
    }


def test_commands_refuse_hostile_input(trained, tmp_path, monkeypatch):
    """Each case on its own copy of the model."""
    from lstm_core import inputs

    monkeypatch.setattr(inputs, "WAIT_SECONDS", 0.2)  # for the FIFOs that nothing writes to
    (tmp_path / "keep.txt").write_text("kept")
    (tmp_path / "keep.html").write_text("kept")
    (tmp_path / "lyrics.txt").write_text(VERSE * 60)
    shutil.copy(trained / "lyrics.vocab", tmp_path / "lyrics.vocab")
    model = model_copy(trained, tmp_path, "logs")
    before = snapshot(model)
    short_vocabulary = model_copy(trained, tmp_path, "short")
    vocabulary = json.loads((short_vocabulary / "vocabulary.vocab").read_text())
    vocabulary["tokens"] = vocabulary["tokens"][:-3]
    (short_vocabulary / "vocabulary.vocab").write_text(json.dumps(vocabulary))
    edited_config = model_copy(trained, tmp_path, "edited")
    config = json.loads((edited_config / "config.json").read_text())
    (edited_config / "config.json").write_text(json.dumps({**config, "units": 32}))
    held = ModelLock(str(model_copy(trained, tmp_path, "locked"))).acquire()
    os.mkfifo(tmp_path / "fifo")  # that nothing writes to
    monkeypatch.chdir(tmp_path)
    expected = {
        "existing": ["--output_file keep.txt exists already", "--overwrite"],
        "model folder": ["lies in the model folder", "only train.py writes"],
        "stdout twice": ["--output_file - writes one sample"],
        "tiny temperature": ["temperature 1e-09", "greedy"],
        "absurd length": ["--sample_length asks for 1,000,000,000,000,000 tokens", "in a day"],
        "short vocabulary": ["short/tiny/vocabulary.vocab has", "trained with"],
        "edited config": ["edited/tiny/config.json does not match the checkpoint",
                          "units 32 (the checkpoint has 16)"],
        "inspect existing": ["--output_file keep.html exists already", "--overwrite"],
        "nan decay": ["learning_rate_decay is nan"],
        "huge rate": ["learning_rate 1e+30 is too large"],
        "huge units": ["needs about", "--units_number"],
        "deep": ["--layers_number 100000", "at most 64"],
        "wide embedding": ["needs about", "--embedding_size"],
        "empty name": ["--model_name ''"], "dot name": ["--model_name '.'"],
        "locked": ["being trained by process", str(os.getpid())],
        "proc": ["/proc/cpuinfo.vocab"],
        "export over logs": ["--output_dir logs holds files no export wrote"],
        "export over here": ["--output_dir . is the current folder or one above it"],
        "export over parent": ["--output_dir .. is the current folder or one above it"],
        "export to ''": ["--output_dir is empty"],
        "fifo without writer": ["--training_file fifo gave nothing within"],
        "fifo to preprocess": ["--input_file fifo gave nothing within"],
        "endless zeros": ["--input_file /dev/zero gives binary data"],
        "bpe on text": ["--bpe_vocabulary -1 needs music", "lyrics.txt is text"],
        "kazoo on text": ["--instruments kazoo needs music", "lyrics.txt is text"],
        "jazz parts on remi": ["--melody_part 0 needs --encoding jazz"],
        "endless choruses": ["--choruses asks for 1,000,000,000 choruses", "in a day"],
        "countless samples": ["--num_samples asks for 1,000,000,000 samples", "in a day"],
    }
    cases = hostile_cases(tmp_path)
    assert sorted(cases) == sorted(expected)
    for name, case in cases.items():
        # /proc takes no new file: an OSError naming it, which the apps say in one line too.
        with pytest.raises(OSError if name == "proc" else UsageError) as raised:
            case()
        for fragment in expected[name]:
            assert fragment in str(raised.value), (name, str(raised.value))
    held.release()
    assert (tmp_path / "keep.txt").read_text() == "kept"
    assert (tmp_path / "keep.html").read_text() == "kept"
    assert snapshot(model) == before
    assert sorted(os.listdir(tmp_path / "logs")) == ["tiny"]
    # Nothing new but the corpus's encoded ids, the cache train.py keeps beside a vocabulary.
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) in (
        ["keep.html", "keep.txt", "lyrics.txt", "lyrics.vocab"],
        ["keep.html", "keep.txt", "lyrics.txt", "lyrics.vocab", "lyrics.vocab.ids"])
    assert not (tmp_path / "logs" / "checkpoints").exists()  # nothing trained into the root


def test_commands_write_through_special_outputs_and_recover_lost_indexes(trained, tmp_path,
                                                                         monkeypatch):
    from lstm_core.preprocessing import Vocabulary, write_vocabulary
    from lstm_core.trained_model import load

    model = model_copy(trained, tmp_path, "logs")
    lost = model_copy(trained, tmp_path, "lost")
    (lost / "checkpoints" / "checkpoint").unlink()
    (lost / "checkpoints" / "ckpt-6_temp").mkdir()
    (tmp_path / "target.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to("target.txt")
    (tmp_path / "lyrics.txt").write_text("\ufeff" + VERSE * 60, encoding="utf-8")
    sample = dict(model_name="tiny", sample_length=20, seed="Sing ", random_seed=3)
    to_stdout = sample_py(tmp_path, **sample, output_file="-")
    sample_py(tmp_path, **sample, output_file="same.txt")
    sample_py(tmp_path, **sample, output_file="link.txt", overwrite=True)
    lost_sample = sample_py(tmp_path, **sample, logdir="lost", output_file="lost.txt")
    lost_train = train_py(tmp_path, training_file=str(trained / "lyrics.txt"),
                          vocabulary_file=str(trained / "lyrics.vocab"), model_name="tiny",
                          logdir="lost", max_steps=6, **TINY_OPTIONS)
    monkeypatch.chdir(tmp_path)
    write_vocabulary("lyrics.txt")
    load("tiny", logdir="logs").export("exported/songs")

    written = (tmp_path / "same.txt").read_text()
    assert to_stdout.stdout == written and written.startswith("Sing ")
    assert "wrote 20 characters" in to_stdout.stderr
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "target.txt").read_text() == written
    assert "index" in lost_sample.stderr and (tmp_path / "lost.txt").exists()
    assert "resuming model tiny from step 4" in lost_train.stdout
    assert "rebuilt it from the files" in lost_train.stdout
    assert "deprecat" not in lost_train.stderr.lower()  # the project's line only
    assert (tmp_path / "exported" / "songs" / files.EXPORT_MARKER).is_file()
    assert not (lost / "checkpoints" / "ckpt-6_temp").exists()
    assert (lost / "checkpoints" / "ckpt-6.index").exists()
    assert "\ufeff" not in Vocabulary.load(str(tmp_path / "lyrics.vocab")).tokens
    assert snapshot(model) == snapshot(trained / "logs" / "tiny")


def test_a_folder_to_write_follows_the_same_rule(tmp_path, monkeypatch):
    (tmp_path / "exported").mkdir()
    (tmp_path / "exported" / "model.json").write_text("{}")
    with pytest.raises(UsageError, match="holds files; pass --overwrite"):
        files.check_output_folder("output_dir", str(tmp_path / "exported"))
    with pytest.raises(UsageError, match="holds files no export wrote"):  # not an export's
        files.check_output_folder("output_dir", str(tmp_path / "exported"), overwrite=True)
    (tmp_path / "exported" / files.EXPORT_MARKER).write_text("")
    files.check_output_folder("output_dir", str(tmp_path / "exported"), overwrite=True)
    files.check_output_folder("output_dir", str(tmp_path / "new" / "deeper" / "export"))
    with pytest.raises(UsageError, match="is a file"):
        files.check_output_folder("output_dir", str(tmp_path / "exported" / "model.json"))
    with pytest.raises(UsageError, match="model.json is a file, not a folder"):
        files.check_output_folder("output_dir", str(tmp_path / "exported" / "model.json" / "x"))
    for name in files.MODEL_FOLDER_FILES:
        (tmp_path / name).write_text("{}")
    with pytest.raises(UsageError, match="lies in the model folder"):
        files.check_output_folder("output_dir", str(tmp_path / "new"), overwrite=True)


def test_overwrite_never_replaces_a_folder_of_models_or_one_the_user_stands_in(tmp_path,
                                                                             monkeypatch):
    """Even marked as an export: the log root, the current folder and those above it, the home
    folder and the root are never replaced, and '' is no folder."""
    logs = tmp_path / "work" / "logs"
    (logs / "m").mkdir(parents=True)
    for name in files.MODEL_FOLDER_FILES:
        (logs / "m" / name).write_text("{}")
    for folder in (logs, tmp_path / "work", tmp_path):
        (folder / files.EXPORT_MARKER).write_text("")
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    for path, problem in (("logs", "holds files no export wrote"),
                          (".", "the current folder or one above it"),
                          ("..", "the current folder or one above it"),
                          (str(tmp_path / "home"), "the home folder"),
                          ("/", "the file system's root"), ("", "--output_dir is empty")):
        with pytest.raises(UsageError, match=problem):
            files.check_output_folder("output_dir", path, overwrite=True)


def test_an_export_that_fails_leaves_no_folder_behind(tmp_path):
    (tmp_path / "kept").mkdir()
    with pytest.raises(KeyboardInterrupt):
        with files.new_folders(str(tmp_path / "kept" / "a" / "b")):
            assert (tmp_path / "kept" / "a" / "b").is_dir()
            raise KeyboardInterrupt
    assert os.listdir(tmp_path / "kept") == []
    with files.new_folders(str(tmp_path / "kept" / "c")):
        pass
    assert (tmp_path / "kept" / "c").is_dir()


def test_vocabulary_files_a_bom_and_what_to_do(tmp_path):
    from lstm_core.preprocessing import Vocabulary, read_text_file

    (tmp_path / "corpus.txt").write_bytes("\ufeffab".encode("utf-8"))
    assert read_text_file(str(tmp_path / "corpus.txt")) == "ab"
    (tmp_path / "only_bom.txt").write_bytes("\ufeff".encode("utf-8"))
    with pytest.raises(UsageError, match="only a byte-order mark"):
        read_text_file(str(tmp_path / "only_bom.txt"))
    Vocabulary.build("abba").save(str(tmp_path / "v.vocab"))
    (tmp_path / "bom.vocab").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "v.vocab").read_bytes())
    assert Vocabulary.load(str(tmp_path / "bom.vocab")).tokens == ["a", "b"]
    (tmp_path / "empty.vocab").write_text("")
    (tmp_path / "latin.vocab").write_bytes(b"\xe9->1.")
    (tmp_path / "gap.vocab").write_text("a->1.,0.,0.\nb->0.,0.,1.\n")
    for name, problem in (("empty", "is empty"), ("latin", "not a readable UTF-8"),
                          ("gap", r"leave out ids \[1\]")):
        with pytest.raises(UsageError, match=problem) as raised:
            Vocabulary.load(str(tmp_path / f"{name}.vocab"))
        assert "python -m lstm_core.preprocessing --input_file" in str(raised.value)


def test_hints_quote_the_command_for_the_shell(tmp_path):
    from lstm_core.saved import ModelFolder

    with pytest.raises(UsageError, match="python train.py --model_name 'my model;rm' "):
        ModelFolder(str(tmp_path), "my model;rm").load()
