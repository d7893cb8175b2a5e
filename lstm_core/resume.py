"""Where a training run starts: a new model folder, the model in it to resume (checked against
the options: a model resumes only as it was built and fed), or another model's weights
(``init_from``, fine-tuning)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from typing import Callable

from lstm_core import checkpoints
from lstm_core.errors import UsageError
from lstm_core.model import ModelConfig
from lstm_core.preprocessing import Vocabulary
from lstm_core.saved import ModelFolder
from lstm_core.training_options import TrainOptions
from lstm_core.transfer import Source

# Options that decide which token each batch row (and a validation) reads: a resumed run must
# keep them too.
DATA_OPTIONS = ("batch_size", "sequence_length", "validation_fraction", "shuffle", "random_seed",
                "validation_tokens")


def prepare_model_folder(folder: ModelFolder, options: TrainOptions, model_config: ModelConfig,
                         vocabulary: Vocabulary, record: dict,
                         report: Callable[[str], None]) -> None:
    """Checks a resumed model matches the options (or moves it aside with ``fresh``); writes
    config, vocabulary and record."""
    if folder.exists() and options.fresh:
        kept = f"{folder.root}.previous-{time.strftime('%Y%m%d-%H%M%S')}"
        shutil.move(folder.root, kept)
        report(f"--fresh: the previous model is kept in {kept}")
    elif folder.exists():
        saved, saved_vocabulary = folder.verify(checkpoints.latest(folder.checkpoints, report))
        if saved_vocabulary != vocabulary:
            raise UsageError(
                f"--vocabulary_file differs from the vocabulary model {folder.name} was trained "
                f"with ({folder.vocabulary}); use that one, or --fresh to start a new model")
        for field in dataclasses.fields(saved):
            if (hasattr(options, field.name)
                    and getattr(saved, field.name) != getattr(model_config, field.name)):
                raise UsageError(
                    f"--{field.name} {getattr(model_config, field.name)} differs from model "
                    f"{folder.name} ({getattr(saved, field.name)}); give the same value to "
                    "resume, or --fresh to start a new model")
        if saved.lookback != model_config.lookback:
            raise UsageError(f"--lookback {model_config.lookback} differs from model "
                             f"{folder.name} ({saved.lookback}); give the same value to resume, "
                             "or --fresh to start a new model")
        previous = folder.training_record()
        for name in DATA_OPTIONS:
            if name in previous and previous[name] != record[name]:
                raise UsageError(
                    f"--{name} {record[name]} differs from the run being resumed "
                    f"({previous[name]}); give the same value, or --fresh to start over")
    os.makedirs(folder.root, exist_ok=True)
    model_config.save(folder.config)
    vocabulary.save(folder.vocabulary)
    folder.save_training_record(record)


def init_source(options: TrainOptions, folder: ModelFolder, model_config: ModelConfig,
                vocabulary: Vocabulary) -> Source | None:
    """The model ``init_from`` names, checked against the new one (None without it; a run that
    resumes from a checkpoint does not use it)."""
    if not options.init_from:
        return None
    if os.path.abspath(os.path.join(options.logdir, options.init_from)) == os.path.abspath(
            folder.root):
        raise UsageError(f"--init_from {options.init_from} is the model being trained; name "
                         "another model, or leave the flag out")
    return Source(options.logdir, options.init_from, model_config, vocabulary)
