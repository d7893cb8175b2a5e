"""train.py and sample.py as a user runs them: the happy path, resuming, and bad input (nothing
lost). Most run in the pytest process (`apps`); subprocesses only where the process is what is
tested: the exit statuses and one-line errors, Ctrl-C and SIGTERM, TensorFlow's log lines, and
what importing the apps loads. The library's own checks of training options and files are in
test_api_train.py."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apps import sample_py, train_py
from lstm_core.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
VERSE = ("Sing a song of the open road,\nof the river and the hill;\n"
         "\"Carry on,\" the wanderer said, (and so he carries still).\n")


def run(script, *flags, cwd):
    result = subprocess.run([sys.executable, str(ROOT / script), *flags], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    return result


def assert_usage_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A corpus and a model trained on it for a few steps, shared by the tests below."""
    path = tmp_path_factory.mktemp("cli")
    (path / "lyrics.txt").write_text(VERSE * 60, encoding="utf-8")
    result = train_py(path, training_file="lyrics.txt", vocabulary_file="lyrics.vocab",
                      model_name="tiny", units=32, batch_size=8, sequence_length=20,
                      log_frequency=5, sample_every=10, max_steps=12, checkpoint_every=10)
    return path, result


def test_train_writes_vocabulary_config_checkpoints_and_logs(workspace):
    path, result = workspace
    assert "step 10/12" in result.stdout and "validation: loss" in result.stdout
    assert (path / "lyrics.vocab").exists()
    model = path / "logs" / "tiny"
    assert (model / "config.json").exists() and (model / "vocabulary.vocab").exists()
    assert (model / "checkpoints" / "checkpoint").exists()
    assert list((model / "train").glob("events.out.tfevents.*"))
    assert list((model / "validation").glob("events.out.tfevents.*"))


def test_sample_writes_reproducible_text(workspace):
    path, _ = workspace
    flags = dict(model_name="tiny", seed="Sing ", sample_length=120, random_seed=5,
                 temperature=0.8, top_k=10)
    sample_py(path, **flags, output_file="a.txt")
    sample_py(path, **flags, output_file="b.txt")
    a, b = (path / "a.txt").read_text(), (path / "b.txt").read_text()
    assert a == b and a.startswith("Sing ") and len(a) == len("Sing ") + 120
    assert set(a) <= set(VERSE)
    c = sample_py(path, **{**flags, "random_seed": 6}).stdout  # no --output_file: standard output
    assert c.startswith("Sing ") and len(c) == len(a) and c != a  # another seed, other draws
    sample_py(path, model_name="tiny", num_samples=3, top_p=0.9, output_file="many.txt",
              sample_length=50)
    assert all((path / f"many-{n}.txt").exists() for n in (1, 2, 3))
    many = [(path / f"many-{n}.txt").read_text() for n in (1, 2, 3)]
    assert len({len(text) for text in many}) == 1  # the same seed text, then 50 characters each
    # Three independent draws, not one sample written three times.
    assert len({text[-50:] for text in many}) == 3, many


def test_sample_from_the_best_latest_or_a_numbered_checkpoint(workspace):
    path, _ = workspace
    flags = dict(model_name="tiny", seed="Sing ", sample_length=80, random_seed=5)
    texts = {}
    for checkpoint in ("latest", "best", "10"):
        result = sample_py(path, **flags, checkpoint=checkpoint,
                           output_file=f"from_{checkpoint}.txt")
        texts[checkpoint] = (path / f"from_{checkpoint}.txt").read_text()
    assert "sampling from" in result.stderr and "ckpt-10" in result.stderr
    assert texts["10"] != texts["latest"]  # other weights, the same draws
    best = sample_py(path, **flags, checkpoint="best", output_file="again_best.txt")
    assert "best" in best.stderr.split("sampling from")[1].splitlines()[0]
    for wrong in ("7", "newest"):
        with pytest.raises(UsageError) as raised:
            sample_py(path, **flags, checkpoint=wrong, output_file="w.txt")
        for fragment in (f"--checkpoint {wrong}", "10, 12", "latest or best"):
            assert fragment in str(raised.value)
    assert not (path / "w.txt").exists()


def test_a_small_validation_split_is_noted_in_one_line(workspace):
    _, result = workspace
    notes = [line for line in result.stdout.splitlines() if "too few for its loss" in line]
    assert len(notes) == 1 and "--validation_fraction" in notes[0]


def test_seed_characters_missing_from_the_vocabulary_are_reported(workspace):
    path, _ = workspace
    result = sample_py(path, model_name="tiny", seed="Zürich ", output_file="z.txt",
                       sample_length=10, greedy=True)
    assert "'Z'" in result.stderr and "'ü'" in result.stderr
    assert (path / "z.txt").read_text()[:7] == "  rich "


def test_vocabulary_of_another_corpus(workspace, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("Quixotic zephyrs jinx 42 wolves!\n" * 50, encoding="utf-8")
    vocabulary = workspace[0] / "lyrics.vocab"
    with pytest.raises(UsageError, match="lacks.*'Q'"):
        train_py(tmp_path, training_file=str(other), vocabulary_file=str(vocabulary),
                 model_name="other")
    with pytest.raises(UsageError, match="--vocabulary_file.*does not exist"):
        sample_py(tmp_path, model_name="tiny", logdir=str(workspace[0] / "logs"),
                  vocabulary_file=str(vocabulary.with_name("nope.vocab")), output_file="x.txt")
    assert list(tmp_path.iterdir()) == [other]


def test_unknown_model_for_sample(tmp_path):
    with pytest.raises(UsageError, match="--model_name never_trained.*train.py"):
        sample_py(tmp_path, model_name="never_trained", output_file="x.txt")


def test_an_option_the_library_refuses_is_named_as_its_flag_in_one_line(tmp_path):
    from lstm_core.sampling_options import SampleOptions

    with pytest.raises(UsageError, match=r"^temperature 500.0 is outside \[") as raised:
        SampleOptions(temperature=500.0).validate()
    assert raised.value.option == "temperature"
    result = run("sample.py", "--temperature", "500", cwd=tmp_path)  # before any model is read
    assert_usage_error(result, "--temperature 500.0 is outside [")


def test_ctrl_c_saves_a_checkpoint_and_the_same_command_resumes(tmp_path):
    """SIGTERM saves the same way: test_kill_during_a_validation_... below, and the workers of
    test_distributed.py, which then resume."""
    import signal


    (tmp_path / "song.txt").write_text(VERSE * 40, encoding="utf-8")
    options = dict(training_file="song.txt", model_name="song", units=16, batch_size=4,
                   sequence_length=16, log_frequency=1, checkpoint_every=100000, sample_every=0,
                   epochs=1000)
    flags = [word for name, value in options.items() for word in (f"--{name}", str(value))]
    process = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *flags], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("step 3/"):
            process.send_signal(signal.SIGINT)
            break
    output, errors = process.communicate(timeout=300)
    assert process.returncode == 130, output + errors
    stopped = int(re.search(r"interrupted at step (\d+): saved", output).group(1))
    resumed = train_py(tmp_path, **options, max_steps=stopped + 2)  # the same command
    assert f"resuming model song from step {stopped}" in resumed.stdout


def test_preprocessing_writes_the_vocabulary_beside_the_corpus_and_never_overwrites(
        tmp_path, monkeypatch):
    from lstm_core.preprocessing import Vocabulary, write_vocabulary

    (tmp_path / "lyrics.txt").write_text(VERSE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert write_vocabulary("lyrics.txt").startswith("wrote lyrics.vocab: ")
    assert set(Vocabulary.load(str(tmp_path / "lyrics.vocab")).tokens) == set(VERSE)
    with pytest.raises(UsageError, match="lyrics.vocab.*--overwrite"):
        write_vocabulary("lyrics.txt")


def test_a_damaged_model_folder_or_a_folder_as_output_is_a_usage_error(workspace, tmp_path):
    path, _ = workspace
    shutil.copytree(path / "logs" / "tiny", tmp_path / "logs" / "tiny")
    with pytest.raises(UsageError, match="--output_file . .*is a folder"):
        sample_py(tmp_path, model_name="tiny", output_file=".")
    (tmp_path / "logs" / "tiny" / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match="config.json.*damaged"):
        sample_py(tmp_path, model_name="tiny", output_file="x.txt")
    checkpoints = tmp_path / "logs" / "tiny" / "checkpoints"
    shutil.copy(path / "logs" / "tiny" / "config.json", tmp_path / "logs" / "tiny")
    for data in checkpoints.rglob("*.data-*"):  # the best checkpoint's too
        data.write_bytes(b"\x00" * 10)
    with pytest.raises(UsageError, match="cannot be read"):
        sample_py(tmp_path, model_name="tiny", output_file="x.txt")
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("flags, fragments", [
    (dict(output_file="song.mid"), ["--output_file song.mid", "writes text", ".txt"]),
    (dict(output_file="song.wav"), ["--output_file song.wav", "writes text"]),
    (dict(output_file="x.txt", tempo=90.0), ["--tempo", "music model"]),
    (dict(output_file="x.txt", solo_instrument="tenor_sax"),
     ["--solo_instrument", "--encoding jazz"]),
])
def test_a_text_model_writes_no_midi_and_takes_no_music_flags(workspace, flags, fragments):
    path, _ = workspace
    existing = path / flags["output_file"]
    existing.write_text("kept", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        sample_py(path, model_name="tiny", **flags, overwrite=True)
    for fragment in fragments:
        assert fragment in str(raised.value)
    assert existing.read_text(encoding="utf-8") == "kept"  # nothing overwritten
    existing.unlink()


def test_the_apps_and_the_package_load_no_music_library_nor_tensorflow_at_import():
    # The apps check flags and paths before TensorFlow loads: an error comes in a second.
    code = ("import sys, lstm_core, lstm_core.apps.sample, lstm_core.apps.train, "
            "lstm_core.trained_model; print(sorted(m for m in "
            "('music21', 'miditok', 'symusic', 'tensorflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("interrupt, status", [
    ("raise KeyboardInterrupt", 130),
    ("os.kill(os.getpid(), signal.SIGTERM)\n        time.sleep(600)", 143)])
def test_ctrl_c_or_kill_outside_training_is_one_line_and_leaves_no_partial_file(
        tmp_path, interrupt, status):
    # Ctrl-C or `kill` while a file is written, outside the training loop: no traceback, and the
    # file is not left behind. One handler covers the whole command (the checks, TensorFlow's
    # loading, `main`); it is exercised in the checks, before TensorFlow loads, for speed.
    # Ctrl-C while TensorFlow loads: test_sampler.py; SIGTERM in `main`, during a validation:
    # test_kill_during_a_validation_... below.
    script = ("import os, signal, time\n"
              "from lstm_core import cli\n"
              "from lstm_core.files import atomic_writer\n"
              "def check():\n"
              "    with atomic_writer('corpus.vocab.ids') as f:\n"
              "        f.write(b'the first chunk')\n"
              f"        {interrupt}\n"
              "cli.run(print, check=check)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == status, result.stderr
    assert result.stderr.splitlines() == [
        "interrupted: what was already saved is kept; run the same command to go on"]
    assert list(tmp_path.iterdir()) == []  # neither the cache nor its temporary file


def test_kill_during_a_validation_abandons_it_and_saves_the_step_before(tmp_path):
    import signal

    # Half of a 1.8 MB corpus validated whole (--validation_tokens 0): about 14,000 batches of
    # 4 x 16, far longer than the signal takes to arrive.
    (tmp_path / "long.txt").write_text(VERSE * 14_000, encoding="utf-8")
    flags = ["--training_file", "long.txt", "--model_name", "long", "--units", "16",
             "--batch_size", "4", "--sequence_length", "16", "--validation_fraction", "0.5",
             "--validation_tokens", "0", "--validation_every", "1", "--log_frequency", "1",
             "--sample_every", "0", "--histogram_frequency", "0", "--max_steps", "3"]
    process = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *flags], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("step 1/"):  # the validation of step 1 starts
            process.send_signal(signal.SIGTERM)
            break
    output, errors = process.communicate(timeout=300)
    assert process.returncode == 143, output + errors
    assert "interrupted at step 1: saved" in output and "ckpt-1;" in output, output
    assert "validation:" not in output  # abandoned, not finished
    # Without --verbose, nothing on stderr: not one of TensorFlow's log lines, nor a warning.
    assert errors == "", errors


def test_flag_errors_are_one_line_and_status_2(tmp_path):
    # A malformed number; values out of range are refused by the library (test_api_train.py).
    result = run("train.py", "--sequence_length", "x", cwd=tmp_path)
    assert_usage_error(result, "sequence_length")
    # Two required flags missing: absl reports them on two lines.
    result = subprocess.run([sys.executable, "-m", "lstm_core.music.prepare"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert_usage_error(result, "--training_file", "--vocabulary_file")


def test_files_to_write_in_a_missing_folder_are_usage_errors(workspace, tmp_path,
                                                             monkeypatch):
    from lstm_core import cli
    from lstm_core.trained_model import load

    path, _ = workspace
    with pytest.raises(UsageError, match="--vocabulary_file nowhere/lyrics.vocab.*does not "
                                         "exist"):
        train_py(path, training_file="lyrics.txt", vocabulary_file="nowhere/lyrics.vocab",
                 model_name="elsewhere")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="--output_file nowhere/cells.html.*does not exist"):
        load("tiny", logdir=str(path / "logs")).inspect("Sing", "nowhere/cells.html")
    with pytest.raises(UsageError, match="--png nowhere/cells.png.*does not exist"):
        cli.require_output_paths(output_file="cells.html", png="nowhere/cells.png")
    assert not (path / "nowhere").exists() and not (tmp_path / "nowhere").exists()
    assert not (path / "logs" / "elsewhere").exists() and not (tmp_path / "cells.html").exists()


def test_tensorflow_logs_with_verbose(tmp_path):
    # Without it, none: test_kill_during_a_validation_abandons_it_and_saves_the_step_before.
    (tmp_path / "words.txt").write_text(VERSE, encoding="utf-8")
    flags = ["--training_file", "words.txt", "--encoding", "notes"]  # refused once it is read
    loud = run("train.py", *flags, "--verbose", cwd=tmp_path)
    assert loud.returncode == 2 and loud.stderr.splitlines()[-1].startswith("error: ")
    assert "--encoding notes" in loud.stderr.splitlines()[-1]
    # TensorFlow's C++ lines name their source file, as in "cpu_feature_guard.cc:227]".
    assert re.search(r"\w+\.cc:\d+\]", loud.stderr), loud.stderr


def test_a_corpus_too_short_for_the_batch_trains_on_fewer_streams_and_says_so(tmp_path):
    (tmp_path / "short.txt").write_text(VERSE * 3, encoding="utf-8")  # 345 tokens: 328 to train
    result = train_py(tmp_path, training_file="short.txt", sequence_length=20, batch_size=50,
                      units=16, max_steps=2, histogram_frequency=0, sample_every=0)
    assert ("note: short.txt is too short for batches of 50 x 20; training with batches of 15 x "
            "20") in result.stdout
