"""The LSTM internals in TensorBoard: a short training run, then its event files, read back."""

from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from lstm_core import summaries
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.trace import trace_model
from lstm_core.training import train

BATCH, TIME, UNITS, LAYERS = 4, 16, 8, 2
STEPS, EVERY = 6, 3
TEXT = ('ROMEO:\nBut soft, what light (through yonder window) breaks?\n'
        'JULIET:\n"Ay me!" she said, [aside] and sighed.\n') * 40


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("summaries")
    corpus = folder / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    train(training_file=str(corpus), vocabulary_file=str(folder / "corpus.vocab"),
          model_name="tiny", logdir=str(folder / "logs"), units=UNITS, layers=LAYERS,
          embedding_size=6, batch_size=BATCH, sequence_length=TIME, max_steps=STEPS,
          log_frequency=EVERY, validation_every=EVERY, histogram_frequency=EVERY,
          sample_every=EVERY, checkpoint_every=100)
    return folder / "logs" / "tiny"


def load(path) -> event_accumulator.EventAccumulator:
    accumulator = event_accumulator.EventAccumulator(
        str(path), size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return accumulator


@pytest.fixture(scope="module")
def train_events(run_dir):
    return load(run_dir / "train")


def values(accumulator, tag) -> list[np.ndarray]:
    return [tf.make_ndarray(event.tensor_proto) for event in accumulator.Tensors(tag)]


def histogram_range(accumulator, tag) -> tuple[float, float, float]:
    """The lowest left edge, highest right edge and the count of the newest histogram."""
    buckets = values(accumulator, tag)[-1]
    return buckets[:, 0].min(), buckets[:, 1].max(), buckets[:, 2].sum()


def test_gate_and_state_histograms_per_layer_in_range(train_events):
    tags = train_events.Tags()["tensors"]
    activations = BATCH * TIME * UNITS  # every step, stream and unit of the fixed batch
    for layer in range(LAYERS):
        for gate in ("input", "forget", "output"):
            tag = f"layer_{layer}/gates/{gate}"
            assert [e.step for e in train_events.Tensors(tag)] == [EVERY, 2 * EVERY]
            assert train_events.SummaryMetadata(tag).plugin_data.plugin_name == "histograms"
            low, high, count = histogram_range(train_events, tag)
            assert 0.0 <= low <= high <= 1.0 and count == activations
        for name, bound in (("candidate", 1.0), ("hidden_state", 1.0), ("cell_state", None)):
            low, high, count = histogram_range(train_events, f"layer_{layer}/{name}")
            assert count == activations
            if bound:
                assert -bound <= low <= high <= bound
        for gate in ("input", "forget", "output"):
            for side in ("above_0.9", "below_0.1"):
                tag = f"layer_{layer}/saturation/{gate}_{side}"
                assert tag in tags
                assert all(0.0 <= float(v) <= 1.0 for v in values(train_events, tag))


def test_every_weight_and_its_gradient(train_events):
    tags = set(train_events.Tags()["tensors"])
    model = LanguageModel(ModelConfig(20, units=UNITS, layers=LAYERS, embedding_size=6))
    names = {summaries.short_name(v) for v in model.trainable_variables}
    assert "layer_1/recurrent_kernel" in names and "embedding" in names
    for name in names:
        assert f"weights/{name}" in tags and f"gradients/{name}" in tags
    _, _, count = histogram_range(train_events, "weights/layer_0/kernel")
    assert count == 6 * 4 * UNITS
    for part in ("embedding", "layer_0", "layer_1", "output"):
        norms = values(train_events, f"gradient_norm/{part}")
        assert len(norms) == 2 and all(np.isfinite(n) and n > 0 for n in norms)


def test_gradient_through_time(train_events):
    tags = set(train_events.Tags()["tensors"])
    for k in summaries.steps_back_to_log(TIME):
        assert f"gradient_through_time/steps_back_{k:02d}" in tags
        assert float(values(train_events, f"gradient_through_time/steps_back_{k:02d}")[-1]) >= 0
    for layer in range(LAYERS):
        profile = values(train_events, f"gradient_through_time/layer_{layer}_input")[-1]
        np.testing.assert_array_equal(profile[:, 0], np.arange(TIME))  # K steps back
        assert np.all(profile[:, 2] >= 0) and profile[0, 2] > 0
    # The scalar series is the profile of the embedded input, sampled. (That these are the
    # right gradients is checked against an independent computation further down.)
    profile = values(train_events, "gradient_through_time/layer_0_input")[-1]
    np.testing.assert_allclose(
        float(values(train_events, "gradient_through_time/steps_back_04")[-1]), profile[4, 2],
        rtol=1e-5)


def test_graph_text_sample_and_scalars(train_events, run_dir):
    assert train_events.Tags()["graph"]
    graph = train_events.Graph()
    assert len(graph.node) > 0 or len(graph.library.function) > 0
    samples = values(train_events, "sample")
    assert samples and "```" in samples[-1].item().decode()
    assert "loss" in train_events.Tags()["tensors"]
    assert "loss" in load(run_dir / "validation").Tags()["tensors"]


def test_hparams_recorded(run_dir):
    root = load(run_dir)
    tag = "_hparams_/session_start_info"
    assert tag in root.Tags()["tensors"]
    content = root.SummaryMetadata(tag).plugin_data.content
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    hparams = data.session_start_info.hparams
    assert hparams["units"].number_value == UNITS
    assert hparams["sequence_length"].number_value == TIME
    assert hparams["training_file"].string_value == "corpus.txt"


def test_trace_matches_the_model():
    """The recomputed gates come from the same equations: the logits equal the model's own."""
    model = LanguageModel(ModelConfig(11, units=5, layers=2, embedding_size=3))
    tokens = tf.constant(np.random.default_rng(0).integers(0, 11, size=[2, 9]), tf.int32)
    layer_inputs, traces, logits = trace_model(model, tokens)
    expected, state = model(tokens, model.initial_state(2))
    np.testing.assert_allclose(logits.numpy(), expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(traces[-1].cell[-1].numpy(), state[-1].cell.numpy(), atol=1e-5)
    assert layer_inputs[1] is traces[0].hidden
    for trace in traces:
        for gate in (trace.input_gate, trace.forget_gate, trace.output_gate):
            assert 0.0 <= float(tf.reduce_min(gate)) and float(tf.reduce_max(gate)) <= 1.0


def test_gradient_through_time_and_saturation_equal_an_independent_computation():
    """The hook's gradient through time and gate saturation, computed another way: each cell's
    reference unroll (`LSTMCell.unroll`, checked against Keras in test_cell.py) rather than
    `trace_model`, autodiff of the last position's loss with respect to each layer's input,
    and the gates written out in numpy from the unroll's hidden states."""
    vocabulary, batch, time, units = 11, 3, 9, 5
    model = LanguageModel(ModelConfig(vocabulary, units=units, layers=2, embedding_size=4))
    rng = np.random.default_rng(5)
    for cell in model.lstm.cells:  # spread the gates so that some saturate either way
        cell.bias.assign(rng.normal(size=[4 * units]).astype(np.float32) * 3)
    tokens = rng.integers(0, vocabulary, [batch, time + 1]).astype(np.int32)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    trainer = SimpleNamespace(model=model)
    hook = summaries.InternalsSummaries(trainer, inputs, targets, graph=False)
    _, profiles, scalars = hook._compute()

    embedded = tf.gather(model.embedding, inputs)  # batch-major [batch, time, embedding]
    with tf.GradientTape() as tape:
        tape.watch(embedded)
        layer_inputs, layer_outputs, x = [], [], embedded
        for cell, state in zip(model.lstm.cells, model.initial_state(batch)):
            layer_inputs.append(x)
            x, _ = cell.unroll(x, state)
            layer_outputs.append(x)
        logits = tf.matmul(x[:, -1], model.output_kernel) + model.output_bias
        last_loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(targets[:, -1], logits))
    for n, gradient in enumerate(tape.gradient(last_loss, layer_inputs)):
        # dL_T / dx_{T-K}: the norm per stream, its mean over the batch, K = 0 the last step.
        norms = np.linalg.norm(gradient.numpy(), axis=-1).mean(axis=0)[::-1]
        assert norms[0] > 0 and not np.allclose(norms, norms[::-1])  # the order shows
        profile = profiles[f"gradient_through_time/layer_{n}_input"].numpy()
        np.testing.assert_array_equal(profile[:, 0], np.arange(time))
        np.testing.assert_allclose(profile[:, 2], norms, rtol=1e-4, atol=1e-9)
        if n == 0:
            for k in summaries.steps_back_to_log(time):
                np.testing.assert_allclose(
                    float(scalars[f"gradient_through_time/steps_back_{k:02d}"]), norms[k],
                    rtol=1e-4, atol=1e-9)

    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))
    saturated = []
    for n, cell in enumerate(model.lstm.cells):
        x, hidden = layer_inputs[n].numpy(), layer_outputs[n].numpy()
        previous = np.concatenate([np.zeros_like(hidden[:, :1]), hidden[:, :-1]], axis=1)
        z = x @ cell.kernel.numpy() + previous @ cell.recurrent_kernel.numpy() \
            + cell.bias.numpy()
        gates = {"input": sigmoid(z[..., :units]), "forget": sigmoid(z[..., units:2 * units]),
                 "output": sigmoid(z[..., 3 * units:])}
        for gate, values in gates.items():
            for side, share in ((f"above_{summaries.SATURATION_HIGH}", np.mean(values > 0.9)),
                                (f"below_{summaries.SATURATION_LOW}", np.mean(values < 0.1))):
                logged = float(scalars[f"layer_{n}/saturation/{gate}_{side}"])
                # One value on the threshold may round the other way in float32.
                assert abs(logged - share) <= 1.0 / values.size + 1e-6, (n, gate, side)
                saturated.append(share)
    assert 0 < max(saturated) < 1  # the comparison is not between zeros


def test_steps_back_and_buckets():
    assert summaries.steps_back_to_log(50) == [0, 1, 2, 4, 8, 16, 32, 49]
    assert summaries.steps_back_to_log(1) == [0]
    buckets = summaries.buckets_of(tf.constant([[0.0, 0.5], [1.0, 1.0]])).numpy()
    assert buckets.shape == (30, 3) and buckets[:, 2].sum() == 4
    assert buckets[0, 0] == 0.0 and buckets[-1, 1] == 1.0
    constant = summaries.buckets_of(tf.fill([7], 3.0)).numpy()
    assert constant[:, 2].sum() == 7
