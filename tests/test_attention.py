"""The attention over the last steps (`lstm_core.attention`): against a numpy computation of its
equations, step by step against the whole sequence, and a model with it end to end: trained,
sampled, exported (resumed: test_lookback.py, a model with both)."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from lstm_core.attention import Attention, AttentiveState, attention_sequence
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.transfer import Source

UNITS, LENGTH, BATCH, STEPS = 5, 4, 3, 7


def numpy_attention(hidden, window, weights):
    """The module docstring's equations, one step at a time, in float64: `hidden` `[time,
    batch, units]`, `window` `[batch, N, units]` → outputs, final window, weights `[batch,
    time, N]`."""
    query_kernel, lag_bias, output_kernel, output_bias = (np.float64(w) for w in weights)
    window, outputs, alignments = np.float64(window), [], []
    for h in np.float64(hidden):
        scores = np.einsum("bu,bnu->bn", h @ query_kernel, window) / np.sqrt(h.shape[-1])
        scores = scores + lag_bias
        a = np.exp(scores - scores.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        context = np.einsum("bn,bnu->bu", a, window)
        outputs.append(np.tanh(np.concatenate([h, context], -1) @ output_kernel + output_bias))
        alignments.append(a)
        window = np.concatenate([window[:, 1:], h[:, None]], 1)
    return np.stack(outputs), window, np.stack(alignments, 1)


@pytest.fixture
def attention():
    rng = tf.random.Generator.from_seed(3)
    attention = Attention(UNITS, LENGTH, rng)
    attention.lag_bias.assign(rng.normal([LENGTH]))  # not zero: the lags must line up
    return attention


def test_sequence_and_step_match_numpy(attention):
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=[STEPS, BATCH, UNITS]).astype(np.float32)
    window = rng.normal(size=[BATCH, LENGTH, UNITS]).astype(np.float32)
    expected = numpy_attention(hidden, window, [w.numpy() for w in attention.weights])

    sequence = attention.sequence(tf.constant(hidden), tf.constant(window))
    for got, want in zip(sequence, expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)

    stepped, state = [], tf.constant(window)
    for h in hidden:
        output, state, alignments = attention.step(tf.constant(h), state)
        stepped.append((output.numpy(), alignments.numpy()))
    np.testing.assert_allclose(np.stack([s[0] for s in stepped]), expected[0], rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(np.stack([s[1] for s in stepped], 1), expected[2], rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(state.numpy(), expected[1], rtol=1e-6)


def test_a_sequence_in_two_pieces_is_the_whole(attention):
    """The window carries the past across truncated-BPTT batches, also when a batch is shorter
    than the window."""
    hidden = tf.random.stateless_normal([STEPS, BATCH, UNITS], seed=[1, 2])
    window = attention.initial_window(BATCH)
    whole, whole_window, _ = attention_sequence(hidden, window, attention.weights)
    first, middle, _ = attention_sequence(hidden[:2], window, attention.weights)
    second, last, _ = attention_sequence(hidden[2:], middle, attention.weights)
    np.testing.assert_allclose(tf.concat([first, second], 0).numpy(), whole.numpy(), atol=1e-6)
    np.testing.assert_allclose(last.numpy(), whole_window.numpy())


def test_gradients_reach_every_weight_and_the_window(attention):
    hidden = tf.random.stateless_normal([STEPS, BATCH, UNITS], seed=[3, 4])
    window = tf.random.stateless_normal([BATCH, LENGTH, UNITS], seed=[5, 6])
    with tf.GradientTape() as tape:
        tape.watch([hidden, window])
        output, _, _ = attention_sequence(hidden, window, attention.weights)
        loss = tf.reduce_sum(output ** 2)
    for gradient in tape.gradient(loss, [hidden, window, *attention.trainable_variables]):
        gradient = tf.convert_to_tensor(gradient).numpy()  # the lag bias's: IndexedSlices
        assert np.all(np.isfinite(gradient)) and np.any(gradient != 0)


def test_model_step_matches_the_model_over_a_sequence():
    config = ModelConfig(11, units=UNITS, layers=2, embedding_size=3, attention_length=LENGTH)
    model = LanguageModel(config, seed=1)
    tokens = tf.constant(np.random.default_rng(1).integers(0, 11, [BATCH, STEPS]), tf.int32)
    assert isinstance(steps_as_over_the_sequence(model, tokens), AttentiveState)


def steps_as_over_the_sequence(model, tokens):
    """`model.step` token by token gives the logits and state of the model over `tokens`
    `[batch, time]` at once: the final state."""
    logits, final = model(tokens, model.initial_state(tokens.shape[0]))
    state, stepped = model.initial_state(tokens.shape[0]), []
    for t in range(tokens.shape[1]):
        step_logits, state = model.step(tokens[:, t], state, model.input_table())
        stepped.append(step_logits.numpy())
    np.testing.assert_allclose(np.stack(stepped, 1), logits.numpy(), rtol=1e-5, atol=1e-5)
    for got, want in zip(tf.nest.flatten(state), tf.nest.flatten(final)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    return final


def test_without_attention_the_model_is_unchanged():
    """The option off: the same variables, drawn the same, and the plain LSTM state."""
    plain = LanguageModel(ModelConfig(11, units=UNITS, layers=1, embedding_size=3), seed=2)
    attentive = LanguageModel(ModelConfig(11, units=UNITS, layers=1, embedding_size=3,
                                          attention_length=LENGTH), seed=2)
    assert plain.attention is None and not isinstance(plain.initial_state(1), AttentiveState)
    names = {v.name for v in plain.variables}
    assert names < {v.name for v in attentive.variables}
    for v in plain.variables:
        twin = next(w for w in attentive.variables if w.name == v.name)
        np.testing.assert_array_equal(v.numpy(), twin.numpy())


@pytest.fixture(scope="module")
def band(band_model):
    from lstm_core import load

    return load(band_model)


def test_a_music_model_with_attention_and_lookback_samples_reproducibly_and_loads(band):
    """The default music model (conftest.py) composes the same piece twice, by sampling and by
    beam search, and loads back with the same weights and pieces."""
    from lstm_core import load
    from lstm_core.training_options import MUSIC_DEFAULTS

    assert band.config.attention_length == MUSIC_DEFAULTS["attention_length"]
    assert band.config.lookback and band.model.lookback is not None
    first = band.compose(bars=2, random_seed=4).dumps_midi()
    assert band.compose(bars=2, random_seed=4).dumps_midi() == first
    beams = dict(bars=1, beam_size=2, branch_factor=2, steps_per_iteration=4, random_seed=4)
    assert band.compose(**beams).dumps_midi() == band.compose(**beams).dumps_midi()
    loaded = load(band.folder.root)
    assert loaded.config == band.config and loaded.model.attention is not None
    for a, b in zip(loaded.model.variables, band.model.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert loaded.compose(bars=2, random_seed=4).dumps_midi() == first
    # Fine-tuning from it into a model of the same attention copies the attention too.
    new = LanguageModel(band.config, seed=9)
    Source(os.path.dirname(band.folder.root), "band", band.config,
           band.vocabulary).copy_into(new)
    for a, b in zip(new.attention.variables, band.model.attention.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_the_exported_step_carries_the_window_and_the_bar_memory(band, tmp_path):
    """The exported model generates what the sampler does; its ``step`` takes and gives the
    attention's window and the lookback's bar memory as the model's step does."""
    from lstm_core.sampler import Sampler
    from lstm_core.training_state import pack_state

    band.export(str(tmp_path / "out"))
    exported = tf.saved_model.load(str(tmp_path / "out"))
    primer = np.array([[1, 2, 3], [3, 2, 1]], np.int32)
    generated = exported.generate(tf.constant(primer), 30, 1.0, 0, 1.0,
                                  tf.constant(7, tf.int64))["ids"].numpy()
    sampler = Sampler(band.model, chunk_length=100)
    np.testing.assert_array_equal(generated, sampler.generate(primer, 30, random_seed=7))

    model, ids = band.model, band.vocabulary.ids
    state = model.initial_state(2)
    for token in (ids["Bar_None"], ids["Position_0"]):
        _, state = model.step(tf.constant([token, token]), state)
    memory = state.memory
    answer = exported.signatures["step"](
        tokens=tf.constant([4, 5]), state=pack_state(state.inner.lstm), window=state.inner.window,
        bar_position=memory.position, bar_waiting=memory.waiting, bar_bars=memory.bars)
    logits, new_state = model.step(tf.constant([4, 5]), state)
    np.testing.assert_allclose(answer["logits"].numpy(), logits.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(answer["window"].numpy(), new_state.inner.window.numpy(),
                               atol=1e-6)
    for name, value in new_state.memory._asdict().items():
        np.testing.assert_array_equal(answer[f"bar_{name}"].numpy(), value.numpy())


def written_tags(hook, folder) -> set[str]:
    """The tags of what the summaries `hook` writes at one step into `folder`."""
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default(step=1):
        hook(1)
    writer.close()
    return {value.tag for path in folder.iterdir()
            for event in tf.compat.v1.train.summary_iterator(str(path))
            for value in event.summary.value}


def test_tensorboard_shows_the_attention_weights(tmp_path):
    from types import SimpleNamespace

    from lstm_core import summaries
    from lstm_core.trace import trace_model

    config = ModelConfig(11, units=UNITS, layers=1, embedding_size=3, attention_length=LENGTH)
    model = LanguageModel(config, seed=4)
    model.attention.lag_bias.assign(np.arange(LENGTH, dtype=np.float32))  # favours 1 step back
    tokens = np.random.default_rng(2).integers(0, 11, [BATCH, STEPS + 1]).astype(np.int32)
    hook = summaries.InternalsSummaries(SimpleNamespace(model=model, replicas=1),
                                        tokens[:, :-1], tokens[:, 1:], graph=False)
    histograms, profiles, scalars = hook._compute()

    _, traces, logits = trace_model(model, tokens[:, :-1])
    expected_logits, _ = model(tokens[:, :-1], model.initial_state(BATCH))
    np.testing.assert_allclose(logits.numpy(), expected_logits.numpy(), rtol=1e-5, atol=1e-6)
    hidden = traces[-1].hidden.numpy()
    _, _, alignments = numpy_attention(hidden, np.zeros([BATCH, LENGTH, UNITS]),
                                       [w.numpy() for w in model.attention.weights])
    np.testing.assert_allclose(histograms["attention/weights"].numpy(), alignments, rtol=1e-5)
    by_lag = alignments.mean(axis=(0, 1))[::-1]  # [k - 1]: k steps back
    profile = profiles["attention/weight_by_steps_back"].numpy()
    np.testing.assert_array_equal(profile[:, 0], np.arange(1, LENGTH + 1))
    np.testing.assert_allclose(profile[:, 2], by_lag, rtol=1e-5)
    assert by_lag[0] == by_lag.max()
    np.testing.assert_allclose(float(scalars["attention/mean_steps_back"]),
                               np.sum(by_lag * np.arange(1, LENGTH + 1)), rtol=1e-5)

    tags = written_tags(hook, tmp_path)
    assert {"attention/weights", "attention/weight_by_steps_back", "attention/mean_steps_back",
            "attention/first_stream"} <= tags


def test_music_attends_by_default_and_a_resumed_model_keeps_its_own():
    from lstm_core.kinds import TokenKind
    from lstm_core.training_options import (MUSIC_DEFAULTS, TrainOptions,
                                            with_music_defaults)

    default = MUSIC_DEFAULTS["attention_length"]
    options = TrainOptions()
    assert with_music_defaults(options, TokenKind.REMI, ()).attention_length == default
    assert with_music_defaults(options, TokenKind.CHARACTERS, ()).attention_length == 0
    assert with_music_defaults(options, TokenKind.JAZZ, ()).attention_length == 0
    # A music model's cells start by remembering (lstm_core/cell.py); a text model's do not.
    assert with_music_defaults(options, TokenKind.REMI, ()).forget_bias == 1.0
    assert with_music_defaults(options, TokenKind.CHARACTERS, ()).forget_bias == 0.0
    given = TrainOptions(attention_length=8)
    assert with_music_defaults(given, TokenKind.REMI, {"attention_length"}).attention_length == 8
    # An older model folder's config.json has no attention_length: ModelConfig reads it as 0.
    assert with_music_defaults(options, TokenKind.REMI, (),
                               {"attention_length": 0}).attention_length == 0


def test_an_older_music_model_without_attention_resumes_and_samples_unchanged(tmp_path):
    import json

    from band import band_score
    from lstm_core import UsageError, load, train

    (tmp_path / "songs").mkdir()
    band_score(bars=8, seed=0).dump_midi(str(tmp_path / "songs" / "band.mid"))
    tiny = dict(logdir=str(tmp_path / "logs"), model_name="old", units=8, batch_size=2,
                sequence_length=8, sample_every=0, histogram_frequency=0)
    trained = train(str(tmp_path / "songs"), max_steps=2, attention_length=0, **tiny)
    config = tmp_path / "logs" / "old" / "config.json"
    fields = json.loads(config.read_text())
    del fields["attention_length"]  # as a model folder written before the option existed
    config.write_text(json.dumps(fields))
    piece = trained.compose(length=20, random_seed=3).dumps_midi()
    assert load(str(tmp_path / "logs" / "old")).compose(length=20, random_seed=3).dumps_midi() \
        == piece
    resumed = train(str(tmp_path / "songs"), max_steps=3, **tiny)
    assert resumed.model.attention is None and resumed.checkpoint_path.endswith("ckpt-3")
    # Fine-tuning it into a model with attention: the LSTM copied, the attention fresh.
    old = load(str(tmp_path / "logs" / "old"))
    attentive = dataclasses.replace(old.config, attention_length=LENGTH)
    new = LanguageModel(attentive, seed=9)
    fresh = [v.numpy() for v in new.attention.variables]
    Source(str(tmp_path / "logs"), "old", attentive, old.vocabulary).copy_into(new)
    for a, b in zip(new.lstm.variables, old.model.lstm.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(new.attention.variables, fresh):
        np.testing.assert_array_equal(a.numpy(), b)

    fields["attention_length"] = 4  # a config edited to attend: it no longer fits the weights
    config.write_text(json.dumps(fields))
    with pytest.raises(UsageError, match="attention_length 4 \\(the checkpoint has 0\\)"):
        load(str(tmp_path / "logs" / "old"))


def test_the_window_of_a_step_over_two_devices_equals_one_device(tmp_path):
    """Two replicas each carry their rows' windows; saving gathers them in order. (The pytest
    process has two logical CPUs: conftest.py.)"""
    from test_trainer import MODEL, train_on_one_and_two_devices

    model = dataclasses.replace(MODEL, dropout=0.0, attention_length=LENGTH)
    single, mirrored = train_on_one_and_two_devices(tmp_path, model)
    window = single.state.carried_parts["carried_window"].numpy()
    assert window.shape == (4, LENGTH, MODEL.units) and np.any(window != 0)
    assert single.step_graph().get_operations()  # TensorBoard's graph of the step
    np.testing.assert_allclose(
        window, mirrored.state.carried_parts["carried_window"].numpy(), atol=1e-5)
