"""Lookback inputs: what the music did one and two bars ago at this point of the bar.

Magenta's Melody RNN (lookback_rnn) gives the model, beside the current event, the events one
and two bars back and the position in the bar, so that a bar can be played again without being
held in the LSTM's cell state. On a fixed grid those are fixed offsets; in REMI bars are marked
by tokens (``Bar``, then ``Position_p`` before each group of notes starting at ``p``), so here
they are read from the token stream itself.

Each token id has a role in the bar, the model's ``bar_grid`` (`bar_grid` builds it from the
vocabulary): `BAR`, a position of rank ``r`` (``Position`` tokens sorted by value; ``r >= 0``),
`NOTE` (``Pitch``, ``PitchDrum``) or `OTHER`. A stream carries a `BarMemory`:

    position  [batch]          0 before the bar's first Position, else its rank + 1: ``q``
    waiting   [batch]          1 while the current position has had no note yet
    bars      [batch, 3, P+1]  the first note token at each position of this bar (k = 0), the
                               one before (k = 1) and the one before that (k = 2); column 0 and
                               positions without a note hold ``V`` (vocabulary size): none

One step reads token ``x_t``: a `BAR` shifts ``bars`` one bar back (a fresh bar of ``V``) and sets
``q = 0``; a position ``r`` sets ``q = r + 1`` and ``waiting = 1``; a `NOTE` while waiting is
written to ``bars[0, q]``. Then, for the token after ``x_t``, the lookback indices are::

    q                                          where in the bar we are
    n_k = bars[k, q]                 k = 1, 2  the note at this position k bars back (V: none)
    s_k = min{c > q : bars[k, c] != V}  k = 1, 2  the next position with a note k bars back
                                               (P + 1: none left before the bar line)

and the lookback contribution, `[batch, embedding]`, added to the token's embedding::

    l_t = Q[q] + N_1[n_1] + N_2[n_2] + S_1[s_1] + S_2[s_2]

``Q`` `[P+1, embedding]`, ``N_k`` `[V+1, embedding]`, ``S_k`` `[P+2, embedding]`, all zero at
first, so that a new model starts as the model without lookback. Adding in the embedding space
rather than concatenating more inputs keeps the LSTM's input size, hence every fast path of the
first layer; the first layer being linear in its input, the sum is a concatenation with tied
projections. The position and the next onsets k bars back tell the model when the next group of
notes came before (rhythm); the note k bars back tells it what it was (the pitch of the first
note of the group, in MidiTok's order).

`lookback_step` is the pure step (the sampler's); `lookback_sequence` the same over a sequence
(training's), a `tf.scan` over integer bookkeeping followed by one gather per table. Nothing in
the memory is learned: gradients reach only the tables.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import tensorflow as tf

BAR, NOTE, OTHER = -1, -2, -3  # roles in `bar_grid` besides a position's rank (>= 0)
BAR_TYPES = frozenset({"Bar"})
NOTE_TYPES = frozenset({"Pitch", "PitchDrum"})
LAGS = 2  # bars looked back
BPE_JOINER = "+"  # between the tokens a BPE token merges (`lstm_core.music.tokenizer`'s)


class BarMemory(NamedTuple):
    """What a stream carries for the lookback (see the module docstring); int32."""

    position: tf.Tensor  # q [batch]
    waiting: tf.Tensor  # [batch]
    bars: tf.Tensor  # [batch, 1 + LAGS, P+1]


class LookbackIndices(NamedTuple):
    """The rows of each table the contribution reads, each int32 `[...]` (batch, or time and
    batch)."""

    position: tf.Tensor  # q
    notes: tf.Tensor  # n_1, n_2 [..., LAGS]
    next_onsets: tf.Tensor  # s_1, s_2 [..., LAGS]


def bar_grid(tokens: Sequence[str]) -> tuple[int, ...]:
    """The role of each token (`BAR`, a position's rank, `NOTE`, `OTHER`), from the types of
    MidiTok's ``Type_value`` token names; empty when the vocabulary has no bars or positions
    (TSD, MIDI-Like, notes, text) or merges them by BPE (a merged token has no single role)."""
    def kind(token: str) -> str:
        return token.split("_", 1)[0]

    if any(BPE_JOINER in t for t in tokens if kind(t) in {"Bar", "Position", *NOTE_TYPES}):
        return ()
    values = sorted({int(t.split("_", 1)[1]) for t in tokens if kind(t) == "Position"})
    if not values or not any(kind(t) in BAR_TYPES for t in tokens):
        return ()
    rank = {value: r for r, value in enumerate(values)}
    return tuple(BAR if kind(t) in BAR_TYPES else rank[int(t.split("_", 1)[1])]
                 if kind(t) == "Position" else NOTE if kind(t) in NOTE_TYPES else OTHER
                 for t in tokens)


def positions_of(grid: Sequence[int]) -> int:
    """``P``, the positions a bar of `grid` has."""
    return max(grid) + 1


def remember(token: tf.Tensor, memory: BarMemory, grid: tf.Tensor) -> BarMemory:
    """The memory after `token` `[batch]` (int32); `grid` the roles `[vocabulary]`."""
    role = tf.gather(grid, token)
    vocabulary, columns = tf.shape(grid)[0], tf.shape(memory.bars)[2]
    is_bar, is_position = role == BAR, role >= 0
    shifted = tf.concat([tf.fill(tf.shape(memory.bars[:, :1]), vocabulary),
                         memory.bars[:, :-1]], 1)
    bars = tf.where(is_bar[:, None, None], shifted, memory.bars)
    position = tf.where(is_bar, 0, tf.where(is_position, role + 1, memory.position))
    noted = (role == NOTE) & (memory.waiting > 0)
    write = noted[:, None] & (tf.range(columns)[None, :] == position[:, None])  # [batch, P+1]
    current = tf.where(write, token[:, None], bars[:, 0])
    bars = tf.concat([current[:, None], bars[:, 1:]], 1)
    waiting = tf.where(is_position, 1, tf.where(is_bar | noted, 0, memory.waiting))
    return BarMemory(position, waiting, bars)


def indices(memory: BarMemory, vocabulary: int) -> LookbackIndices:
    """The table rows for the token after the one `memory` has last seen."""
    past = memory.bars[:, 1:]  # [batch, LAGS, P+1]
    columns = tf.shape(past)[2]
    notes = tf.gather(past, memory.position, axis=2, batch_dims=1)  # [batch, LAGS]
    later = tf.range(columns)[None, None, :] > memory.position[:, None, None]
    onset_columns = tf.where(later & (past != vocabulary), tf.range(columns)[None, None, :],
                             columns)
    return LookbackIndices(memory.position, notes, tf.reduce_min(onset_columns, axis=2))


class LookbackWeights(NamedTuple):
    """The tables of the module docstring."""

    position: tf.Tensor  # Q [P+1, embedding]
    notes: tf.Tensor  # N_1, N_2 [LAGS, V+1, embedding]
    next_onsets: tf.Tensor  # S_1, S_2 [LAGS, P+2, embedding]


def contribution(rows: LookbackIndices, weights: LookbackWeights) -> tf.Tensor:
    """``l`` `[..., embedding]` for the rows `[...]` of each table."""
    total = tf.gather(weights.position, rows.position)
    for k in range(LAGS):
        total += (tf.gather(weights.notes[k], rows.notes[..., k])
                  + tf.gather(weights.next_onsets[k], rows.next_onsets[..., k]))
    return total


def lookback_step(token: tf.Tensor, memory: BarMemory, grid: tf.Tensor,
                  weights: LookbackWeights) -> tuple[tf.Tensor, BarMemory]:
    """One step: `token` `[batch]` → ``l`` `[batch, embedding]` and the memory after it."""
    memory = remember(token, memory, grid)
    return contribution(indices(memory, tf.shape(grid)[0]), weights), memory


def lookback_sequence(tokens: tf.Tensor, memory: BarMemory, grid: tf.Tensor,
                      weights: LookbackWeights) -> tuple[tf.Tensor, BarMemory, LookbackIndices]:
    """`lookback_step` at every step of time-major `tokens` `[time, batch]`: ``l`` time-major
    `[time, batch, embedding]`, the memory after the last token, and the rows read `[time,
    batch, ...]`."""
    memories = tf.scan(lambda previous, token: remember(token, previous, grid), tokens,
                       initializer=memory)  # each [time, batch, ...]
    flat = tf.nest.map_structure(
        lambda m: tf.reshape(m, tf.concat([[-1], tf.shape(m)[2:]], 0)), memories)
    rows = tf.nest.map_structure(
        lambda r: tf.reshape(r, tf.concat([tf.shape(tokens), tf.shape(r)[1:]], 0)),
        indices(flat, tf.shape(grid)[0]))
    last = tf.nest.map_structure(lambda m: m[-1], memories)
    return contribution(rows, weights), last, rows


class Lookback(tf.Module):
    """The tables of the lookback and the roles of the vocabulary's tokens."""

    def __init__(self, grid: Sequence[int], embedding_size: int, name: str = "lookback"):
        """`grid`: `bar_grid` of the model's vocabulary."""
        super().__init__(name=name)
        self.vocabulary, self.positions = len(grid), positions_of(grid)
        self.grid = tf.constant(grid, tf.int32)
        with self.name_scope:
            self.position = tf.Variable(tf.zeros([self.positions + 1, embedding_size]),
                                        name="position")
            self.notes = tf.Variable(tf.zeros([LAGS, self.vocabulary + 1, embedding_size]),
                                     name="notes")
            self.next_onsets = tf.Variable(tf.zeros([LAGS, self.positions + 2, embedding_size]),
                                           name="next_onsets")

    @property
    def weights(self) -> LookbackWeights:
        return LookbackWeights(self.position, self.notes, self.next_onsets)

    def initial_memory(self, batch_size) -> BarMemory:
        """Before any bar: position 0, nothing waiting, no notes."""
        zeros = tf.zeros([batch_size], tf.int32)
        return BarMemory(zeros, zeros, tf.fill([batch_size, 1 + LAGS, self.positions + 1],
                                               self.vocabulary))

    def step(self, token: tf.Tensor, memory: BarMemory):
        """`lookback_step` with these tables."""
        return lookback_step(token, memory, self.grid, self.weights)

    def sequence(self, tokens: tf.Tensor, memory: BarMemory):
        """`lookback_sequence` with these tables."""
        return lookback_sequence(tokens, memory, self.grid, self.weights)


class LookbackState(NamedTuple):
    """The state of a model with lookback inputs: the rest of it (the LSTM's, the attention's
    window) and the bar memory."""

    inner: tuple  # a `StackState` or an `AttentiveState`
    memory: BarMemory
