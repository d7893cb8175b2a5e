"""How one global batch splits over the workers and replicas of a `tf.distribute.Strategy`.

The global batch `[batch_size, time]` is cut into `replicas` equal blocks of rows, in replica
order (replica ids count over every worker). Each worker reads only its own contiguous rows
(`rows`) and hands one block to each of its local replicas (`per_replica`); the LSTM state of
the batch is split the same way, so a row's stream stays with the same replica.
"""

from __future__ import annotations

import tensorflow as tf

from lstm_core import distribute
from lstm_core.errors import UsageError


class Replicas:
    def __init__(self, strategy: tf.distribute.Strategy, batch_size: int):
        """
        Args:
          strategy: where training runs (`lstm_core.distribute`).
          batch_size: the global batch, split over every replica of every worker.
        """
        self.strategy = strategy
        self.replicas = strategy.num_replicas_in_sync  # of every worker
        self.local_replicas = distribute.local_replica_ids(strategy)  # this worker's ids
        self.workers = self.replicas // len(self.local_replicas)
        # Only the chief writes checkpoints and logs; it alone reads them to resume.
        self.is_chief = strategy.extended.should_checkpoint
        if batch_size % self.replicas:
            raise UsageError(f"--batch_size {batch_size} does not split evenly over "
                             f"{self.replicas} replicas; use a multiple of {self.replicas}")
        self.rows_per_replica = batch_size // self.replicas
        self.rows = slice(self.local_replicas[0] * self.rows_per_replica,
                          (self.local_replicas[-1] + 1) * self.rows_per_replica)  # this worker's

    def per_replica(self, value):
        """Splits this worker's rows of a value (tensors `[rows, ...]`, or a structure of them)
        into one block per local replica; the value itself with one replica."""
        if self.replicas == 1:
            return value
        slices = distribute.batch_slices(value, len(self.local_replicas))  # once, not per replica
        first = self.local_replicas[0]
        return self.strategy.experimental_distribute_values_from_function(
            lambda context: slices[context.replica_id_in_sync_group - first])
