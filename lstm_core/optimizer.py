"""Adam with gradient clipping by global norm, and exponential or warm-up-and-cosine learning-rate
decay.

Written out (Kingma and Ba, 2015) rather than taken from Keras so that every slot is a plain
`tf.Variable` in the checkpoint and the update is one XLA-compiled function::

    g     = clip(gradient, global norm <= clip_norm)
    m     = beta1 m + (1 - beta1) g
    v     = beta2 v + (1 - beta2) g^2
    lr_t  = learning_rate * decay_rate^(step / decay_steps) * sqrt(1 - beta2^t) / (1 - beta1^t)
    param = param - lr_t m / (sqrt(v) + epsilon)

Under a time budget (`lstm_core.budget`) a `Cosine` schedule replaces the exponential decay: the
rate follows the share of the budget spent (`Adam.progress`, set by the trainer before each
step) rather than the step, so that it reaches its end value when the time runs out however
many steps that takes.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Cosine:
    """A linear warm-up from 0 to the peak rate over the first `warmup` of the run, then a
    cosine decay to `final` times the peak at its end (progress 1)."""
    warmup: float = 0.03
    final: float = 0.05

    def factor(self, progress: tf.Tensor) -> tf.Tensor:
        """The share of the peak rate at `progress` (a float scalar in [0, 1])."""
        progress = tf.clip_by_value(progress, 0.0, 1.0)
        warm = tf.minimum(1.0, progress / self.warmup) if self.warmup > 0 else 1.0
        decay = tf.clip_by_value((progress - self.warmup) / (1.0 - self.warmup), 0.0, 1.0)
        cosine = 0.5 * (1.0 + tf.cos(math.pi * decay))
        return warm * (self.final + (1.0 - self.final) * cosine)


class Adam(tf.Module):
    def __init__(self, variables: Sequence[tf.Variable], learning_rate: float = 0.002,
                 decay_rate: float = 1.0, decay_steps: int = 1, clip_norm: float = 5.0,
                 beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-7,
                 schedule: Cosine | None = None):
        """Creates a pair of moment slots for each of `variables` (before any restore).
        `schedule`: in place of the exponential decay, the rate at `progress` (see above)."""
        super().__init__(name="adam")
        self.learning_rate, self.decay_rate, self.decay_steps = learning_rate, decay_rate, decay_steps
        self.schedule = schedule
        self.clip_norm, self.beta1, self.beta2, self.epsilon = clip_norm, beta1, beta2, epsilon
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iterations")
        if schedule is not None:  # only then: checkpoints of other runs keep their variables
            # The share of the time budget spent, in [0, 1].
            self.progress = tf.Variable(0.0, trainable=False, name="progress")
        with self.name_scope:
            self.first_moments = [tf.Variable(tf.zeros_like(v), trainable=False, name="m")
                                  for v in variables]
            self.second_moments = [tf.Variable(tf.zeros_like(v), trainable=False, name="v")
                                   for v in variables]

    def current_learning_rate(self) -> tf.Tensor:
        """The decayed learning rate at the current step (before bias correction)."""
        if self.schedule is not None:
            return self.learning_rate * self.schedule.factor(self.progress.read_value())
        progress = tf.cast(self.iterations, tf.float32) / float(self.decay_steps)
        return self.learning_rate * tf.pow(self.decay_rate, progress)

    def apply(self, gradients: Sequence[tf.Tensor], variables: Sequence[tf.Variable]) -> tf.Tensor:
        """One update of `variables` (those given at construction, in the same order); returns
        the global gradient norm before clipping."""
        step = self.iterations + 1
        new_values, new_m, new_v, norm = _adam_update(
            list(gradients), [v.read_value() for v in variables],
            [m.read_value() for m in self.first_moments],
            [v.read_value() for v in self.second_moments],
            self.current_learning_rate(), tf.cast(step, tf.float32),
            self.clip_norm, self.beta1, self.beta2, self.epsilon)
        for variable, m, v, value, m_value, v_value in zip(
                variables, self.first_moments, self.second_moments, new_values, new_m, new_v):
            variable.assign(value)
            m.assign(m_value)
            v.assign(v_value)
        self.iterations.assign(step)
        return norm


@tf.function(jit_compile=True)
def _adam_update(gradients, values, first_moments, second_moments, learning_rate, step,
                 clip_norm, beta1, beta2, epsilon):
    """The whole update as one pure XLA function (every element-wise op fused)."""
    gradients, norm = tf.clip_by_global_norm(gradients, clip_norm)
    rate = learning_rate * tf.sqrt(1.0 - beta2 ** step) / (1.0 - beta1 ** step)
    new_values, new_m, new_v = [], [], []
    for g, value, m, v in zip(gradients, values, first_moments, second_moments):
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * tf.square(g)
        new_values.append(value - rate * m / (tf.sqrt(v) + epsilon))
        new_m.append(m)
        new_v.append(v)
    return new_values, new_m, new_v, norm
