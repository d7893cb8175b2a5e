"""The trainer: it learns, a resumed run equals an uninterrupted one, and a step over two devices
equals the step on one."""

import dataclasses
import io
import os
import re
import sys

import numpy as np
import pytest
import tensorflow as tf

from lstm_core.batch import Batch
from lstm_core.callbacks import TrainingCallbacks
from lstm_core.errors import UsageError
from lstm_core.model import ModelConfig
from lstm_core.trainer import METRICS, Trainer, TrainingConfig

MODEL = ModelConfig(vocabulary_size=12, embedding_size=8, units=16, layers=2, dropout=0.1)


def corpus(length=1500):
    """A learnable sequence: a repeated pattern with some noise."""
    rng = np.random.default_rng(0)
    ids = np.tile(np.arange(12, dtype=np.uint8), length // 12 + 1)[:length]
    noise = rng.random(length) < 0.1
    ids[noise] = rng.integers(0, 12, noise.sum())
    return ids


def make_trainer(directory, strategy=None, model=MODEL, train_length=1300,
                 validation_length=200, **overrides):
    config = TrainingConfig(**{"batch_size": 4, "sequence_length": 10, "epochs": 3,
                               "log_frequency": 1000, "checkpoint_every": 1000, "random_seed": 3,
                               **overrides})
    ids = corpus(1300 + validation_length)
    train = Batch(ids[:train_length], config.batch_size, config.sequence_length)
    validation = Batch(ids[1300:], 2, config.sequence_length)
    tf.random.set_seed(1)
    return Trainer(model, config, train, validation, os.path.join(directory, "checkpoints"),
                   str(directory), strategy=strategy)


class Lines(TrainingCallbacks):
    """The lines the trainer reports, one string."""

    def __init__(self):
        self.lines = []

    def on_message(self, line):
        self.lines.append(line)

    @property
    def text(self):
        return "\n".join(self.lines)


def weights(trainer):
    return [v.numpy() for v in trainer.model.trainable_variables]


def test_training_lowers_the_validation_loss_and_keeps_the_lowest_as_the_best(tmp_path):
    from lstm_core.best_checkpoint import read_record

    trainer = make_trainer(tmp_path, learning_rate=0.01, validation_every=8, max_steps=48)
    before = trainer.validate(0)["validation_loss"]
    after = trainer.train()["validation_loss"]
    assert after < before - 0.5, (before, after)
    assert trainer.manager.latest_checkpoint is not None
    validations = read_record(str(tmp_path / "checkpoints"))["validations"]
    best_step = min(validations, key=lambda v: v[1])[0]
    assert len(validations) == 6
    assert tf.train.latest_checkpoint(tmp_path / "checkpoints" / "best").endswith(
        f"ckpt-{best_step}")


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    # 32 batches per epoch: the restart at step 40 falls inside epoch 2, the run ends in epoch 3.
    straight = make_trainer(tmp_path / "straight", max_steps=80)
    untrained = weights(straight)
    straight.train()
    # Guards what follows: it would pass trivially if training changed nothing.
    assert all(not np.allclose(a, b) for a, b in zip(untrained, weights(straight)))

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


def train_on_one_and_two_devices(folder, model):
    """Two trainers of `model` from the same weights, one on a device and one mirrored over the
    pytest process's two logical CPUs (conftest.py), each trained 3 steps; their weights agree."""
    single = make_trainer(folder / "single", model=model, max_steps=3)
    mirrored = make_trainer(folder / "mirrored", model=model, max_steps=3,
                            strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    for a, b in zip(single.model.trainable_variables, mirrored.model.trainable_variables):
        b.assign(a)
    single.train()
    mirrored.train()
    for a, b in zip(single.model.trainable_variables, mirrored.model.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    return single, mirrored


def test_mirrored_step_over_two_devices_equals_single_device_step(tmp_path):
    model = dataclasses.replace(MODEL, dropout=0.0)
    single, mirrored = train_on_one_and_two_devices(tmp_path, model)
    assert mirrored.replicas == 2
    np.testing.assert_allclose(single.carried_state.numpy(), mirrored.carried_state.numpy(),
                               atol=1e-5)
    with pytest.raises(UsageError, match="--batch_size 3 does not split evenly over 2 replicas"):
        make_trainer(tmp_path / "odd", model=model, batch_size=3, strategy=mirrored.strategy)


class _Terminal(io.StringIO):
    """stdout and stderr of a terminal: one screen, and `isatty` says so."""

    def isatty(self):
        return True


def test_every_line_printed_while_training_clears_the_progress_bar_first(tmp_path, monkeypatch):
    screen = _Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setattr(sys, "stderr", screen)
    from lstm_core.apps.terminal import TerminalProgress

    metrics = make_trainer(tmp_path, max_steps=40, log_frequency=20, validation_every=10).train(
        TerminalProgress())
    assert list(metrics) == list(METRICS)  # validated before it logged: still in one order
    text = screen.getvalue()
    lines = [m.start() for m in re.finditer(r"step \d+", text)]
    assert len(lines) >= 6, text  # 2 log lines, 4 validation lines
    for start in lines:  # each starts a fresh line, or the bar on it was erased first
        assert start == 0 or text[start - 1] == "\n" or text[:start].endswith("\r\x1b[K"), \
            repr(text[max(0, start - 80):start + 40])


def test_a_corpus_of_few_batches_validates_no_more_often_than_it_logs(tmp_path):
    # 5 batches per epoch, as the jazz defaults on one solo (which log every 100 steps).
    trainer = make_trainer(tmp_path, train_length=220, epochs=12, log_frequency=20)
    assert trainer.train_batches.num_batches == 5
    reported = Lines()
    trainer.train(reported)
    validations = re.findall(r"step (\d+) validation", reported.text)
    assert validations == ["20", "40", "60"]


def test_the_best_checkpoint_is_kept_and_early_stopping_ends_the_run(tmp_path):
    from lstm_core.best_checkpoint import read_record

    # A learning rate of 0: every validation gives the same loss, so only the first is the best.
    stalled = dict(learning_rate=0.0, validation_every=4, early_stopping=2, max_steps=40)
    trainer = make_trainer(tmp_path, **stalled)
    reported = Lines()
    metrics = trainer.train(reported)
    assert int(trainer.optimizer.iterations) == 12  # validations at 4 (best), 8 and 12
    assert "early stop at step 12" in reported.text
    assert (metrics["best_step"], trainer.manager.latest_checkpoint.endswith("ckpt-12")) == (4, True)
    assert tf.train.latest_checkpoint(tmp_path / "checkpoints" / "best").endswith("ckpt-4")
    record = read_record(str(tmp_path / "checkpoints"))
    assert [step for step, _ in record["validations"]] == [4, 8, 12]
    assert record["stopped"]["step"] == 12 and record["stopped"]["best_step"] == 4

    again = make_trainer(tmp_path, **stalled)  # the same command again: nothing to train
    assert again.restore()
    reported = Lines()
    again.train(reported)
    assert (int(again.optimizer.iterations) == 12
            and "nothing to train: early stop" in reported.text)
    patient = make_trainer(tmp_path, **{**stalled, "early_stopping": 3})  # trains on
    patient.restore()
    patient.train()
    assert int(patient.optimizer.iterations) == 16


def test_a_loss_that_is_not_finite_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    """train.py refuses such a learning rate up front; the trainer, a library, still guards
    against any divergence before a checkpoint can keep broken weights."""
    from lstm_core.trainer import Diverged

    trainer = make_trainer(str(tmp_path), max_steps=4)
    trainer.train()
    checkpoints = tmp_path / "checkpoints"
    before = sorted(p.name for p in checkpoints.iterdir())
    diverging = make_trainer(str(tmp_path), max_steps=40, learning_rate=1e38)
    diverging.restore()
    with pytest.raises(Diverged, match="last good checkpoint .*ckpt-4.*--learning_rate"):
        diverging.train()
    assert sorted(p.name for p in checkpoints.iterdir()) == before


def test_a_validation_reads_the_same_bounded_sample_of_a_long_split(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    trainer = make_trainer(tmp_path, validation_length=20_000, validation_tokens=400)
    first, again = trainer.validate(5), trainer.validate(6)
    assert first["validation_tokens"] == again["validation_tokens"] == 400  # 20 batches of 2x10
    assert first["validation_loss"] == again["validation_loss"]  # the same windows
    trainer.writer("validation").flush()
    events = event_accumulator.EventAccumulator(
        str(tmp_path / "validation"), size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    assert [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors("tokens")] == [400, 400]
    whole = make_trainer(tmp_path / "whole", validation_length=2_000, validation_tokens=0)
    assert whole.validate(0)["validation_tokens"] == 99 * 2 * 10  # every batch of the split


def test_no_validation_runs_before_a_step_is_trained(tmp_path):
    def validated(trainer) -> list[int]:
        steps = []
        callbacks = TrainingCallbacks()
        callbacks.on_validation = lambda step, metrics: steps.append(step)
        trainer.train(callbacks)
        return steps

    assert validated(make_trainer(tmp_path, max_steps=4, validation_every=2)) == [2, 4]
    finished = make_trainer(tmp_path, max_steps=4, validation_every=2)
    finished.restore()
    assert validated(finished) == [] and "validation_loss" not in finished.train()
    resumed = make_trainer(tmp_path, max_steps=5, validation_every=2)
    resumed.restore()
    assert validated(resumed) == [5]  # the last step's, not step 4's again


def test_a_stop_asked_for_during_a_validation_abandons_it_and_saves_the_step(tmp_path):
    import signal

    from lstm_core.best_checkpoint import read_record
    from lstm_core.trainer import Interrupted

    trainer = make_trainer(tmp_path, validation_length=20_000, validation_every=3,
                           validation_tokens=400, max_steps=40)
    evaluate, calls = trainer.validator.evaluate, []

    def evaluate_then_kill(*batch):  # `kill` arrives during the first validation batch
        calls.append(len(calls))
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return evaluate(*batch)

    trainer.validator.evaluate = evaluate_then_kill
    with pytest.raises(Interrupted) as stop:
        trainer.train()
    assert (stop.value.step, stop.value.signal_number) == (3, signal.SIGTERM)
    assert stop.value.checkpoint.endswith("ckpt-3") and len(calls) == 1  # 1 of 20 batches
    assert read_record(str(tmp_path / "checkpoints")).get("validations", []) == []


def test_max_steps_is_the_length_of_the_run_past_the_epochs(tmp_path):
    trainer = make_trainer(tmp_path, train_length=220, epochs=1, max_steps=12, log_frequency=3,
                           validation_every=6)  # 5 batches a pass
    assert trainer.train_batches.num_batches == 5 and trainer.total_steps == 12
    steps = []
    callbacks = TrainingCallbacks()
    callbacks.on_step = lambda step, metrics: steps.append(step)
    metrics = trainer.train(callbacks)
    assert steps == list(range(1, 13)) and trainer.current_step == 12
    assert list(metrics) == list(METRICS)  # logged before it validated: the same order
    assert make_trainer(tmp_path / "epochs", train_length=220, epochs=2).total_steps == 10
