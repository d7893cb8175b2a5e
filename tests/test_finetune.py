"""Fine-tuning (``init_from``): a new model starts from another model's weights, token by token."""

import json

import numpy as np
import pytest
import tensorflow as tf

from lstm_core.errors import UsageError
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.preprocessing import Vocabulary
from lstm_core.saved import ModelFolder
from lstm_core.training import train

SHAPE = dict(units=32, embedding_size=16, batch_size=8, sequence_length=32, sample_every=0,
             histogram_frequency=0, learning_rate=0.01)


def sentences(words, count, seed):
    """`count` sentences of random `words`: a language with a small grammar."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        chosen = rng.choice(words, size=rng.integers(3, 8))
        lines.append(" ".join(chosen).capitalize() + rng.choice([".", "!", "?"]))
    return "\n".join(lines) + "\n"


def train_in(path, training_file, model_name, **values):
    """`train` on `path`'s corpus into `path`/logs; the result and the lines it reported."""
    lines = []
    result = train(training_file=str(path / training_file), logdir=str(path / "logs"),
                   model_name=model_name, report=lines.append, **{**SHAPE, **values})
    return result, lines


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    path = tmp_path_factory.mktemp("finetune")
    words = ["the", "cat", "sat", "on", "mat", "and", "dog", "ran", "far", "away", "from", "home"]
    (path / "big.txt").write_text(sentences(words, 3000, 0), encoding="utf-8")
    # The new corpus: the same words and a few new ones, with new characters (é, ;, q).
    new_words = words + ["café", "quiet", "night;"]
    (path / "small.txt").write_text(sentences(new_words, 150, 1), encoding="utf-8")
    train_in(path, "big.txt", "big", max_steps=300, log_frequency=100)
    return path


def test_fine_tuning_reaches_a_lower_validation_loss_than_training_from_scratch(pretrained):
    common = dict(max_steps=15, validation_fraction=0.2, log_frequency=15)
    scratch, _ = train_in(pretrained, "small.txt", "scratch", **common)
    tuned, lines = train_in(pretrained, "small.txt", "tuned", init_from="big", **common)
    assert (tuned.metrics["validation_loss"]
            < scratch.metrics["validation_loss"] - 0.2), (tuned.metrics, scratch.metrics)
    new, old = (Vocabulary.load(str(pretrained / "logs" / name / "vocabulary.vocab"))
                for name in ("tuned", "big"))
    assert new == Vocabulary.load(str(pretrained / "small.vocab"))  # its own corpus's
    shared = [t for t in new.tokens if t in old.ids]
    assert "é" in new.ids and "é" not in old.ids and len(shared) < len(new)
    assert any(f"{len(shared)} of {len(new)} tokens keep its embedding" in line
               for line in lines)
    with open(pretrained / "logs" / "tuned" / "training.json", encoding="utf-8") as f:
        record = json.load(f)
    assert record["init_from"] == {"model": str(pretrained / "logs" / "big"),
                                   "shared_tokens": len(shared)}


def test_shared_tokens_keep_their_rows_and_new_tokens_start_fresh(pretrained):
    train_in(pretrained, "small.txt", "copied", init_from="big", max_steps=1,
             learning_rate=1e-9, validation_fraction=0.0)
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
    with pytest.raises(UsageError, match="--init_from big has 32 units .*--units_number 32"):
        train_in(pretrained, "small.txt", "wide", init_from="big", units=64)
    assert not (pretrained / "logs" / "wide").exists()


def test_a_missing_model_or_another_kind_is_a_usage_error(pretrained):
    with pytest.raises(UsageError, match="--init_from nothing"):
        train_in(pretrained, "small.txt", "x", init_from="nothing")
    # A music model of the same shape (note tokens), written as train.py writes one.
    folder = ModelFolder(str(pretrained / "logs"), "music")
    (pretrained / "logs" / "music" / "checkpoints").mkdir(parents=True)
    vocabulary = Vocabulary(["n60_4", "n62_4"], kind="notes")
    config = ModelConfig(2, "notes", embedding_size=16, units=32, layers=2)
    config.save(folder.config)
    vocabulary.save(folder.vocabulary)
    tf.train.Checkpoint(model=LanguageModel(config)).save(folder.checkpoints + "/ckpt")
    with pytest.raises(UsageError, match="--init_from music learned notes .* characters"):
        train_in(pretrained, "small.txt", "y", init_from="music")
    assert not (pretrained / "logs" / "x").exists() and not (pretrained / "logs" / "y").exists()
