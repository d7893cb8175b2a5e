"""The sampler: a model's streams continued token by token, the LSTM state carried.

`Sampler` puts the parts together and drives them: `TokenChoice` (token_choice.py: temperature,
top-k, top-p, greedy, a grammar's masks), `BeamSearch` (beam_search.py: which streams go on) and
`ChunkRunner` (chunk_runner.py: `chunk_length` steps of every stream in one XLA call, slices of
many streams side by side). Two drivers loop over the chunks:
- `generate_scored`, eager: progress reported between chunks, Ctrl-C keeps the finished ones
  (`GenerationInterrupted`), beam search traced back in numpy;
- `generate_in_graph`, graph ops for a `tf.function` (the exported model): the same chunks and
  draws, so the same seed gives the same tokens, the settings tensors.

Each sample's log-likelihood is the sum of the model's own log-probabilities of the tokens it
chose (before temperature and the filters).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import tensorflow as tf

from lstm_core.beam_search import BeamSearch
from lstm_core.chunk_runner import ChunkRunner
from lstm_core.grammar import Grammar
from lstm_core.model import LanguageModel, ModelState
from lstm_core.token_choice import TokenChoice


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
                 branch_factor: int = 1, steps_per_iteration: int = 1,
                 groups: np.ndarray | None = None):
        """
        Args:
          temperature, top_k, top_p, greedy: how a token is chosen (`TokenChoice`).
          chunk_length: tokens generated per compiled call (progress is reported between calls).
          grammar: what may be written in each state (None: anything). A state that allows
            nothing is treated as allowing anything.
          beam_size, branch_factor, steps_per_iteration: beam search (1, 1, any: plain
            sampling; `BeamSearch`).
          groups: each token's group, among which the grammar's masked probability stays
            (`TokenChoice`; None: none).
        """
        vocabulary = model.config.vocabulary_size
        if grammar is not None and grammar.vocabulary_size != vocabulary:
            raise ValueError(f"the grammar has {grammar.vocabulary_size} tokens; the model has "
                             f"{vocabulary}")
        self.beams = BeamSearch(beam_size, branch_factor, steps_per_iteration)
        self.choice = TokenChoice(temperature, top_k, top_p, greedy, grammar, groups)
        self.model, self.chunk_length = model, chunk_length
        self.runner = ChunkRunner(model, self.choice, self.beams, chunk_length)

    @property
    def streams_per_sample(self) -> int:
        return self.beams.streams_per_sample

    @property
    def is_beam_search(self) -> bool:
        return self.beams.is_beam_search

    def choose(self, logits: tf.Tensor, grammar_state: tf.Tensor, seed: tf.Tensor,
               temperature, top_k, top_p) -> tf.Tensor:
        """`TokenChoice.choose`: next token ids `[streams]` from logits `[streams,
        vocabulary]`."""
        return self.choice.choose(logits, grammar_state, seed, temperature, top_k, top_p)

    def _slices(self, streams: int | None) -> int:
        """`ChunkRunner.slices`: how many slices `streams` run as."""
        return self.runner.slices(streams)

    def initial_state(self, primer: np.ndarray
                      ) -> tuple[tf.Tensor, tf.Tensor, ModelState]:
        """The last primer token of each stream, the grammar's state after the primer, and the
        model's state (LSTM, attention window) before its last token, each sample's row copied `streams_per_sample` times."""
        primer = tf.constant(primer, tf.int32)
        state = (self.runner.prime(primer) if primer.shape[1] > 1
                 else self.model.initial_state(primer.shape[0]))
        return tf.nest.map_structure(lambda s: tf.repeat(s, self.streams_per_sample, axis=0),
                                     (primer[:, -1], self.choice.start_states(primer), state))

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
        settings = (self.choice.temperature, self.choice.top_k, self.choice.top_p)
        bounds = (tf.constant(length, tf.int64),
                  tf.constant(self.beams.first_iteration(length), tf.int64))
        chunks, done = [], 0
        try:
            for position in range(0, length, self.chunk_length):
                tokens, parents, token, grammar_state, state, log_likelihood = self.runner.chunk(
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
        Plain sampling, with the grammar if any (beam search traces its streams back in numpy:
        `generate_scored` only).

        Args:
          primer: int32 `[samples, time]`, time >= 1; length: int32 scalar; random_seed: int64
            scalar; temperature, top_k, top_p: float32, int32, float32 scalars.
        Returns:
          ids int32 `[samples, length]` and log-likelihoods float32 `[samples]`.
        """
        if self.is_beam_search:
            raise ValueError("generate_in_graph is plain sampling; beam search runs in "
                             "generate_scored")
        streams = tf.shape(primer)[0]
        state = tf.cond(tf.shape(primer)[1] > 1, lambda: self.runner.prime(primer),
                        lambda: self.model.initial_state(streams))
        seed = tf.stack([random_seed, tf.constant(0, tf.int64)])
        length = tf.cast(length, tf.int64)
        chunks = (length + self.chunk_length - 1) // self.chunk_length

        start = (primer[:, -1], self.choice.start_states(primer), state, tf.zeros([streams]))
        shapes = tf.nest.map_structure(lambda value: value.shape, start)

        def next_chunk(n, token, grammar_state, state, log_likelihood, all_tokens):
            tokens, _, *carried = self.runner.slice_chunk(
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
        """The first `length` tokens of each of the `samples` from the chunks (tokens, parents,
        log-likelihood at the chunk's end): with beam search, the likeliest stream at the end
        traced back through the copies it continued."""
        if not chunks:
            return Generated(np.zeros([samples, 0], np.int32), np.zeros([samples]))
        tokens = np.concatenate([c[0] for c in chunks], axis=1)[:, :length]
        log_likelihood = chunks[-1][2]
        if not self.is_beam_search:
            return Generated(tokens, log_likelihood)
        parents = np.concatenate([c[1] for c in chunks], axis=1)[:, :length]
        return Generated(*self.beams.trace(tokens, parents, log_likelihood))
