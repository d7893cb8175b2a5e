"""Running a model over one input from a zero state, keeping every layer's activations."""

from __future__ import annotations

import numpy as np

FIELDS = ("cell", "hidden", "input_gate", "forget_gate", "output_gate", "candidate")


def run_model(model, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's activations over `ids` from a zero state: ``layer_N/field`` ↦
    `[time, units]`, fields as in `lstm_core.cell.LSTMActivations`."""
    import tensorflow as tf

    from lstm_core.trace import trace_model

    tokens = tf.constant(np.asarray(ids, np.int32)[None, :])
    _, traces, _ = tf.function(lambda t: trace_model(model, t))(tokens)
    return {f"layer_{n}/{field}": getattr(trace, field).numpy()[:, 0, :]
            for n, trace in enumerate(traces) for field in FIELDS}
