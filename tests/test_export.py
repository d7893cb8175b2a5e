"""lstm_core.export: a SavedModel that plain TensorFlow loads and samples from as sample.py does,
its step in TensorFlow Lite, and the export's bad input. The export runs in the pytest process
(`TrainedModel.export`); only the check that plain TensorFlow, without lstm_core, samples from it
starts a process (``python -I``)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lstm_core.export import TFLITE_FILE, export
from lstm_core.files import EXPORT_MARKER
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.preprocessing import Vocabulary
from lstm_core.saved import ModelFolder
from lstm_core.training_state import pack_state
from apps import sample_py
from lstm_core.errors import UsageError
from lstm_core.trained_model import load
from test_cli import ROOT

SEED = "the "
# Runs without lstm_core (python -I: no script folder, no PYTHONPATH): plain TensorFlow only.
LOAD = """
import importlib.util, json, sys
assert importlib.util.find_spec("lstm_core") is None, "lstm_core is importable"
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
texts = []
for temperature, top_k, top_p, seed in json.loads(sys.argv[2]):
    out = model.signatures["generate_text"](
        seed=tf.constant(%r), length=tf.constant(150), temperature=tf.constant(temperature),
        top_k=tf.constant(top_k), top_p=tf.constant(top_p),
        random_seed=tf.constant(seed, tf.int64))
    texts.append([out["text"].numpy().decode("utf-8"), float(out["log_likelihood"])])
ids = model.generate(tf.constant([[3, 4, 5], [5, 4, 3]], tf.int32), 40, 1.0, 0, 1.0,
                     tf.constant(7, tf.int64))["ids"]
print(json.dumps({"texts": texts, "ids_shape": ids.shape.as_list()}))
""" % SEED


def python_without_lstm_core(*arguments, cwd):
    return subprocess.run([sys.executable, "-I", *arguments], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def words(text_model):
    return load("words", logdir=str(text_model / "logs"))


@pytest.fixture(scope="module")
def exported(text_model, words):
    words.export(str(text_model / "out"))
    return text_model


def test_plain_tensorflow_writes_what_sample_py_writes(exported):
    settings = [[0.9, 0, 1.0, 4], [0.7, 5, 0.9, 11]]
    loaded = python_without_lstm_core("-c", LOAD, "out", json.dumps(settings), cwd=exported)
    assert loaded.returncode == 0, loaded.stderr
    answer = json.loads(loaded.stdout.splitlines()[-1])
    assert answer["ids_shape"] == [2, 40]
    for n, ((temperature, top_k, top_p, seed), (text, log_likelihood)) in enumerate(
            zip(settings, answer["texts"])):
        sampled = sample_py(exported, model_name="words", output_file=f"s{n}.txt", seed=SEED,
                            sample_length=150, temperature=temperature, top_k=top_k,
                            top_p=top_p, random_seed=seed)
        assert (exported / f"s{n}.txt").read_text(encoding="utf-8") == SEED + text
        assert f"log-likelihood {log_likelihood:.1f}," in sampled.stdout


def test_the_signatures_name_their_inputs_and_outputs_and_the_vocabulary_is_an_asset(exported):
    # What ``saved_model_cli show --all`` lists: each signature's named inputs and outputs.
    signatures = tf.saved_model.load(str(exported / "out")).signatures
    assert set(signatures) == {"generate", "generate_text", "step"}
    assert "primer_ids" in signatures["generate"].structured_input_signature[1]
    assert "random_seed" in signatures["generate_text"].structured_input_signature[1]
    assert "logits" in signatures["step"].structured_outputs
    assert (Vocabulary.load(str(exported / "out" / "assets" / "vocabulary.vocab"))
            == ModelFolder(str(exported / "logs"), "words").model_vocabulary())


def test_the_tflite_step_equals_the_models_step(exported):
    model, _, config = ModelFolder(str(exported / "logs"), "words").load()
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, config.vocabulary_size, 3).astype(np.int32)
    state = rng.normal(size=[config.layers, 2, 3, config.units]).astype(np.float32)
    interpreter = tf.lite.Interpreter(model_path=str(exported / "out" / TFLITE_FILE))
    step = interpreter.get_signature_runner()
    answer = step(tokens=tokens, state=state)
    from lstm_core.training_state import unpack_state

    logits, new_state = model.step(tf.constant(tokens), unpack_state(tf.constant(state)))
    np.testing.assert_allclose(answer["logits"], logits.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(answer["state"], pack_state(new_state).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_the_tflite_loop_of_the_docs_samples_text(exported, tmp_path, monkeypatch, capsys):
    import re

    page = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    loop = next(block for block in re.findall(r"```python\n(.*?)```", page, flags=re.S)
                if "tf.lite.Interpreter" in block)
    (tmp_path / "exported").mkdir()
    (tmp_path / "exported" / "lyrics").symlink_to(exported / "out")
    monkeypatch.chdir(tmp_path)
    exec(compile(loop, "docs/export.md", "exec"), {})
    text = capsys.readouterr().out[:-1]  # print's newline
    vocabulary = ModelFolder(str(exported / "logs"), "words").model_vocabulary()
    assert len(text) == 200 and set(text) <= set(vocabulary.tokens)
    assert len(set(text)) > 5  # sampled, not one token repeated


def test_a_music_model_exports_generate_and_step_without_text(tmp_path):
    vocabulary = Vocabulary([f"n{p}_4" for p in range(20)], kind="notes")
    vocabulary.save(str(tmp_path / "music.vocab"))
    model = LanguageModel(ModelConfig(20, "notes", embedding_size=8, units=16, layers=1))
    export(model, vocabulary, str(tmp_path / "music.vocab"), str(tmp_path / "out"))
    loaded = tf.saved_model.load(str(tmp_path / "out"))
    assert set(loaded.signatures) == {"generate", "step"}
    ids = loaded.signatures["generate"](
        primer_ids=tf.constant([[1, 2]]), length=tf.constant(30), temperature=tf.constant(1.0),
        top_k=tf.constant(0), top_p=tf.constant(1.0), random_seed=tf.constant(1, tf.int64))
    assert ids["ids"].shape == (1, 30) and ids["ids"].dtype == tf.int32


def test_an_existing_output_dir_is_kept_unless_overwrite(exported, words, monkeypatch):
    monkeypatch.chdir(exported)
    (exported / "taken").mkdir()
    (exported / "taken" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="--output_dir.*--overwrite"):
        words.export("taken")
    # --overwrite replaces only an export: a folder of the user's is kept even then.
    with pytest.raises(UsageError, match=f"--output_dir taken holds files no export wrote.*"
                                         f"{EXPORT_MARKER}"):
        words.export("taken", overwrite=True)
    assert (exported / "taken" / "keep.txt").read_text(encoding="utf-8") == "mine"
    words.export("out", overwrite=True)
    assert sorted(os.listdir(exported / "out")) == [EXPORT_MARKER, "assets", "fingerprint.pb",
                                                    "saved_model.pb", TFLITE_FILE, "variables"]
    assert not [name for name in os.listdir(exported) if name.startswith(".")]  # nothing left


@pytest.mark.parametrize("damage", ["missing", "config", "checkpoint"])
def test_a_missing_or_damaged_model_is_a_usage_error_and_nothing_is_written(exported, tmp_path,
                                                                            monkeypatch, damage):
    from lstm_core.files import require_model_folder

    logs = tmp_path / "logs"
    if damage != "missing":
        import shutil

        shutil.copytree(exported / "logs" / "words", logs / "words")
        if damage == "config":
            (logs / "words" / "config.json").write_text("{not json", encoding="utf-8")
        else:
            for data in (logs / "words" / "checkpoints").rglob("*.data-*"):  # best's too
                data.write_bytes(b"\0" * 10)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="words"):  # as the export app's checks and loading
        require_model_folder(str(logs), "words")
        load("words", logdir=str(logs)).export("out")
    assert sorted(os.listdir(tmp_path)) == (["logs"] if damage != "missing" else [])
