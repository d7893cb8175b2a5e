"""The token-choice policy: the model's logits → the next token of each stream.

From the logits ``l`` `[streams, vocabulary]`:
- tokens the `grammar` does not allow in the stream's state get ``-inf`` (the state moves with
  every token written; it starts from the one the primer leads to). With `groups` (music: a
  group per token type, ``Position``, ``Pitch``, ``Bar``...), the probability masked from a
  token stays with the allowed tokens of its group, in proportion to theirs: the grammar decides
  which value a token may take, the model how likely each type is. Without, the masked mass goes
  to every allowed token alike, so a model unsure where in the bar it is (probability on
  positions already passed) ends bars early: measured in docs/music.md;
- greedy: ``argmax l``;
- otherwise ``l / temperature``, keep the ``top_k`` largest (0: all), keep the smallest set of
  tokens whose probability adds up to ``top_p`` (1.0: all), and draw one by the Gumbel-max
  trick (``argmax(l + g)``, ``g = -log(-log(u))``), which equals a draw from ``softmax(l)``.
The draw takes a stateless seed: the caller derives it from the position, so that the same seed
gives the same tokens however the loop is cut into chunks.

The chosen token's log-probability is the model's own (``log softmax l`` before any of the
above): a sample's log-likelihood measures the model, not the filters.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from lstm_core.grammar import Conjunction, Grammar


class TokenChoice:
    """Temperature, top-k, top-p, greedy and a grammar's masks; the grammar's state per stream."""

    def __init__(self, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 greedy: bool = False, grammar: Grammar | Conjunction | None = None,
                 groups: np.ndarray | None = None):
        """
        Args:
          temperature, top_k, top_p, greedy: how a token is chosen (see the module docstring).
          grammar: what may be written in each state (None: anything); a `Conjunction` runs
            each of its grammars in its own digit of the state. A state that allows nothing is
            treated as allowing anything, so a stream is never left without a token.
          groups: int `[vocabulary]`, each token's group, whose allowed tokens keep the
            probability the grammar masks from the others (None: no groups).
        """
        self.temperature, self.top_k, self.top_p = temperature, top_k, top_p
        self.greedy, self.grammar = greedy, grammar
        # One-hot `[vocabulary, groups]`: sums of probabilities per group are one matmul.
        self._membership = (None if groups is None or grammar is None
                            else tf.one_hot(groups, int(np.max(groups)) + 1))
        if grammar is not None:
            factors = grammar.factors
            strides = grammar.strides if isinstance(grammar, Conjunction) else [1]
            # Per grammar: its table, how many states it has, what its state counts for.
            self._factors = [(tf.constant(g.allowed), tf.constant(g.next_state, tf.int32),
                              g.states, stride) for g, stride in zip(factors, strides)]

    def choose(self, logits: tf.Tensor, grammar_state: tf.Tensor, seed: tf.Tensor,
               temperature, top_k, top_p) -> tf.Tensor:
        """Next token ids `[streams]` from logits `[streams, vocabulary]` in the grammar's
        states `[streams]`, drawn with `seed` `[2]`. `temperature`, `top_k`, `top_p` are numbers
        (which filters run is decided when tracing) or scalar tensors (decided in the graph: the
        exported model)."""
        excluded = tf.fill(tf.shape(logits), -np.inf)
        if self.grammar is not None:
            allowed = tf.reduce_all(tf.stack([
                tf.gather(table, grammar_state // stride % states)
                for table, _, states, stride in self._factors]), axis=0)
            allowed |= ~tf.reduce_any(allowed, axis=-1, keepdims=True)
            if self._membership is not None:
                logits = within_groups(logits, allowed, self._membership)
            logits = tf.where(allowed, logits, excluded)
        if self.greedy:
            return tf.argmax(logits, axis=-1, output_type=tf.int32)
        logits = logits / temperature

        def keep_top_k():
            descending = tf.sort(logits, axis=-1, direction="DESCENDING")
            kth_largest = tf.gather(descending, tf.reshape(top_k - 1, [1]), axis=1)
            return tf.where(logits < kth_largest, excluded, logits)

        logits = _when((top_k > 0) & (top_k < logits.shape[-1]), keep_top_k, logits)

        def keep_top_p():
            descending = tf.sort(logits, axis=-1, direction="DESCENDING")
            mass_before = tf.cumsum(tf.nn.softmax(descending), axis=-1, exclusive=True)
            kept = tf.where(mass_before < top_p, descending, np.inf)
            return tf.where(logits < tf.reduce_min(kept, axis=-1, keepdims=True), excluded,
                            logits)

        logits = _when(top_p < 1.0, keep_top_p, logits)
        uniform = tf.random.stateless_uniform(tf.shape(logits), seed, minval=1e-20, maxval=1.0)
        return tf.argmax(logits - tf.math.log(-tf.math.log(uniform)), axis=-1,
                         output_type=tf.int32)

    @staticmethod
    def log_probability(logits: tf.Tensor, chosen: tf.Tensor) -> tf.Tensor:
        """The model's log-probability `[streams]` of the `chosen` ids `[streams]` under its
        logits `[streams, vocabulary]`, unfiltered."""
        return tf.gather(tf.nn.log_softmax(logits), chosen, batch_dims=1)

    def next_grammar_state(self, grammar_state: tf.Tensor, chosen: tf.Tensor) -> tf.Tensor:
        """The grammar's states `[streams]` after writing `chosen` `[streams]` (unchanged
        without a grammar)."""
        if self.grammar is None:
            return grammar_state
        return tf.add_n([tf.gather_nd(table, tf.stack([grammar_state // stride % states, chosen],
                                                      axis=1)) * stride
                         for _, table, states, stride in self._factors])

    def start_states(self, primer: tf.Tensor) -> tf.Tensor:
        """The grammar's state after each primer row, int32 `[samples]` from int32 `[samples,
        time]` (0 without a grammar). Graph ops, so that the exported model keeps a grammar too;
        a token the grammar does not allow still moves it (a primer written by hand)."""
        samples = tf.shape(primer)[0]
        if self.grammar is None:
            return tf.zeros([samples], tf.int32)
        return tf.foldl(self.next_grammar_state, tf.transpose(primer),
                        initializer=tf.fill([samples], tf.constant(self.grammar.start, tf.int32)))

def within_groups(logits: tf.Tensor, allowed: tf.Tensor, membership: tf.Tensor) -> tf.Tensor:
    """Log-probabilities `[streams, vocabulary]` in which each allowed token has its share of
    its group's masked probability: ``p_v * P_g / A_g`` for ``p = softmax(logits)``, ``P_g``
    the probability of group ``g`` and ``A_g`` that of its allowed tokens (`membership` one-hot
    `[vocabulary, groups]`). Masked tokens are left for the caller to exclude."""
    probabilities = tf.nn.softmax(logits)
    group_total = tf.matmul(probabilities, membership)  # [streams, groups]
    group_kept = tf.matmul(probabilities * tf.cast(allowed, probabilities.dtype), membership)
    scale = tf.matmul(tf.math.divide_no_nan(group_total, group_kept), membership,
                      transpose_b=True)  # [streams, vocabulary]: P_g / A_g of each token's g
    return tf.nn.log_softmax(logits) + tf.math.log(tf.maximum(scale, 1.0))


def _when(condition, transform: Callable[[], tf.Tensor], value: tf.Tensor) -> tf.Tensor:
    """`transform()` where `condition` holds, else `value`: decided now for a Python bool, in
    the graph for a boolean tensor."""
    if isinstance(condition, (bool, np.bool_)):
        return transform() if condition else value
    return tf.cond(condition, transform, lambda: value)
