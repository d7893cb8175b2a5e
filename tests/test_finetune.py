"""train.py --init_from: fine-tuning starts from another model's weights, token by token."""

import json
import re

import numpy as np
import pytest
import tensorflow as tf

from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.preprocessing import Vocabulary
from lstm_core.saved import ModelFolder
from test_cli import assert_usage_error, run

SHAPE = ["--units_number", "32", "--embedding_size", "16", "--batch_size", "8",
         "--sequence_length", "32", "--sample_every", "0", "--histogram_frequency", "0",
         "--learning_rate", "0.01"]


def sentences(words, count, seed):
    """`count` sentences of random `words`: a language with a small grammar."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        chosen = rng.choice(words, size=rng.integers(3, 8))
        lines.append(" ".join(chosen).capitalize() + rng.choice([".", "!", "?"]))
    return "\n".join(lines) + "\n"


def validation_loss(result):
    return float(re.search(r"validation_loss ([0-9.]+)", result.stdout).group(1))


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    path = tmp_path_factory.mktemp("finetune")
    words = ["the", "cat", "sat", "on", "mat", "and", "dog", "ran", "far", "away", "from", "home"]
    (path / "big.txt").write_text(sentences(words, 3000, 0), encoding="utf-8")
    # The new corpus: the same words and a few new ones, with new characters (é, ;, q).
    new_words = words + ["café", "quiet", "night;"]
    (path / "small.txt").write_text(sentences(new_words, 150, 1), encoding="utf-8")
    result = run("train.py", "--training_file", "big.txt", "--model_name", "big",
                 "--max_steps", "300", "--log_frequency", "100", *SHAPE, cwd=path)
    assert result.returncode == 0, result.stdout + result.stderr
    return path


def test_fine_tuning_reaches_a_lower_validation_loss_than_training_from_scratch(pretrained):
    common = ["--training_file", "small.txt", "--max_steps", "15", "--validation_fraction",
              "0.2", "--log_frequency", "15", *SHAPE]
    scratch = run("train.py", "--model_name", "scratch", *common, cwd=pretrained)
    tuned = run("train.py", "--model_name", "tuned", "--init_from", "big", *common,
                cwd=pretrained)
    assert scratch.returncode == 0 and tuned.returncode == 0, scratch.stderr + tuned.stderr
    assert validation_loss(tuned) < validation_loss(scratch) - 0.2, (tuned.stdout,
                                                                       scratch.stdout)
    new, old = (Vocabulary.load(str(pretrained / "logs" / name / "vocabulary.vocab"))
                for name in ("tuned", "big"))
    assert new == Vocabulary.load(str(pretrained / "small.vocab"))  # its own corpus's
    shared = [t for t in new.tokens if t in old.ids]
    assert "é" in new.ids and "é" not in old.ids and len(shared) < len(new)
    assert f"{len(shared)} of {len(new)} tokens keep its embedding" in tuned.stdout
    with open(pretrained / "logs" / "tuned" / "training.json", encoding="utf-8") as f:
        record = json.load(f)
    assert record["init_from"] == {"model": str(pretrained / "logs" / "big"),
                                   "shared_tokens": len(shared)}


def test_shared_tokens_keep_their_rows_and_new_tokens_start_fresh(pretrained):
    common = ["--training_file", "small.txt", "--max_steps", "1", "--learning_rate", "1e-9",
              "--validation_fraction", "0", *SHAPE[:-2]]
    result = run("train.py", "--model_name", "copied", "--init_from", "big", *common,
                 cwd=pretrained)
    assert result.returncode == 0, result.stderr
    old, old_vocabulary, _ = ModelFolder(str(pretrained / "logs"), "big").load()
    new, new_vocabulary, _ = ModelFolder(str(pretrained / "logs"), "copied").load()
    fresh = LanguageModel(new.config)  # the initial weights of a new model (seed 0)
    for token, i in new_vocabulary.ids.items():
        if token in old_vocabulary.ids:
            j = old_vocabulary.ids[token]
            np.testing.assert_allclose(new.embedding[i], old.embedding[j], atol=1e-6)
            np.testing.assert_allclose(new.output_kernel[:, i], old.output_kernel[:, j],
                                       atol=1e-6)
        else:
            np.testing.assert_allclose(new.embedding[i], fresh.embedding[i], atol=1e-6)
    for a, b in zip(new.lstm.variables, old.lstm.variables):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_another_shape_is_a_usage_error(pretrained):
    result = run("train.py", "--training_file", "small.txt", "--model_name", "wide",
                 "--init_from", "big", *SHAPE, "--units_number", "64", cwd=pretrained)
    assert_usage_error(result, "--init_from big", "32 units", "--units_number 32")
    assert not (pretrained / "logs" / "wide").exists()


def test_a_missing_model_or_another_kind_is_a_usage_error(pretrained):
    missing = run("train.py", "--training_file", "small.txt", "--model_name", "x",
                  "--init_from", "nothing", *SHAPE, cwd=pretrained)
    assert_usage_error(missing, "--init_from nothing")
    # A music model of the same shape (events), written as train.py writes one.
    folder = ModelFolder(str(pretrained / "logs"), "music")
    (pretrained / "logs" / "music" / "checkpoints").mkdir(parents=True)
    vocabulary = Vocabulary(["n60_d4", "n62_d4"], kind="events")
    config = ModelConfig(2, "events", embedding_size=16, units=32, layers=2)
    config.save(folder.config)
    vocabulary.save(folder.vocabulary)
    tf.train.Checkpoint(model=LanguageModel(config)).save(folder.checkpoints + "/ckpt")
    music = run("train.py", "--training_file", "small.txt", "--model_name", "y",
                "--init_from", "music", *SHAPE, cwd=pretrained)
    assert_usage_error(music, "--init_from music", "events", "characters")
    assert not (pretrained / "logs" / "x").exists() and not (pretrained / "logs" / "y").exists()
