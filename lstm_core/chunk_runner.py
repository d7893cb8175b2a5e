"""The compiled chunk: `chunk_length` steps of every stream in one XLA call.

A sliding-window generator re-runs the last 50 or 100 tokens for every new token. Here the
primer runs through the model once, and then each step feeds only the last token and the LSTM
state, inside a loop compiled by XLA: the cost of a token does not grow with anything. A step
prunes the beams (`BeamSearch`), runs the model one step, chooses a token (`TokenChoice`), moves
the grammar's state and adds the token's log-probability to the stream's log-likelihood.

Every draw uses a stateless seed folded with the token's position in the sample: the same seed
gives the same tokens, however the loop is cut into chunks.

Many streams run as slices side by side, one XLA computation per CPU core (as the trainer's
step does): one computation runs its small per-step matmuls on one core.
"""

from __future__ import annotations

import tensorflow as tf

from lstm_core.beam_search import BeamSearch
from lstm_core.distribute import batch_slices, cpu_cores
from lstm_core.model import LanguageModel, ModelState
from lstm_core.token_choice import TokenChoice

MIN_SLICE_STREAMS = 8  # fewer streams per slice: one computation on one core is faster


class ChunkRunner:
    """Primes the streams and runs them chunk by chunk; the drivers (`Sampler`) loop over the
    chunks.

    A chunk's arguments, after the carried ones (token, grammar state, the model's state: LSTM
    state and any attention window, log-likelihood, each `[streams, ...]`): seed `[2]`, position (int64: the index of the
    chunk's first token in the sample), length (int64: the sample's length; steps past it are
    neither scored nor pruned), first_iteration (int64: beam search, the tokens before the first
    pruning), and temperature, top_k, top_p (`TokenChoice.choose`).
    """

    def __init__(self, model: LanguageModel, choice: TokenChoice, beams: BeamSearch,
                 chunk_length: int):
        self.model, self.choice, self.beams = model, choice, beams
        self.chunk_length = chunk_length
        self.prime = tf.function(self._prime_state, jit_compile=True)
        self.slice_chunk = tf.function(self._generate_chunk, jit_compile=True)
        self._sliced_chunk = tf.function(self._generate_chunk_in_slices)

    def _prime_state(self, primer: tf.Tensor) -> ModelState:
        """Runs all but the last primer token `[samples, time]` through the model: the state
        to start from."""
        state = self.model.initial_state(tf.shape(primer)[0])
        _, state = self.model(primer[:, :-1], state)
        return state

    def _generate_chunk(self, token, grammar_state, state, log_likelihood, seed, position,
                        length, first_iteration, temperature, top_k, top_p):
        """`chunk_length` steps of the streams of one slice.

        Args:
          token: the last token of each stream `[streams]`; grammar_state: the grammar's state
            after it `[streams]` (unused without a grammar); state: the LSTM state before it.
          log_likelihood: of each stream so far `[streams]`; the rest: see the class.
        Returns:
          tokens `[streams, chunk]`; the stream each stream continued at each step
          `[streams, chunk]` (beam search; else zeros); then the new token, grammar state,
          state and log-likelihood.
        """
        beam_search = self.beams.is_beam_search
        tokens = tf.TensorArray(tf.int32, size=self.chunk_length)
        parents = tf.TensorArray(tf.int32, size=self.chunk_length)
        input_table = self.model.input_table()  # once per chunk: a lookup per step
        for t in tf.range(self.chunk_length):
            step = position + tf.cast(t, tf.int64)
            if beam_search:
                rows = self.beams.continued_rows(step, log_likelihood, length, first_iteration)
                token, grammar_state, log_likelihood, state = tf.nest.map_structure(
                    lambda s: tf.gather(s, rows), (token, grammar_state, log_likelihood, state))
                parents = parents.write(t, rows)
            logits, state = self.model.step(token, state, input_table)
            token = self.choice.choose(logits, grammar_state, tf.random.experimental
                                       .stateless_fold_in(seed, step), temperature, top_k, top_p)
            grammar_state = self.choice.next_grammar_state(grammar_state, token)
            log_likelihood += tf.where(step < length,
                                       self.choice.log_probability(logits, token), 0.0)
            tokens = tokens.write(t, token)
        tokens = tf.transpose(tokens.stack())
        parents = (tf.transpose(parents.stack()) if beam_search
                   else tf.zeros_like(tokens))  # unused: each stream continues itself
        return tokens, parents, token, grammar_state, state, log_likelihood

    def slices(self, streams: int | None) -> int:
        """Slices of the streams computed side by side: one per CPU core when each gets at least
        `MIN_SLICE_STREAMS` streams (whole samples each), on the CPU alone."""
        if streams is None or tf.config.list_logical_devices("GPU"):
            return 1
        samples = streams // self.beams.streams_per_sample
        return max(n for n in range(1, cpu_cores() + 1) if samples % n == 0
                   and (n == 1 or streams // n >= MIN_SLICE_STREAMS))

    def chunk(self, token, *arguments):
        """A chunk of all the streams: one compiled call, or one per slice side by side."""
        if self.slices(token.shape[0]) == 1:  # called directly: no graph around it
            return self.slice_chunk(token, *arguments)
        return self._sliced_chunk(token, *arguments)

    def _generate_chunk_in_slices(self, token, grammar_state, state, log_likelihood, seed,
                                  *arguments):
        """`_generate_chunk` on each slice of the streams (one XLA computation each, run side by
        side by the executor), the results joined. Slice ``n`` draws with ``fold_in(seed, n)``."""
        slices = self.slices(token.shape[0])
        parts = []
        for n, carried in enumerate(
                batch_slices((token, grammar_state, state, log_likelihood), slices)):
            tokens, parents, *rest = self.slice_chunk(
                *carried, tf.random.experimental.stateless_fold_in(seed, n), *arguments)
            offset = n * (token.shape[0] // slices)  # parents are indices within the slice
            parts.append((tokens, parents + offset, *rest))
        return tf.nest.map_structure(lambda *values: tf.concat(values, 0), *parts)
