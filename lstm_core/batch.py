"""Batch: token ids → `[batch, time]` inputs with the next token as target at every position.

By default each batch row is a contiguous stream, as in char-rnn: the ids are cut into
``batch_size`` equal streams, and batch ``k`` holds the ``k``-th window of each stream::

    stream r:  | window 0 | window 1 | window 2 | ...      (row r of batch 0, 1, 2, ...)

so the LSTM state left by batch ``k`` is the right starting state for batch ``k + 1``
(truncated backpropagation through time). With ``shuffle=True`` the windows are independent
instead: drawn from anywhere in the corpus in a new order every epoch, each starting from a
zero state. One epoch is one pass over the windows.

The ids may be memory-mapped (`lstm_core.encoded_text`): a batch reads only its windows, so a
corpus larger than memory trains. Under several workers each reads only its ``rows`` of every
batch (`dataset`), and together they read the whole batch.

`Batch.sample` bounds a pass over a long split (validation): the same few batches, spread over
the whole split, however large it is.
"""

from __future__ import annotations

import copy

import numpy as np
import tensorflow as tf

from lstm_core.errors import UsageError


def split_validation(ids: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """The first ``1 - fraction`` of the ids for training, the rest held out for validation."""
    held_out = int(round(len(ids) * fraction))
    return ids[:len(ids) - held_out], ids[len(ids) - held_out:]


def fitting_batch_size(length: int, batch_size: int, sequence_length: int, shuffle: bool = False,
                       multiple: int = 1, source: str = "the corpus") -> int:
    """`batch_size` when `length` tokens make at least one batch of it, else the largest
    batch size below it that does, a multiple of `multiple` (the replicas that share a batch).

    A corpus too short for even `multiple` streams of one sequence is a `UsageError` that says
    how many more tokens it needs.
    """
    # Contiguous streams need `sequence_length + 1` tokens each (inputs and the next-token
    # targets); shuffled windows overlap by one token.
    fits = length // (sequence_length + 1) if not shuffle else (length - 1) // sequence_length
    if fits >= batch_size:
        return batch_size
    fits = fits // multiple * multiple
    if fits < 1:
        needed = multiple * (sequence_length + 1) if not shuffle else \
            multiple * sequence_length + 1
        streams = f"{multiple} streams" if multiple > 1 else "one stream"
        raise UsageError(
            f"--sequence_length {sequence_length} is too long for {source}: its {length:,} "
            f"training tokens make no batch of {streams} of {sequence_length + 1} tokens; give "
            f"{needed - length:,} more tokens of training data (a longer corpus), or lower "
            "--sequence_length")
    return fits


class Batch:
    """Batches of one split of the corpus."""

    def __init__(self, ids: np.ndarray, batch_size: int, sequence_length: int,
                 shuffle: bool = False, seed: int = 0, source: str = "the corpus"):
        """
        Args:
          ids: token ids `[length]`, any integer dtype, in memory or memory-mapped (kept as
            given: each batch reads only its windows, so a corpus larger than memory trains).
          batch_size, sequence_length: the shape `[batch, time]` of every batch.
          shuffle: independent windows in a new order each epoch, rather than contiguous streams.
          seed: the order of shuffled windows in epoch ``e`` depends on ``(seed, e)`` only.
          source: names the data in errors.
        """
        self.ids, self.batch_size, self.sequence_length, self.shuffle, self.seed = (
            ids, batch_size, sequence_length, shuffle, seed)
        if shuffle:
            self.windows = (len(ids) - 1) // sequence_length
            self.num_batches = self.windows // batch_size
        else:
            stream_length = len(ids) // batch_size
            self.streams = ids[:batch_size * stream_length].reshape(batch_size, stream_length)
            self.num_batches = (stream_length - 1) // sequence_length
        if self.num_batches < 1:
            raise UsageError(
                f"--sequence_length {sequence_length} is too long for {source}: its "
                f"{len(ids):,} tokens make no batch of {batch_size} x {sequence_length + 1}; "
                "lower --sequence_length or --batch_size, or give a longer corpus")

    def sample(self, tokens: int, seed: int = 0) -> Batch:
        """A pass of at most `tokens` tokens spread over the whole split, the same for the same
        `seed`: the most whole batches within `tokens` (at least one), or all of them (then
        `self`) when the split holds no more.

        With contiguous streams the sample keeps every stream (one per ``batch_size``-th of the
        split) and reads a window of each at one seeded offset, so the LSTM state still carries
        from batch to batch; shuffled, it is the first batches of the windows in a seeded order. A
        view: a memory-mapped split stays on disk.
        """
        batches = max(1, tokens // (self.batch_size * self.sequence_length))
        if batches >= self.num_batches:
            return self
        sample = copy.copy(self)
        sample.num_batches, sample.seed = batches, seed
        if not self.shuffle:
            length = batches * self.sequence_length + 1
            offset = np.random.default_rng(seed).integers(self.streams.shape[1] - length + 1)
            sample.streams = self.streams[:, offset:offset + length]
        return sample

    def dataset(self, epoch: int = 0, start: int = 0, rows: slice = slice(None)
                ) -> tf.data.Dataset:
        """Batches ``start, start + 1, ...`` of epoch `epoch`: (inputs, targets) `[rows, time]`
        int32, of the batch's `rows` (a worker's share of the global batch)."""
        count = len(range(self.batch_size)[rows])
        order = (np.random.default_rng([self.seed, epoch]).permutation(self.windows)
                 if self.shuffle else None)

        def windows():
            for k in range(start, self.num_batches):
                if order is None:
                    begin = k * self.sequence_length
                    window = self.streams[rows, begin:begin + self.sequence_length + 1]
                else:
                    starts = order[k * self.batch_size:(k + 1) * self.batch_size][rows]
                    window = self.ids[starts[:, None] * self.sequence_length
                                      + np.arange(self.sequence_length + 1)]
                yield np.asarray(window, np.int32)

        spec = tf.TensorSpec([count, self.sequence_length + 1], tf.int32)
        return (tf.data.Dataset.from_generator(windows, output_signature=spec)
                .map(lambda tokens: (tokens[:, :-1], tokens[:, 1:]))
                .prefetch(tf.data.AUTOTUNE))
