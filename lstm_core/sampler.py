"""The sampler: one token per step, the LSTM state carried, the whole loop compiled.

A sliding-window generator re-runs the last 50 or 100 tokens for every new token. Here the
primer runs through the model once, and then each step feeds only the last token and the state,
inside a `tf.while_loop` compiled by XLA (one call per chunk of `chunk_length` tokens, progress
reported between calls): the cost of a token does not grow with anything.

Choosing the next token from the logits ``l`` `[streams, vocabulary]`:
- tokens the `grammar` does not allow in the stream's state get ``-inf`` (the state moves with
  every token written; it starts from the one the primer leads to);
- greedy: ``argmax l``;
- otherwise ``l / temperature``, keep the ``top_k`` largest (0: all), keep the smallest set of
  tokens whose probability adds up to ``top_p`` (1.0: all), and draw one by the Gumbel-max
  trick (``argmax(l + g)``, ``g = -log(-log(u))``), which equals a draw from ``softmax(l)``.
Every draw uses a stateless seed derived from ``(random_seed, position)``: the same seed gives the
same tokens, however the loop is cut into chunks.

Each stream also sums the model's own log-probability of the tokens it chose (``log softmax l``
before any of the above): the sample's log-likelihood.

Beam search (Magenta's `--beam_size`, `--branch_factor`, `--steps_per_iteration`): each sample
runs ``beam_size * branch_factor`` streams. Every ``steps_per_iteration`` tokens the
``beam_size`` streams of highest log-likelihood are kept and each is copied ``branch_factor``
times (the copies then draw different tokens); the first iteration is shortened so that the last
one ends with the sample. The sample is the stream of highest log-likelihood at the end, traced
back through the copies. With ``beam_size = branch_factor = 1`` it is plain sampling.

Many streams run as slices side by side, one XLA computation per CPU core (as the trainer's
step does): one computation runs its small per-step matmuls on one core.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import tensorflow as tf

from lstm_core.distribute import batch_slices, cpu_cores
from lstm_core.grammar import Grammar
from lstm_core.model import LanguageModel
from lstm_core.stack import StackState

MIN_SLICE_STREAMS = 8  # fewer streams per slice: one computation on one core is faster


class Generated(NamedTuple):
    """What `Sampler.generate_scored` returns."""

    ids: np.ndarray  # [samples, length] int32, without the primer
    log_likelihood: np.ndarray  # [samples] float: the model's log-probability of the ids


class GenerationInterrupted(KeyboardInterrupt):
    """Ctrl-C during generation; `generated` holds the tokens of the chunks already finished
    (``length`` may be 0)."""

    def __init__(self, generated: Generated):
        super().__init__()
        self.generated = generated


class Sampler:
    def __init__(self, model: LanguageModel, temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 1.0, greedy: bool = False, chunk_length: int = 1000,
                 grammar: Grammar | None = None, beam_size: int = 1,
                 branch_factor: int = 1, steps_per_iteration: int = 1):
        """
        Args:
          temperature, top_k, top_p, greedy: how a token is chosen (see the module docstring).
          chunk_length: tokens generated per compiled call (progress is reported between calls).
          grammar: what may be written in each state (None: anything). A state that allows
            nothing is treated as allowing anything.
          beam_size, branch_factor, steps_per_iteration: beam search (1, 1, any: plain sampling).
        """
        vocabulary = model.config.vocabulary_size
        for name, value in (("beam_size", beam_size), ("branch_factor", branch_factor),
                            ("steps_per_iteration", steps_per_iteration)):
            if value < 1:
                raise ValueError(f"{name} is {value}; it must be at least 1")
        if grammar is not None and grammar.vocabulary_size != vocabulary:
            raise ValueError(f"the grammar has {grammar.vocabulary_size} tokens; the model has "
                             f"{vocabulary}")
        self.model, self.greedy, self.chunk_length = model, greedy, chunk_length
        self.temperature, self.top_k, self.top_p = temperature, top_k, top_p
        self.grammar = grammar
        if grammar is not None:
            self._allowed = tf.constant(grammar.allowed
                                        | ~grammar.allowed.any(axis=1, keepdims=True))
            self._next_state = tf.constant(grammar.next_state, tf.int32)
        self.beam_size, self.branch_factor = beam_size, branch_factor
        self.steps_per_iteration = steps_per_iteration
        self._prime = tf.function(self._prime_state, jit_compile=True)
        self._slice_chunk = tf.function(self._generate_chunk, jit_compile=True)
        self._sliced_chunk = tf.function(self._generate_chunk_in_slices)

    @property
    def streams_per_sample(self) -> int:
        return self.beam_size * self.branch_factor

    @property
    def is_beam_search(self) -> bool:
        return self.streams_per_sample > 1

    # ---- choosing a token -----------------------------------------------------------------
    def choose(self, logits: tf.Tensor, grammar_state: tf.Tensor, seed: tf.Tensor,
               temperature, top_k, top_p) -> tf.Tensor:
        """Next token ids `[streams]` from logits `[streams, vocabulary]` in the grammar's
        states `[streams]`. `temperature`, `top_k`, `top_p` are numbers (which filters run is
        decided when tracing) or scalar tensors (decided in the graph: the exported model)."""
        excluded = tf.fill(tf.shape(logits), -np.inf)
        if self.grammar is not None:
            logits = tf.where(tf.gather(self._allowed, grammar_state), logits, excluded)
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

    # ---- the compiled loop ----------------------------------------------------------------
    def _prime_state(self, primer: tf.Tensor) -> StackState:
        """Runs all but the last primer token through the model: the state to start from."""
        state = self.model.initial_state(tf.shape(primer)[0])
        _, state = self.model(primer[:, :-1], state)
        return state

    def _beam_rows(self, log_likelihood: tf.Tensor) -> tf.Tensor:
        """Each sample's `beam_size` likeliest streams, each copied `branch_factor` times: the
        stream each stream continues, `[streams]`."""
        per_sample = tf.reshape(log_likelihood, [-1, self.streams_per_sample])
        kept = tf.math.top_k(per_sample, self.beam_size).indices  # [samples, beam]
        first = tf.range(tf.shape(per_sample)[0]) * self.streams_per_sample
        return tf.reshape(tf.repeat(kept, self.branch_factor, axis=1) + first[:, None], [-1])

    def _generate_chunk(self, token, grammar_state, state, log_likelihood, seed, position,
                        length, first_iteration, temperature, top_k, top_p):
        """`chunk_length` steps of the streams of one slice.

        Args:
          token: the last token of each stream `[streams]`; grammar_state: the grammar's state
            after it `[streams]` (unused without a grammar); state: the LSTM state before it.
          log_likelihood: of each stream so far `[streams]`.
          seed: `[2]`; position: the index of the first token of the chunk in the sample.
          length: the sample's length (steps past it are not scored nor pruned).
          first_iteration: beam search: the tokens before the first pruning.
        Returns:
          tokens `[streams, chunk]`; the stream each stream continued at each step
          `[streams, chunk]` (beam search; else each its own); then the new token, grammar
          state, state and log-likelihood.
        """
        tokens = tf.TensorArray(tf.int32, size=self.chunk_length)
        parents = tf.TensorArray(tf.int32, size=self.chunk_length)
        own = tf.range(tf.shape(token)[0])
        input_table = self.model.input_table()  # once per chunk: a lookup per step
        for t in tf.range(self.chunk_length):
            step = position + tf.cast(t, tf.int64)
            rows = own
            if self.is_beam_search:
                pruning = ((step >= first_iteration) & (step < length)
                           & ((step - first_iteration) % self.steps_per_iteration == 0))
                rows = tf.where(pruning, self._beam_rows(log_likelihood), own)
                token, grammar_state, log_likelihood, state = tf.nest.map_structure(
                    lambda s: tf.gather(s, rows), (token, grammar_state, log_likelihood, state))
            logits, state = self.model.step(token, state, input_table)
            chosen = self.choose(logits, grammar_state, tf.random.experimental.stateless_fold_in(
                seed, step), temperature, top_k, top_p)
            if self.grammar is not None:
                grammar_state = tf.gather_nd(self._next_state,
                                             tf.stack([grammar_state, chosen], axis=1))
            log_probability = tf.gather(tf.nn.log_softmax(logits), chosen, batch_dims=1)
            log_likelihood += tf.where(step < length, log_probability, 0.0)
            token = chosen
            tokens = tokens.write(t, token)
            if self.is_beam_search:
                parents = parents.write(t, rows)
        tokens = tf.transpose(tokens.stack())
        parents = (tf.transpose(parents.stack()) if self.is_beam_search
                   else tf.zeros_like(tokens))  # unused: each stream continues itself
        return tokens, parents, token, grammar_state, state, log_likelihood

    def _slices(self, streams: int) -> int:
        """Slices of the streams computed side by side: one per CPU core when each gets at least
        `MIN_SLICE_STREAMS` streams (whole samples each), on the CPU alone."""
        if streams is None or tf.config.list_logical_devices("GPU"):
            return 1
        samples = streams // self.streams_per_sample
        return max(n for n in range(1, cpu_cores() + 1) if samples % n == 0
                   and (n == 1 or streams // n >= MIN_SLICE_STREAMS))

    def _chunk(self, token, *arguments):
        """`_generate_chunk` of all the streams: one call, or one per slice side by side."""
        if self._slices(token.shape[0]) == 1:  # called directly: no graph around it
            return self._slice_chunk(token, *arguments)
        return self._sliced_chunk(token, *arguments)

    def _generate_chunk_in_slices(self, token, grammar_state, state, log_likelihood, seed,
                                  position, length, first_iteration, temperature, top_k, top_p):
        """`_generate_chunk` on each slice of the streams (one XLA computation each, run side by
        side by the executor), the results joined. Slice ``n`` draws with ``fold_in(seed, n)``."""
        slices = self._slices(token.shape[0])
        parts = []
        for n, carried in enumerate(
                batch_slices((token, grammar_state, state, log_likelihood), slices)):
            tokens, parents, *rest = self._slice_chunk(
                *carried, tf.random.experimental.stateless_fold_in(seed, n), position, length,
                first_iteration, temperature, top_k, top_p)
            offset = n * (token.shape[0] // slices)  # parents are indices within the slice
            parts.append((tokens, parents + offset, *rest))
        return tf.nest.map_structure(lambda *values: tf.concat(values, 0), *parts)

    # ---- driving it -----------------------------------------------------------------------
    def initial_state(self, primer: np.ndarray
                      ) -> tuple[tf.Tensor, tf.Tensor, StackState]:
        """The last primer token of each stream, the grammar's state after the primer, and the
        LSTM state before its last token, each sample's row copied `streams_per_sample` times."""
        grammar_state = tf.constant([self.grammar.run(row) if self.grammar else 0
                                     for row in np.asarray(primer)], tf.int32)
        primer = tf.constant(primer, tf.int32)
        state = (self._prime(primer) if primer.shape[1] > 1
                 else self.model.initial_state(primer.shape[0]))
        return tf.nest.map_structure(lambda s: tf.repeat(s, self.streams_per_sample, axis=0),
                                     (primer[:, -1], grammar_state, state))

    def generate(self, primer: np.ndarray, length: int, random_seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """`generate_scored(...).ids`: the generated ids `[samples, length]`."""
        return self.generate_scored(primer, length, random_seed, progress).ids

    def generate_scored(self, primer: np.ndarray, length: int, random_seed: int = 0,
                        progress: Callable[[int, int], None] | None = None) -> Generated:
        """Continues each primer.

        Args:
          primer: token ids `[samples, primer_length]`, at least one token per sample.
          length: how many tokens to generate per sample.
          random_seed: the same seed gives the same tokens (on the same machine).
          progress: called as ``progress(done, length)`` after every chunk.
        Returns:
          the generated ids `[samples, length]`, without the primer, and their log-likelihoods.
        Raises:
          GenerationInterrupted: on Ctrl-C, with the chunks finished so far.
        """
        token, grammar_state, state = self.initial_state(primer)
        log_likelihood = tf.zeros([token.shape[0]])
        seed = tf.constant([random_seed, 0], tf.int64)
        settings = (self.temperature, self.top_k, self.top_p)
        bounds = (tf.constant(length, tf.int64), tf.constant(
            (length - 1) % self.steps_per_iteration + 1, tf.int64))
        chunks, done = [], 0
        try:
            for position in range(0, length, self.chunk_length):
                tokens, parents, token, grammar_state, state, log_likelihood = self._chunk(
                    token, grammar_state, state, log_likelihood, seed,
                    tf.constant(position, tf.int64), *bounds, *settings)
                chunks.append((tokens.numpy(), parents.numpy() if self.is_beam_search else None,
                               log_likelihood.numpy()))
                done = min(position + self.chunk_length, length)
                if progress:
                    progress(done, length)
        except KeyboardInterrupt:
            raise GenerationInterrupted(self._trace(chunks, done, len(primer))) from None
        return self._trace(chunks, length, len(primer))

    def generate_in_graph(self, primer: tf.Tensor, length: tf.Tensor, random_seed: tf.Tensor,
                          temperature: tf.Tensor, top_k: tf.Tensor, top_p: tf.Tensor
                          ) -> tuple[tf.Tensor, tf.Tensor]:
        """`generate_scored` as graph ops, for a `tf.function` (the exported model): the same
        compiled chunks and draws, the loop over chunks in the graph, the settings tensors.
        Plain sampling without a grammar only (beam search traces its streams back in numpy; a
        grammar's start state is found in numpy).

        Args:
          primer: int32 `[samples, time]`, time >= 1; length: int32 scalar; random_seed: int64
            scalar; temperature, top_k, top_p: float32, int32, float32 scalars.
        Returns:
          ids int32 `[samples, length]` and log-likelihoods float32 `[samples]`.
        """
        if self.is_beam_search or self.grammar is not None:
            raise ValueError("generate_in_graph is plain sampling without a grammar; beam "
                             "search and grammars run in generate_scored")
        streams = tf.shape(primer)[0]
        state = tf.cond(tf.shape(primer)[1] > 1, lambda: self._prime(primer),
                        lambda: self.model.initial_state(streams))
        seed = tf.stack([random_seed, tf.constant(0, tf.int64)])
        length = tf.cast(length, tf.int64)
        chunks = (length + self.chunk_length - 1) // self.chunk_length

        start = (primer[:, -1], tf.zeros([streams], tf.int32), state, tf.zeros([streams]))
        shapes = tf.nest.map_structure(lambda value: value.shape, start)

        def next_chunk(n, token, grammar_state, state, log_likelihood, all_tokens):
            tokens, _, *carried = self._slice_chunk(
                token, grammar_state, state, log_likelihood, seed, n * self.chunk_length,
                length, length, temperature, top_k, top_p)
            # The compiled chunk's outputs have no static shape: give back the loop's.
            carried = tf.nest.map_structure(tf.ensure_shape, tuple(carried), shapes)
            return (n + 1, *carried,
                    all_tokens.write(tf.cast(n, tf.int32), tf.transpose(tokens)))

        *_, log_likelihood, all_tokens = tf.while_loop(
            lambda n, *_: n < chunks, next_chunk,
            (tf.constant(0, tf.int64), *start,
             tf.TensorArray(tf.int32, size=tf.cast(chunks, tf.int32), infer_shape=False)))
        ids = tf.transpose(all_tokens.concat())[:, :length]  # [chunks * chunk, samples] before
        return ids, log_likelihood

    def _trace(self, chunks: list, length: int, samples: int) -> Generated:
        """The first `length` tokens of each of the `samples` from the chunks: with beam search,
        the likeliest stream at the end traced back through the copies it continued."""
        copies = self.streams_per_sample
        if not chunks:
            return Generated(np.zeros([samples, 0], np.int32), np.zeros([samples]))
        tokens = np.concatenate([c[0] for c in chunks], axis=1)[:, :length]
        log_likelihood = chunks[-1][2]
        if copies == 1:
            return Generated(tokens, log_likelihood)
        parents = np.concatenate([c[1] for c in chunks], axis=1)[:, :length]
        per_sample = log_likelihood.reshape(-1, copies)
        row = np.argmax(per_sample, axis=1) + np.arange(len(per_sample)) * copies
        best = per_sample.max(axis=1)
        traced = np.empty([len(row), length], np.int32)
        for t in range(length - 1, -1, -1):
            traced[:, t] = tokens[row, t]
            row = parents[row, t]
        return Generated(traced, best)


def _when(condition, transform: Callable[[], tf.Tensor], value: tf.Tensor) -> tf.Tensor:
    """`transform()` where `condition` holds, else `value`: decided now for a Python bool, in
    the graph for a boolean tensor."""
    if isinstance(condition, (bool, np.bool_)):
        return transform() if condition else value
    return tf.cond(condition, transform, lambda: value)
