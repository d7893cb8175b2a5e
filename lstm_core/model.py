"""The language model: token embedding (+ lookback) → stacked LSTM (→ attention) → logits over
the vocabulary.

With ``attention_length`` N > 0 the top layer's outputs pass through `lstm_core.attention`
(attention over its last N outputs) before the output projection, and the state the model
carries is an `AttentiveState` (the LSTM's state and the window); without, a `StackState`.
With a ``bar_grid`` (the roles of the tokens in a bar) each token's embedding has the
`lstm_core.lookback` contribution added (what was played one and two bars back at this point of
the bar), and that state is wrapped in a `LookbackState` with the stream's `BarMemory`.

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
from lstm_core.lookback import BarMemory, Lookback, LookbackState
from lstm_core.stack import StackedLSTM, StackState
from lstm_core.training_options import DEFAULTS

# `StackState` without attention, wrapped in a `LookbackState` with a bar grid.
ModelState = StackState | AttentiveState | LookbackState


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
    forget_bias: float = DEFAULTS.forget_bias  # where the forget gates' biases start
    # Each token's role in a bar (`lookback.bar_grid`; empty: no lookback inputs).
    bar_grid: tuple[int, ...] = ()

    def __post_init__(self):
        # config.json holds the kind's string (a ValueError for one no model reads) and the
        # grid as a list.
        object.__setattr__(self, "token_kind", TokenKind(self.token_kind))
        object.__setattr__(self, "bar_grid", tuple(self.bar_grid))

    @property
    def lookback(self) -> bool:
        """Whether the model has lookback inputs."""
        return bool(self.bar_grid)

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
            self.lstm = StackedLSTM(config.embedding_size, config.units, config.layers, rng,
                                    forget_bias=config.forget_bias)
            self.output_kernel = tf.Variable(
                glorot_uniform(rng, config.units, config.vocabulary_size), name="output_kernel")
            self.output_bias = tf.Variable(tf.zeros([config.vocabulary_size]), name="output_bias")
            # Drawn last, so that every other weight is the same with or without attention.
            self.attention = (Attention(config.units, config.attention_length, rng)
                              if config.attention_length else None)
            self.lookback = (Lookback(config.bar_grid, config.embedding_size)
                             if config.bar_grid else None)

    def initial_state(self, batch_size: int) -> ModelState:
        lstm = self.lstm.initial_state(batch_size)
        state = (lstm if self.attention is None
                 else AttentiveState(lstm, self.attention.initial_window(batch_size)))
        if self.lookback is None:
            return state
        return LookbackState(state, self.lookback.initial_memory(batch_size))

    def __call__(self, tokens: tf.Tensor, state: ModelState, training: bool = False,
                 seed: tf.Tensor | None = None, fold_embedding: bool = False
                 ) -> tuple[tf.Tensor, ModelState]:
        """Logits for the token after each position.

        Args:
          tokens: token ids `[batch, time]`.
          state: the LSTM state before the first token.
          training: apply dropout (with the stateless `seed` `[2]`).
          fold_embedding: the same logits in fewer FLOPs when the vocabulary is smaller than
            the batch's tokens (see `StackedLSTM.from_embedding`); the trainer's choice, moot
            with lookback, whose inputs are not rows of the embedding alone.
        Returns:
          logits `[batch, time, vocabulary]` and the state after the last token.
        """
        dropout = self.config.dropout if training else 0.0
        inner = state.inner if self.lookback is not None else state
        lstm_state = lstm_part(inner)
        if fold_embedding and self.lookback is None:
            hidden, lstm_state = self.lstm.from_embedding(
                self.embedding, tf.transpose(tokens), lstm_state, dropout=dropout, seed=seed)
            memory = None
        else:
            inputs, memory = self.inputs(tokens, state)
            hidden, lstm_state = self.lstm(inputs, lstm_state, dropout=dropout, seed=seed)
        if self.attention is None:
            inner = lstm_state
        else:
            hidden, window, _ = self.attention.sequence(hidden, inner.window)
            inner = AttentiveState(lstm_state, window)
        return self.logits(hidden), with_memory(inner, memory)

    def embed(self, tokens: tf.Tensor) -> tf.Tensor:
        """Token ids `[batch, time]` → their embeddings, time-major `[time, batch, embedding]`."""
        return tf.gather(self.embedding, tf.transpose(tokens))

    def inputs(self, tokens: tf.Tensor, state: ModelState) -> tuple[tf.Tensor, BarMemory | None]:
        """The first layer's inputs for `tokens` `[batch, time]` after `state`, time-major
        `[time, batch, embedding]`: the embeddings, plus the lookback contribution with a bar
        grid; and the bar memory after the last token (None without)."""
        if self.lookback is None:
            return self.embed(tokens), None
        time_major = tf.transpose(tokens)
        extra, memory, _ = self.lookback.sequence(time_major, state.memory)
        return tf.gather(self.embedding, time_major) + extra, memory

    def logits(self, hidden: tf.Tensor) -> tf.Tensor:
        """The top layer's time-major hidden states → logits `[batch, time, vocabulary]`."""
        return tf.einsum("tbu,uv->btv", hidden, self.output_kernel) + self.output_bias

    def step(self, tokens: tf.Tensor, state: ModelState, input_table: tf.Tensor | None = None
             ) -> tuple[tf.Tensor, ModelState]:
        """One token per stream: `tokens` `[batch]` → next-token logits `[batch, vocabulary]`.

        `input_table` (`input_table()`, computed once for many steps) gives the first layer's
        input projection of each token by a lookup instead of a matmul: the same logits (with
        lookback it goes unused: the inputs are not rows of the embedding alone).
        """
        inner = state.inner if self.lookback is not None else state
        memory = None
        if self.lookback is not None:
            extra, memory = self.lookback.step(tokens, state.memory)
            hidden, lstm_state = self.lstm.step(tf.gather(self.embedding, tokens) + extra,
                                                lstm_part(inner))
        elif input_table is None:
            hidden, lstm_state = self.lstm.step(tf.gather(self.embedding, tokens),
                                                lstm_part(inner))
        else:
            hidden, lstm_state = self.lstm.step(tf.gather(input_table, tokens), lstm_part(inner),
                                                first_gate_inputs=True)
        if self.attention is None:
            inner = lstm_state
        else:
            hidden, window, _ = self.attention.step(hidden, inner.window)
            inner = AttentiveState(lstm_state, window)
        return (tf.matmul(hidden, self.output_kernel) + self.output_bias,
                with_memory(inner, memory))

    def input_table(self) -> tf.Tensor:
        """The first LSTM layer's input projection of every token, `[vocabulary, 4*units]`."""
        return self.lstm.input_table(self.embedding)


def lstm_part(state: ModelState) -> StackState:
    """The LSTM layers' state within a model's state."""
    if isinstance(state, LookbackState):
        state = state.inner
    return state.lstm if isinstance(state, AttentiveState) else state


def with_memory(inner: StackState | AttentiveState, memory: BarMemory | None) -> ModelState:
    """The model's state of `inner` and a bar `memory` (None: a model without lookback)."""
    return inner if memory is None else LookbackState(inner, memory)
