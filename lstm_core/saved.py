"""A trained model on disk: one folder per model under the log directory.

    logs/<model_name>/
        config.json         the model's shape (`ModelConfig`)
        training.json       how it was trained: data, batch shape, flags (for resuming)
        vocabulary.vocab    a copy of the vocabulary it was trained with
        primers.json        music models: excerpts of the training tokens to start a piece from
        checkpoints/        the three newest checkpoints (`tf.train.CheckpointManager`)
        checkpoints/best/   the checkpoint of the lowest validation loss (`best_checkpoint`)
        train/, validation/ TensorBoard event files
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from lstm_core import checkpoints
from lstm_core.best_checkpoint import BEST_FOLDER
from lstm_core.errors import UsageError
from lstm_core.files import atomic_write, model_root, no_trained_model
from lstm_core.lock import ModelLock, is_chief
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.preprocessing import Vocabulary
from lstm_core.progress import Report, silent_report


class ModelFolder:
    def __init__(self, log_dir: str, model_name: str):
        self.name = model_name
        self.root = model_root(log_dir, model_name)
        self.config = os.path.join(self.root, "config.json")
        self.training = os.path.join(self.root, "training.json")
        self.vocabulary = os.path.join(self.root, "vocabulary.vocab")
        self.checkpoints = os.path.join(self.root, "checkpoints")
        self.primers = os.path.join(self.root, "primers.json")

    def lock(self) -> ModelLock:
        """The lock that keeps a second trainer out of this folder (`lstm_core.lock`)."""
        return ModelLock(self.root, chief=is_chief())

    def exists(self) -> bool:
        return os.path.exists(self.config)

    def model_config(self) -> ModelConfig:
        return self._read(self.config, ModelConfig.load)

    def model_vocabulary(self) -> Vocabulary:
        """The vocabulary the model was trained with (its errors name the model)."""
        return Vocabulary.load(self.vocabulary, flag=f"model {self.name}'s vocabulary")

    def training_record(self) -> dict:
        return self._read(self.training, _read_json) if os.path.exists(self.training) else {}

    def save_training_record(self, record: dict) -> None:
        atomic_write(self.training, (json.dumps(record, indent=2) + "\n").encode("utf-8"))

    def save_primers(self, excerpts: list[list[str]]) -> None:
        atomic_write(self.primers, json.dumps(excerpts).encode("utf-8"))

    def load_primers(self) -> list[list[str]]:
        return self._read(self.primers, _read_json) if os.path.exists(self.primers) else []

    def _read(self, path: str, read):
        """`read(path)`, with a damaged file reported as a `UsageError` naming it."""
        try:
            return read(path)
        except (OSError, ValueError, TypeError) as e:
            raise UsageError(f"{path} of model {self.name} is damaged ({e}); restore it, or "
                             "start the model again with train.py --fresh") from None

    def checkpoint_path(self, checkpoint: str | None = "latest",
                        report: Report = silent_report) -> str:
        """The checkpoint `checkpoint` names: ``latest``, ``best`` (the lowest validation loss),
        a step number, or None: the best when the model has one (it was validated), else the
        latest; a `UsageError` naming those there are when it is not there. A lost index is
        said through `report` (`checkpoints.latest`)."""
        latest = checkpoints.latest(self.checkpoints, report)
        if not self.exists() or latest is None:
            raise no_trained_model(self.name, self.root)
        best = tf.train.latest_checkpoint(os.path.join(self.checkpoints, BEST_FOLDER))
        if checkpoint is None:
            return best or latest
        if checkpoint == "latest":
            return latest
        if checkpoint == "best" and best:
            return best
        kept = checkpoints.readable(self.checkpoints)
        steps = {int(path.rsplit("-", 1)[1]): path for path in kept + ([best] if best else [])}
        if checkpoint.isdigit() and int(checkpoint) in steps:
            return steps[int(checkpoint)]
        listed = ", ".join(map(str, sorted(steps)))
        if checkpoint == "best":
            raise UsageError(f"--checkpoint best: model {self.name} has no best checkpoint (it "
                             f"was trained without validation); give latest or a step: {listed}")
        raise UsageError(f"--checkpoint {checkpoint}: model {self.name} keeps the checkpoints of "
                         f"steps {listed}; give one of them, latest or best")

    def verify(self, checkpoint: str | None) -> tuple[ModelConfig, Vocabulary]:
        """The model's config and vocabulary, checked against each other and against the
        shapes in `checkpoint` (None: none saved yet), naming the file that disagrees."""
        config, vocabulary = self.model_config(), self.model_vocabulary()
        if checkpoint is not None:
            try:
                saved = {**checkpoints.model_sizes(checkpoint),
                         "attention_length": checkpoints.attention_length(checkpoint),
                         "lookback": checkpoints.has_lookback(checkpoint)}
            except (tf.errors.OpError, KeyError, ValueError) as e:
                raise UsageError(f"the checkpoint {checkpoint} cannot be read ({str(e)[:120]}); "
                                 "delete its files to fall back to an older one, or train again "
                                 "with --fresh") from None
            differing = [f"{field} {getattr(config, field)} (the checkpoint has {value})"
                         for field, value in saved.items() if getattr(config, field) != value]
            if differing:
                raise UsageError(f"{self.config} does not match the checkpoint {checkpoint}: "
                                 f"{', '.join(differing)}; restore the file with the checkpoint's "
                                 "sizes")
        if len(vocabulary) != config.vocabulary_size:
            raise UsageError(f"{self.vocabulary} has {len(vocabulary)} tokens but model "
                             f"{self.name} has {config.vocabulary_size}; copy back the vocabulary "
                             "file it was trained with (train.py's --vocabulary_file)")
        return config, vocabulary

    def load(self, vocabulary_file: str | None = None, checkpoint: str | None = "latest",
             report: Report = silent_report) -> tuple[LanguageModel, Vocabulary, ModelConfig]:
        """The model with the weights of `checkpoint` (see `checkpoint_path`: by default the
        newest, a lost index said through `report`), and its vocabulary, checked against each
        other (`verify`).

        A `vocabulary_file` given by the user must be the one the model was trained with.
        """
        path = self.checkpoint_path(checkpoint, report)
        config, vocabulary = self.verify(path)
        if vocabulary_file is not None and Vocabulary.load(vocabulary_file) != vocabulary:
            raise UsageError(f"--vocabulary_file {vocabulary_file} is not the vocabulary model "
                             f"{self.name} was trained with; leave the flag out to use the "
                             "model's own")
        model = LanguageModel(config)
        restore_checkpoint(tf.train.Checkpoint(model=model), path, partial=True)
        return model, vocabulary, config


def restore_checkpoint(checkpoint: tf.train.Checkpoint, path: str, partial: bool = False) -> None:
    """Restores `checkpoint` from `path`: everything it tracks, or with `partial` only the
    objects it names (the model without its optimizer). A damaged checkpoint is a `UsageError`."""
    try:
        status = checkpoint.restore(path)
        if partial:
            status.expect_partial()
        else:
            status.assert_consumed()
    except (tf.errors.OpError, ValueError, IndexError, AssertionError) as e:
        raise UsageError(f"the checkpoint {path} cannot be read ({str(e)[:120]}); delete its "
                         "files to fall back to an older one, or train again with --fresh") \
            from None


def _read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
