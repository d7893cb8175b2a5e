"""lstm-core: stacked LSTM language models written by hand in TensorFlow 2.

    import lstm_core

    model = lstm_core.train("lyrics.txt", model_name="songs", max_steps=2000)
    print(model.generate(seed="Yeah, oho ", length=500, temperature=0.8))
    model = lstm_core.load("songs")                      # a saved model, any time later

`train` takes every training flag as a keyword (`TrainOptions`); `load` gives a
`TrainedModel`, whose `generate`, `generate_many`, `compose` and `improvise` take the sampling
flags (`SampleOptions`). Bad input raises `UsageError`. Importing the package loads neither
TensorFlow nor music21: they load with the first model.

Data flows one way, one module per stage:

    preprocessing (Vocabulary) → batch (Batch) → cell / fused / stack (the LSTM)
    → model (LanguageModel) → trainer (Trainer) → sampler (Sampler) → text, or music/

`training` and `trained_model` run the workflows over them; `train.py` and `sample.py`
(`lstm_core.apps`) are the command-line apps over those.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable

from lstm_core.callbacks import TrainingCallbacks
from lstm_core.errors import UsageError
from lstm_core.sampling_options import SampleOptions
from lstm_core.trained_model import TrainedModel, load
from lstm_core.training_options import TrainOptions

__all__ = ["train", "load", "TrainedModel", "TrainOptions", "SampleOptions",
           "TrainingCallbacks", "UsageError"]


def train(training_file: str | None = None, options: TrainOptions | None = None, *,
          report: Callable[[str], None] = lambda line: None,
          callbacks: TrainingCallbacks | None = None, given: Iterable[str] = (),
          progress: Callable[[int, int, str], None] = lambda done, total, what: None,
          **keywords) -> TrainedModel:
    """Trains (or resumes) a model and returns it, loaded from its newest checkpoint.

    Args:
      training_file: what to learn, as ``--training_file`` (None: the embedded default lyrics).
      options: `TrainOptions` (default: every flag's default); `keywords` set some of them by
        the flags' names (``units=256, max_steps=2000``).
      report: takes each line ``train.py`` would print (``report=print`` shows them).
      callbacks: a `TrainingCallbacks` that hears of each step, validation and checkpoint.
      given: options set in `options` that a preset or the jazz encoding must not replace
        (the keywords count as given).
      progress: takes ``(done, total, what)`` as the corpus is read and encoded.

    Raises `UsageError` for options or files that cannot be used, `trainer.Diverged`, and
    `trainer.Interrupted` when Ctrl-C stopped training (a checkpoint is saved; calling again
    resumes).
    """
    from lstm_core.training import train as run_training

    if training_file is not None:
        keywords["training_file"] = training_file
    result = run_training(options, given, report=report, callbacks=callbacks,
                          progress=progress, **keywords)
    return load(os.path.abspath(result.folder))
