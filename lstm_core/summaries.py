"""What happens inside the LSTM while it trains, written to TensorBoard.

Every ``--histogram_frequency`` steps, `InternalsSummaries` runs the model over one fixed batch
(the first validation batch, or the first training batch when there is no validation split;
from a zero state, without dropout) and writes to
``logs/<model>/train``:

=================================================  ===========================================
tag                                                what
=================================================  ===========================================
``layer_N/gates/input``, ``.../forget``,           histograms of the gate activations i, f, o
``.../output``                                     (in [0, 1]) over every step, stream and unit
``layer_N/candidate``                              histogram of the candidate g (in [-1, 1])
``layer_N/cell_state``, ``layer_N/hidden_state``   histograms of c and h
``layer_N/saturation/forget_above_0.9``, ...       share of gate values above 0.9 / below 0.1,
                                                   for the input, forget and output gates
``weights/<name>``, ``gradients/<name>``           histograms of every weight and its gradient
``gradient_norm/<part>``                           gradient norm of the embedding, each layer
                                                   and the output projection
``gradient_through_time/steps_back_K``             how far back the signal travels: the mean
                                                   norm over the batch of dL_T / dx_{T-K}, the
                                                   gradient that the loss at the batch's last
                                                   position sends to the embedded input K steps
                                                   earlier (K = 0, 1, 2, 4, 8, ...)
``gradient_through_time/layer_N_input``            the whole profile of dL_T / dx_{T-K} at the
                                                   input of layer N, drawn in the histogram
                                                   dashboard: the x axis is K (steps back), the
                                                   height the gradient norm, one curve per step
``attention/weights`` (with ``--attention_length``) histogram of the attention weights
``attention/weight_by_steps_back``                 their mean by lag, in the histogram dashboard:
                                                   the x axis is how many steps back (1 … N),
                                                   the height the mean weight
``attention/mean_steps_back``                      how far back the attention reads on average
``attention/first_stream`` (Images tab)            the first stream's weights: a row per step,
                                                   a column per lag (N steps back on the left,
                                                   one step back on the right), brightest the
                                                   step's largest weight
``lookback/contribution`` (with ``--lookback``)    histogram of the lookback inputs added to
                                                   the token embeddings (`lstm_core.lookback`)
``lookback/relative_norm``                         their mean norm over the embeddings': how
                                                   much the model has learned to use them
``graph`` (Graphs tab)                             the graph of the training step, written at
                                                   the first call
=================================================  ===========================================

The gradients here are those of the training loss (mean cross-entropy over every position) on
the fixed batch, so they compare from one summary to the next; the training step itself is left
untouched and nothing is added to its hot path. The gate activations come from
`lstm_core.trace.trace_model`, the model's own forward pass with every activation kept.

`write_hparams` records the run's hyperparameters for TensorBoard's HParams dashboard, where runs
compare side by side. Text models also get a generated sample as a text summary (``sample``,
see ``train.py``).
"""

from __future__ import annotations

import math
import tensorflow as tf
from tensorboard.plugins.histogram import metadata as histogram_metadata

from lstm_core.trace import trace_attention, trace_lookback, trace_model

SATURATION_HIGH, SATURATION_LOW = 0.9, 0.1


def short_name(variable: tf.Variable) -> str:
    """``language_model/stacked_lstm/layer_0/kernel:0`` → ``layer_0/kernel``."""
    name = variable.name.split(":")[0]
    for prefix in ("language_model/stacked_lstm/", "language_model/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def steps_back_to_log(time_steps: int) -> list[int]:
    """0, 1, 2, 4, 8, ... below `time_steps`, and the farthest step."""
    steps = [0] + [2 ** k for k in range(int(math.log2(max(time_steps - 1, 1))) + 1)]
    return sorted({k for k in steps if k < time_steps} | {time_steps - 1})


@tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
def _buckets(values: tf.Tensor, bucket_count: int = 30) -> tf.Tensor:
    values = tf.cast(values, tf.float64)
    low, high = tf.reduce_min(values), tf.reduce_max(values)
    high = tf.maximum(high, low + 1e-12)  # all values equal: one narrow range
    counts = tf.histogram_fixed_width(values, tf.stack([low, high]), nbins=bucket_count)
    edges = tf.linspace(low, high, bucket_count + 1)
    return tf.stack([edges[:-1], edges[1:], tf.cast(counts, tf.float64)], axis=1)


def buckets_of(values: tf.Tensor) -> tf.Tensor:
    """The histogram dashboard's buckets `[30, 3]` (left, right, count) of `values`, evenly
    spaced between their minimum and maximum (one small compiled function for every tensor)."""
    return _buckets(tf.reshape(tf.convert_to_tensor(values, tf.float32), [-1]))


THROUGH_TIME_DESCRIPTION = ("Norm of d loss(last position) / d input of this layer, K steps "
                            "back (x axis: K; height: the norm, mean over the batch).")
BY_LAG_DESCRIPTION = ("Mean attention weight on the output K steps back (x axis: K; height: the "
                      "mean weight over the batch and its steps).")


def profile_buckets(values: tf.Tensor, first: float) -> tf.Tensor:
    """A profile drawn in the histogram dashboard: buckets `[n, 3]` whose bucket ``k`` spans
    ``[first + k, first + k + 1)`` with height ``values[k]``."""
    x = first + tf.cast(tf.range(tf.shape(values)[0]), tf.float64)
    return tf.stack([x, x + 1.0, tf.cast(values, tf.float64)], axis=1)


def weights_image(alignments: tf.Tensor) -> tf.Tensor:
    """One stream's attention weights `[time, N]` as an image `[1, time, N, 1]`, each row
    scaled to its largest weight."""
    return (alignments / tf.reduce_max(alignments, axis=1, keepdims=True))[None, :, :, None]


class InternalsSummaries:
    """A trainer hook (``trainer.hooks.append((every, InternalsSummaries(trainer, ...)))``)
    writing the activations, weights and gradients listed in the module docstring to the
    default writer, which the trainer sets to its ``train`` writer around every hook."""

    def __init__(self, trainer, inputs: tf.Tensor, targets: tf.Tensor, graph: bool = True):
        """
        Args:
          trainer: the `lstm_core.trainer.Trainer` whose model to look into.
          inputs, targets: the fixed batch `[batch, time]`, e.g. the first validation batch.
          graph: write the graph of the training step at the first call.
        """
        self.trainer, self.model = trainer, trainer.model
        self.inputs = tf.convert_to_tensor(inputs, tf.int32)
        self.targets = tf.convert_to_tensor(targets, tf.int32)
        self.graph_pending = graph
        self.variables = list(self.model.trainable_variables)
        self.names = [short_name(v) for v in self.variables]
        self._compute = tf.function(self._compute_all)
        self._histogram_metadata = {}

    def __call__(self, step: int) -> None:
        if self.graph_pending:
            self.graph_pending = False
            self.write_graph()
        values, profiles, scalars = self._compute()
        for name, value in values.items():
            self._write_histogram(name, buckets_of(value), "")
        for name, buckets in profiles.items():
            self._write_histogram(name, buckets, BY_LAG_DESCRIPTION if name.startswith(
                "attention/") else THROUGH_TIME_DESCRIPTION)
        for name, value in scalars.items():
            tf.summary.scalar(name, value)
        if "attention/weights" in values:
            tf.summary.image("attention/first_stream",
                             weights_image(values["attention/weights"][0]))
        tf.summary.flush()

    def _write_histogram(self, name: str, buckets: tf.Tensor, description: str) -> None:
        if name not in self._histogram_metadata:
            self._histogram_metadata[name] = histogram_metadata.create_summary_metadata(
                display_name=name, description=description)
        tf.summary.write(name, buckets, metadata=self._histogram_metadata[name])

    def _compute_all(self) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor],
                                    dict[str, tf.Tensor]]:
        """Everything to write: the tensors to draw as histograms, the profiles (already in
        buckets: K steps back → gradient norm or attention weight) and the scalars. The
        buckets of the
        others are made afterwards by `buckets_of`, whose one small graph serves every tensor:
        building them here (or calling `tf.summary.histogram` here) made the first call take
        two to four times longer to trace."""
        model = self.model
        with tf.GradientTape(persistent=True) as tape:
            layer_inputs, traces, logits = trace_model(model, self.inputs)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(self.targets, logits)
            loss = tf.reduce_mean(losses)
            last_loss = tf.reduce_mean(losses[:, -1])
        gradients = tape.gradient(loss, self.variables)
        through_time = tape.gradient(last_loss, layer_inputs)
        del tape
        histograms, profiles, scalars = {}, {}, {}
        for n, trace in enumerate(traces):
            prefix = f"layer_{n}/"
            for gate in ("input", "forget", "output"):
                values = getattr(trace, gate + "_gate")
                histograms[prefix + "gates/" + gate] = values
                scalars[f"{prefix}saturation/{gate}_above_{SATURATION_HIGH}"] = tf.reduce_mean(
                    tf.cast(values > SATURATION_HIGH, tf.float32))
                scalars[f"{prefix}saturation/{gate}_below_{SATURATION_LOW}"] = tf.reduce_mean(
                    tf.cast(values < SATURATION_LOW, tf.float32))
            histograms[prefix + "candidate"] = trace.candidate
            histograms[prefix + "cell_state"] = trace.cell
            histograms[prefix + "hidden_state"] = trace.hidden
        parts: dict[str, list[tf.Tensor]] = {}
        for name, variable, gradient in zip(self.names, self.variables, gradients):
            histograms["weights/" + name] = variable
            histograms["gradients/" + name] = gradient
            part = name.split("/")[0] if name.startswith("layer_") else (
                "output" if name.startswith("output") else name)
            parts.setdefault(part, []).append(gradient)
        for part, grads in parts.items():
            scalars["gradient_norm/" + part] = tf.linalg.global_norm(grads)
        for n, gradient in enumerate(through_time):
            # [time, batch, features] → mean over the batch of the norm, reversed so that
            # index K is K steps back from the last position.
            norms = tf.reverse(tf.reduce_mean(tf.norm(gradient, axis=-1), axis=1), [0])
            profiles[f"gradient_through_time/layer_{n}_input"] = profile_buckets(norms, 0.0)
            if n == 0:
                for k in steps_back_to_log(int(self.inputs.shape[1])):
                    scalars[f"gradient_through_time/steps_back_{k:02d}"] = norms[k]
        if model.attention is not None:
            _, alignments = trace_attention(model, traces[-1].hidden)  # [batch, time, N]
            histograms["attention/weights"] = alignments
            by_lag = tf.reverse(tf.reduce_mean(alignments, axis=[0, 1]), [0])  # [k - 1]: k back
            profiles["attention/weight_by_steps_back"] = profile_buckets(by_lag, 1.0)
            scalars["attention/mean_steps_back"] = tf.reduce_sum(
                by_lag * tf.range(1.0, tf.cast(tf.size(by_lag), tf.float32) + 1.0))
        if model.lookback is not None:
            contribution, embedded = trace_lookback(model, self.inputs)
            histograms["lookback/contribution"] = contribution
            scalars["lookback/relative_norm"] = (tf.reduce_mean(tf.norm(contribution, axis=-1))
                                                 / tf.reduce_mean(tf.norm(embedded, axis=-1)))
        return histograms, profiles, scalars

    def write_graph(self) -> None:
        """Writes the graph of the trainer's compiled training step (one device only: the graph
        of a distributed step is left out)."""
        if self.trainer.replicas == 1:
            tf.summary.graph(self.trainer.step_graph())


def hparams_of(flag_values: dict) -> dict:
    """Flag values the HParams dashboard accepts (bool, int, float, str)."""
    return {name: value for name, value in flag_values.items()
            if isinstance(value, (bool, int, float, str))}


def write_hparams(log_dir: str, hparams: dict, step: int = 0) -> None:
    """Records `hparams` for the run in `log_dir` (``logs/<model>``): the HParams dashboard
    lists every model under ``--logdir`` with these and its metrics (train and validation loss,
    bits per token, accuracy) side by side."""
    from tensorboard.plugins.hparams import api as hp

    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default(step=step):
        hp.hparams(hparams_of(hparams), trial_id=log_dir.rstrip("/").split("/")[-1])
    writer.close()


def fixed_batch(validation, train) -> tuple[tf.Tensor, tf.Tensor]:
    """The first validation batch, or the first training batch when there is no validation."""
    batches = validation if validation is not None else train
    inputs, targets = next(iter(batches.dataset()))
    return inputs, targets
