"""Fine-tuning: a new model starts from the weights of another trained model.

The LSTM layers are copied whole (so both models need the same layers, units and embedding
size), and the attention too when both models attend over the same number of steps (otherwise
the new model's attention, if any, starts fresh), and the lookback's tables when both have
lookback inputs and the same vocabulary (their rows are token ids; otherwise they start at zero). The two vocabularies are matched token by
token: a token both know keeps its embedding row and its output column and bias; a token only
the new corpus has keeps its fresh initial weights. The new model's vocabulary is its own corpus's, so ids differ between the two models.
"""

from __future__ import annotations

import os

import numpy as np

from lstm_core.errors import UsageError
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.preprocessing import Vocabulary
from lstm_core.saved import ModelFolder

# The fields of `ModelConfig` both models must share, and the train.py flag of each.
SHAPE_FLAGS = {"layers": "layers_number", "units": "units_number",
               "embedding_size": "embedding_size"}


class Source:
    """The trained model a new one starts from, checked against the new model's shape."""

    def __init__(self, log_dir: str, name: str, config: ModelConfig, vocabulary: Vocabulary):
        folder = ModelFolder(log_dir, name)
        if not folder.exists():
            raise UsageError(f"--init_from {name}: no trained model in {folder.root}; give the "
                             "name of a model in --logdir (or its folder)")
        self.model, self.vocabulary, source_config = folder.load()
        if self.vocabulary.kind != vocabulary.kind:
            raise UsageError(f"--init_from {name} learned {self.vocabulary.kind} tokens but this "
                             f"corpus gives {vocabulary.kind}; start from a model of the same "
                             "kind (text from text, music from music of the same --encoding)")
        for field, flag in SHAPE_FLAGS.items():
            theirs, ours = getattr(source_config, field), getattr(config, field)
            if theirs != ours:
                raise UsageError(f"--init_from {name} has {theirs} {field.replace('_', ' ')} but "
                                 f"--{flag} is {ours}; give --{flag} {theirs} to start from it")
        self.root = os.path.abspath(folder.root)
        self.name = name
        self.same_ids = self.vocabulary.tokens == vocabulary.tokens
        self.shared = [(new, self.vocabulary.ids[token])
                       for new, token in enumerate(vocabulary.tokens)
                       if token in self.vocabulary.ids]

    def record(self) -> dict:
        """Where the new model started from, for its training.json."""
        return {"model": self.root, "shared_tokens": len(self.shared)}

    def copy_into(self, model: LanguageModel) -> None:
        """Sets `model`'s LSTM weights (and attention's and lookback's, when the source's fit)
        to the source's, and the rows of the shared tokens."""
        copied = [(model.lstm, self.model.lstm)]
        if (model.attention is not None
                and model.config.attention_length == self.model.config.attention_length):
            copied.append((model.attention, self.model.attention))
        # The lookback's note tables have a row per token id: copied only between the same ids.
        if model.lookback is not None and self.model.lookback is not None and self.same_ids:
            copied.append((model.lookback, self.model.lookback))
        for target, origin in ((t, o) for ours, theirs in copied
                               for t, o in zip(ours.variables, theirs.variables)):
            target.assign(origin)
        new, old = (np.array(ids, np.int64) for ids in zip(*self.shared)) if self.shared else (
            np.zeros(0, np.int64), np.zeros(0, np.int64))
        embedding, kernel, bias = (v.numpy() for v in (model.embedding, model.output_kernel,
                                                       model.output_bias))
        embedding[new] = self.model.embedding.numpy()[old]
        kernel[:, new] = self.model.output_kernel.numpy()[:, old]
        bias[new] = self.model.output_bias.numpy()[old]
        model.embedding.assign(embedding)
        model.output_kernel.assign(kernel)
        model.output_bias.assign(bias)
