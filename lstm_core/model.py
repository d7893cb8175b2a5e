"""The language model: token embedding → stacked LSTM (→ attention) → logits over the vocabulary.

With ``attention_length`` N > 0 the top layer's outputs pass through `lstm_core.attention`
(attention over its last N outputs) before the output projection, and the state the model
carries is an `AttentiveState` (the LSTM's state and the window); without, a `StackState`.

Its shape is a `ModelConfig`, saved as ``config.json`` beside the checkpoints so that
`sample.py` rebuilds the model from ``--model_name`` alone.
"""

from __future__ import annotations

import dataclasses
import json

import tensorflow as tf

from lstm_core.attention import Attention, AttentiveState
from lstm_core.files import atomic_write
from lstm_core.cell import glorot_uniform
from lstm_core.kinds import TokenKind
from lstm_core.stack import StackedLSTM, StackState
from lstm_core.training_options import DEFAULTS

ModelState = StackState | AttentiveState  # `StackState` without attention


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    vocabulary_size: int
    token_kind: TokenKind = TokenKind.CHARACTERS  # the vocabulary's kind
    # The defaults are the training options' (`TrainOptions`).
    embedding_size: int = DEFAULTS.embedding_size
    units: int = DEFAULTS.units
    layers: int = DEFAULTS.layers
    dropout: float = DEFAULTS.dropout  # on each layer's output while training
    attention_length: int = DEFAULTS.attention_length  # N, the top outputs attended (0: none)

    def __post_init__(self):
        # config.json holds the kind's string; a ValueError for one no model reads.
        object.__setattr__(self, "token_kind", TokenKind(self.token_kind))

    def save(self, path: str) -> None:
        atomic_write(path, (json.dumps(dataclasses.asdict(self), indent=2) + "\n").encode())

    @classmethod
    def load(cls, path: str) -> "ModelConfig":
        with open(path, encoding="utf-8") as f:
            return cls(**json.load(f))


class LanguageModel(tf.Module):
    """Predicts the next token at every position of a token sequence."""

    def __init__(self, config: ModelConfig, seed: int = 0):
        """`seed` decides the initial weights."""
        super().__init__(name="language_model")
        self.config = config
        rng = tf.random.Generator.from_seed(seed)
        with self.name_scope:
            self.embedding = tf.Variable(
                rng.normal([config.vocabulary_size, config.embedding_size]),
                name="embedding")
            self.lstm = StackedLSTM(config.embedding_size, config.units, config.layers, rng)
            self.output_kernel = tf.Variable(
                glorot_uniform(rng, config.units, config.vocabulary_size), name="output_kernel")
            self.output_bias = tf.Variable(tf.zeros([config.vocabulary_size]), name="output_bias")
            # Drawn last, so that every other weight is the same with or without attention.
            self.attention = (Attention(config.units, config.attention_length, rng)
                              if config.attention_length else None)

    def initial_state(self, batch_size: int) -> ModelState:
        lstm = self.lstm.initial_state(batch_size)
        if self.attention is None:
            return lstm
        return AttentiveState(lstm, self.attention.initial_window(batch_size))

    def __call__(self, tokens: tf.Tensor, state: ModelState, training: bool = False,
                 seed: tf.Tensor | None = None, fold_embedding: bool = False
                 ) -> tuple[tf.Tensor, ModelState]:
        """Logits for the token after each position.

        Args:
          tokens: token ids `[batch, time]`.
          state: the LSTM state before the first token.
          training: apply dropout (with the stateless `seed` `[2]`).
          fold_embedding: the same logits in fewer FLOPs when the vocabulary is smaller than
            the batch's tokens (see `StackedLSTM.from_embedding`); the trainer's choice.
        Returns:
          logits `[batch, time, vocabulary]` and the state after the last token.
        """
        dropout = self.config.dropout if training else 0.0
        lstm_state = lstm_part(state)
        if fold_embedding:
            hidden, lstm_state = self.lstm.from_embedding(
                self.embedding, tf.transpose(tokens), lstm_state, dropout=dropout, seed=seed)
        else:
            hidden, lstm_state = self.lstm(self.embed(tokens), lstm_state, dropout=dropout,
                                           seed=seed)
        if self.attention is None:
            return self.logits(hidden), lstm_state
        hidden, window, _ = self.attention.sequence(hidden, state.window)
        return self.logits(hidden), AttentiveState(lstm_state, window)

    def embed(self, tokens: tf.Tensor) -> tf.Tensor:
        """Token ids `[batch, time]` → their embeddings, time-major `[time, batch, embedding]`."""
        return tf.gather(self.embedding, tf.transpose(tokens))

    def logits(self, hidden: tf.Tensor) -> tf.Tensor:
        """The top layer's time-major hidden states → logits `[batch, time, vocabulary]`."""
        return tf.einsum("tbu,uv->btv", hidden, self.output_kernel) + self.output_bias

    def step(self, tokens: tf.Tensor, state: ModelState, input_table: tf.Tensor | None = None
             ) -> tuple[tf.Tensor, ModelState]:
        """One token per stream: `tokens` `[batch]` → next-token logits `[batch, vocabulary]`.

        `input_table` (`input_table()`, computed once for many steps) gives the first layer's
        input projection of each token by a lookup instead of a matmul: the same logits.
        """
        if input_table is None:
            hidden, lstm_state = self.lstm.step(tf.gather(self.embedding, tokens),
                                                lstm_part(state))
        else:
            hidden, lstm_state = self.lstm.step(tf.gather(input_table, tokens), lstm_part(state),
                                                first_gate_inputs=True)
        if self.attention is None:
            state = lstm_state
        else:
            hidden, window, _ = self.attention.step(hidden, state.window)
            state = AttentiveState(lstm_state, window)
        return tf.matmul(hidden, self.output_kernel) + self.output_bias, state

    def input_table(self) -> tf.Tensor:
        """The first LSTM layer's input projection of every token, `[vocabulary, 4*units]`."""
        return self.lstm.input_table(self.embedding)


def lstm_part(state: ModelState) -> StackState:
    """The LSTM layers' state within a model's state."""
    return state.lstm if isinstance(state, AttentiveState) else state
