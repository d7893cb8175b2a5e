"""Stacked LSTM layers: each layer's hidden states are the next layer's inputs."""

from __future__ import annotations

import tensorflow as tf

from lstm_core.cell import LSTMCell, LSTMState, lstm_step
from lstm_core.fused import fused_recurrence, fused_unroll

StackState = tuple[LSTMState, ...]  # one `LSTMState` per layer, bottom first


class StackedLSTM(tf.Module):
    """`layers` LSTM cells of `units` each, with dropout on each layer's output.

    Sequences run time-major (`[time, batch, features]`), which is what the loop over time reads.
    """

    def __init__(self, input_size: int, units: int, layers: int,
                 rng: tf.random.Generator | None = None, name: str | None = None,
                 forget_bias: float = 0.0):
        super().__init__(name=name)
        rng = rng or tf.random.Generator.from_seed(0)
        with self.name_scope:
            self.cells = [LSTMCell(input_size if n == 0 else units, units, rng, name=f"layer_{n}",
                                   forget_bias=forget_bias)
                          for n in range(layers)]

    def initial_state(self, batch_size: int) -> StackState:
        return tuple(cell.initial_state(batch_size) for cell in self.cells)

    def __call__(self, inputs: tf.Tensor, state: StackState, dropout: float = 0.0,
                 seed: tf.Tensor | None = None, fused: bool = True
                 ) -> tuple[tf.Tensor, StackState]:
        """Runs every layer over a sequence.

        Args:
          inputs: `[time, batch, input]`.
          state: the state of each layer before the first step.
          dropout: the rate applied to each layer's output (training only); needs `seed`.
          seed: a stateless seed `[2]` for the dropout masks.
          fused: use the hand-written backward pass (`lstm_core.fused`) rather than autodiff.
        Returns:
          the top layer's hidden states `[time, batch, units]` and each layer's final state.
        """
        return self._run(inputs, state, dropout, seed, fused)

    def from_embedding(self, embedding: tf.Tensor, tokens: tf.Tensor, state: StackState,
                       dropout: float = 0.0, seed: tf.Tensor | None = None
                       ) -> tuple[tf.Tensor, StackState]:
        """`self(tf.gather(embedding, tokens), ...)` with the fused path, computed in fewer FLOPs.

        The first layer's input projection of each token, ``embedding[token] W + b``, is a row
        of the table ``embedding W + b`` (`[vocabulary, 4*units]`): one small matmul and a
        gather instead of a `[time*batch, embedding] × [embedding, 4*units]` matmul, and
        backward a sum of the gate gradients per token (a scatter-add) instead of two such
        matmuls. Worth it when the vocabulary is smaller than the tokens of a batch.

        Args:
          embedding: `[vocabulary, input]`.
          tokens: token ids, time-major `[time, batch]`.
        """
        return self._run(tf.gather(self.input_table(embedding), tokens), state, dropout, seed,
                         True, first_gate_inputs=True)

    def input_table(self, embedding: tf.Tensor) -> tf.Tensor:
        """The first layer's ``x W + b`` of every token, `[vocabulary, 4*units]`, from the
        `embedding` `[vocabulary, input]`."""
        first = self.cells[0]
        return tf.matmul(embedding, first.kernel) + first.bias

    def _run(self, inputs, state, dropout, seed, fused, first_gate_inputs=False):
        final_states = []
        for n, (cell, layer_state) in enumerate(zip(self.cells, state)):
            if n == 0 and first_gate_inputs:  # `inputs` is already ``x W + b``
                inputs, final = fused_recurrence(inputs, layer_state, cell.recurrent_kernel)
            elif fused:
                inputs, final = fused_unroll(inputs, layer_state, cell.kernel, cell.bias,
                                             cell.recurrent_kernel)
            else:
                outputs, final = cell.unroll(tf.transpose(inputs, [1, 0, 2]), layer_state)
                inputs = tf.transpose(outputs, [1, 0, 2])
            if dropout > 0.0:
                inputs = tf.nn.experimental.stateless_dropout(
                    inputs, dropout, seed=tf.random.experimental.stateless_fold_in(seed, n))
            final_states.append(final)
        return inputs, tuple(final_states)

    def step(self, inputs: tf.Tensor, state: StackState, first_gate_inputs: bool = False
             ) -> tuple[tf.Tensor, StackState]:
        """One time step through every layer: `inputs` `[batch, input]` → `[batch, units]`.

        With `first_gate_inputs`, `inputs` is already the first layer's ``x W + b``
        `[batch, 4*units]` (a row of the table of `from_embedding`)."""
        new_states = []
        for n, (cell, layer_state) in enumerate(zip(self.cells, state)):
            layer_state = (lstm_step(inputs, layer_state, cell.recurrent_kernel)
                           if n == 0 and first_gate_inputs else cell(inputs, layer_state))
            inputs = layer_state.hidden
            new_states.append(layer_state)
        return inputs, tuple(new_states)
