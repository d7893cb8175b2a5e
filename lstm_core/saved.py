"""A trained model on disk: one folder per model under the log directory.

    logs/<model_name>/
        config.json         the model's shape (`ModelConfig`)
        training.json       how it was trained: data, batch shape, flags (for resuming)
        vocabulary.vocab    a copy of the vocabulary it was trained with
        primers.json        music models: excerpts of the training tokens to start a piece from
        checkpoints/        the three newest checkpoints (`tf.train.CheckpointManager`)
        train/, validation/ TensorBoard event files
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from lstm_core.errors import UsageError
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.preprocessing import Vocabulary, atomic_write


class ModelFolder:
    def __init__(self, log_dir: str, model_name: str):
        self.name = model_name
        self.root = os.path.join(log_dir, model_name)
        self.config = os.path.join(self.root, "config.json")
        self.training = os.path.join(self.root, "training.json")
        self.vocabulary = os.path.join(self.root, "vocabulary.vocab")
        self.checkpoints = os.path.join(self.root, "checkpoints")
        self.primers = os.path.join(self.root, "primers.json")

    def exists(self) -> bool:
        return os.path.exists(self.config)

    def training_record(self) -> dict:
        if not os.path.exists(self.training):
            return {}
        with open(self.training, encoding="utf-8") as f:
            return json.load(f)

    def save_primers(self, excerpts: list[list[str]]) -> None:
        atomic_write(self.primers, json.dumps(excerpts).encode("utf-8"))

    def load_primers(self) -> list[list[str]]:
        if not os.path.exists(self.primers):
            return []
        with open(self.primers, encoding="utf-8") as f:
            return json.load(f)

    def load(self, vocabulary_file: str | None = None
             ) -> tuple[LanguageModel, Vocabulary, ModelConfig]:
        """The model with its newest weights, and its vocabulary.

        A `vocabulary_file` given by the user must be the one the model was trained with.
        """
        latest = tf.train.latest_checkpoint(self.checkpoints)
        if not self.exists() or latest is None:
            raise UsageError(f"--model_name {self.name}: no trained model in {self.root}; train "
                             f"one with: python train.py --model_name {self.name} ...")
        config = ModelConfig.load(self.config)
        vocabulary = Vocabulary.load(self.vocabulary)
        if vocabulary_file is not None and Vocabulary.load(vocabulary_file) != vocabulary:
            raise UsageError(f"--vocabulary_file {vocabulary_file} is not the vocabulary model "
                             f"{self.name} was trained with; leave the flag out to use the "
                             "model's own")
        model = LanguageModel(config)
        tf.train.Checkpoint(model=model).restore(latest).expect_partial()
        return model, vocabulary, config
