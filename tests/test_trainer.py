"""The trainer: it learns, a resumed run equals an uninterrupted one, and a step over two devices
equals the step on one."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import tensorflow as tf

from lstm_core.batch import Batch
from lstm_core.model import ModelConfig
from lstm_core.trainer import Trainer, TrainingConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = ModelConfig(vocabulary_size=12, embedding_size=8, units=16, layers=2, dropout=0.1)


def corpus(length=1500):
    """A learnable sequence: a repeated pattern with some noise."""
    rng = np.random.default_rng(0)
    ids = np.tile(np.arange(12, dtype=np.uint8), length // 12 + 1)[:length]
    noise = rng.random(length) < 0.1
    ids[noise] = rng.integers(0, 12, noise.sum())
    return ids


def make_trainer(directory, strategy=None, model=MODEL, **overrides):
    config = TrainingConfig(**{"batch_size": 4, "sequence_length": 10, "epochs": 3,
                               "log_frequency": 1000, "checkpoint_every": 1000, "random_seed": 3,
                               **overrides})
    ids = corpus()
    train = Batch(ids[:1300], config.batch_size, config.sequence_length)
    validation = Batch(ids[1300:], 2, config.sequence_length)
    tf.random.set_seed(1)
    return Trainer(model, config, train, validation, os.path.join(directory, "checkpoints"),
                   str(directory), strategy=strategy)


def weights(trainer):
    return [v.numpy() for v in trainer.model.trainable_variables]


def test_training_lowers_the_validation_loss(tmp_path):
    trainer = make_trainer(tmp_path, epochs=2, learning_rate=0.01)
    before = trainer.validate(0)["validation_loss"]
    after = trainer.train()["validation_loss"]
    assert after < before - 0.5, (before, after)
    assert trainer.manager.latest_checkpoint is not None


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    # 32 batches per epoch: the restart at step 40 falls inside epoch 2, the run ends in epoch 3.
    straight = make_trainer(tmp_path / "straight", max_steps=80)
    straight.train()

    first_half = make_trainer(tmp_path / "resumed", max_steps=40)
    first_half.train()
    second_half = make_trainer(tmp_path / "resumed", max_steps=80)
    assert second_half.restore()
    assert int(second_half.optimizer.iterations) == 40
    second_half.train()

    assert int(second_half.optimizer.iterations) == 80
    for a, b in zip(weights(straight), weights(second_half)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(straight.carried_state.numpy(), second_half.carried_state.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_fresh_trainers_differ_from_trained_ones(tmp_path):
    """Guards the test above: it would pass trivially if training changed nothing."""
    untouched = make_trainer(tmp_path / "a", max_steps=1)
    trained = make_trainer(tmp_path / "b", max_steps=5)
    trained.train()
    assert any(not np.allclose(a, b) for a, b in zip(weights(untouched), weights(trained)))


def test_mirrored_step_over_two_devices_equals_single_device_step(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        sys.path.insert(0, {ROOT!r})
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        from test_trainer import make_trainer, MODEL
        import dataclasses
        model = dataclasses.replace(MODEL, dropout=0.0)
        single = make_trainer({str(tmp_path / 'single')!r}, model=model, max_steps=3)
        mirrored = make_trainer({str(tmp_path / 'mirrored')!r}, model=model, max_steps=3,
            strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
        assert mirrored.replicas == 2
        from lstm_core.errors import UsageError
        try:
            make_trainer({str(tmp_path / 'odd')!r}, model=model, batch_size=3,
                         strategy=mirrored.strategy)
            raise AssertionError("a batch of 3 over 2 replicas was accepted")
        except UsageError as e:
            assert "--batch_size 3 does not split evenly over 2 replicas" in str(e), e
        for a, b in zip(single.model.trainable_variables, mirrored.model.trainable_variables):
            b.assign(a)
        single.train()
        mirrored.train()
        worst = max(np.abs(a.numpy() - b.numpy()).max() for a, b in
                    zip(single.model.trainable_variables, mirrored.model.trainable_variables))
        print("max difference", worst)
        assert worst < 1e-5, worst
        np.testing.assert_allclose(single.carried_state.numpy(), mirrored.carried_state.numpy(),
                                   atol=1e-5)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "max difference" in result.stdout
