"""The lookback inputs (`lstm_core.lookback`): against a numpy computation of the module
docstring, step by step against the whole sequence, and a music model with them end to end:
trained, resumed, shown in TensorBoard, refused where tokens mark no bars (sampled and exported:
test_attention.py, on the default music model)."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from test_attention import steps_as_over_the_sequence, written_tags

from lstm_core.lookback import BAR, NOTE, OTHER, Lookback, LookbackState, bar_grid
from lstm_core.model import LanguageModel, ModelConfig

TOKENS = ["PAD_None", "Bar_None", "Position_0", "Position_12", "Position_24", "Program_0",
          "Pitch_60", "Pitch_64", "PitchDrum_36", "Velocity_90", "Duration_1.0.8"]
BATCH, STEPS, EMBEDDING = 3, 60, 4


def numpy_lookback(tokens, grid, weights):
    """The module docstring, one stream and one step at a time: `tokens` `[batch, time]` →
    ``l`` `[time, batch, embedding]`."""
    position_table, note_tables, onset_tables = (np.float64(w) for w in weights)
    vocabulary, positions = len(grid), max(grid) + 1
    out = np.zeros([tokens.shape[1], tokens.shape[0], position_table.shape[1]])
    for b, stream in enumerate(tokens):
        q, waiting, bars = 0, False, [[vocabulary] * (positions + 1) for _ in range(3)]
        for t, token in enumerate(stream):
            role = grid[token]
            if role == BAR:
                q, waiting, bars = 0, False, [[vocabulary] * (positions + 1)] + bars[:2]
            elif role >= 0:
                q, waiting = role + 1, True
            elif role == NOTE and waiting:
                bars[0][q], waiting = token, False
            out[t, b] = position_table[q]
            for k in (1, 2):
                later = [c for c in range(q + 1, positions + 1) if bars[k][c] != vocabulary]
                out[t, b] += (note_tables[k - 1][bars[k][q]]
                              + onset_tables[k - 1][later[0] if later else positions + 1])
    return out


def bar_like_tokens(rng, batch, steps):
    """Token ids that mostly follow REMI's order (bars of positions of notes), with some noise,
    so that every branch of the bookkeeping is taken."""
    vocabulary = {t: i for i, t in enumerate(TOKENS)}
    rows = []
    for _ in range(batch):
        row = []
        while len(row) < steps:
            row.append(vocabulary["Bar_None"])
            for position in sorted(rng.choice([2, 3, 4], rng.integers(0, 3), replace=False)):
                row += [int(position), vocabulary["Program_0"],
                        int(rng.choice([6, 7, 8])), vocabulary["Velocity_90"],
                        vocabulary["Duration_1.0.8"]]
            if rng.random() < 0.3:
                row.append(int(rng.integers(0, len(TOKENS))))
        rows.append(row[:steps])
    return np.array(rows, np.int32)


@pytest.fixture
def lookback():
    lookback = Lookback(bar_grid(TOKENS), EMBEDDING)
    rng = tf.random.Generator.from_seed(5)
    for table in lookback.variables:  # not zero: every row read must line up
        table.assign(rng.normal(table.shape))
    return lookback


def test_the_grid_names_each_token_role():
    assert bar_grid(TOKENS) == (OTHER, BAR, 0, 1, 2, OTHER, NOTE, NOTE, NOTE, OTHER, OTHER)
    assert bar_grid(["TimeShift_1.0.8", "Pitch_60", "Velocity_90"]) == ()  # TSD: no bars
    assert bar_grid(["a", "b", " "]) == ()  # text
    assert bar_grid([*TOKENS, "Position_0+Pitch_60"]) == ()  # BPE merges a position and a note


def test_sequence_and_step_match_numpy(lookback):
    tokens = bar_like_tokens(np.random.default_rng(0), BATCH, STEPS)
    expected = numpy_lookback(tokens, bar_grid(TOKENS), [w.numpy() for w in lookback.weights])
    memory = lookback.initial_memory(BATCH)
    whole, last, _ = lookback.sequence(tf.constant(tokens.T), memory)
    np.testing.assert_allclose(whole.numpy(), expected, rtol=1e-5, atol=1e-5)
    stepped = []
    for t in range(STEPS):
        contribution, memory = lookback.step(tf.constant(tokens[:, t]), memory)
        stepped.append(contribution.numpy())
    np.testing.assert_allclose(np.stack(stepped), expected, rtol=1e-5, atol=1e-5)
    for a, b in zip(memory, last):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert np.any(last.bars.numpy()[:, 1:] != len(TOKENS))  # notes were remembered


def test_a_sequence_in_two_pieces_is_the_whole(lookback):
    """The bar memory carries the past across truncated-BPTT batches."""
    tokens = tf.constant(bar_like_tokens(np.random.default_rng(1), BATCH, STEPS).T)
    memory = lookback.initial_memory(BATCH)
    whole, whole_memory, _ = lookback.sequence(tokens, memory)
    first, middle, _ = lookback.sequence(tokens[:17], memory)
    second, last, _ = lookback.sequence(tokens[17:], middle)
    np.testing.assert_allclose(tf.concat([first, second], 0).numpy(), whole.numpy())
    for a, b in zip(last, whole_memory):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def grid_config(**fields):
    return ModelConfig(len(TOKENS), "remi", units=5, layers=2, embedding_size=EMBEDDING,
                       bar_grid=bar_grid(TOKENS), **fields)


@pytest.mark.parametrize("attention_length", [0, 4])
def test_model_step_matches_the_model_over_a_sequence(attention_length):
    model = LanguageModel(grid_config(attention_length=attention_length), seed=1)
    for table in model.lookback.variables:
        table.assign(tf.random.stateless_normal(table.shape, seed=[1, 2]))
    tokens = tf.constant(bar_like_tokens(np.random.default_rng(2), BATCH, 20))
    assert isinstance(steps_as_over_the_sequence(model, tokens), LookbackState)


def test_a_new_model_with_lookback_starts_as_the_model_without():
    """The tables start at zero and draw nothing: every other weight, and so every logit, is
    the same as without the option; gradients still reach the tables."""
    plain = LanguageModel(dataclasses.replace(grid_config(), bar_grid=()), seed=2)
    looking = LanguageModel(grid_config(), seed=2)
    assert plain.lookback is None and not isinstance(plain.initial_state(1), LookbackState)
    tokens = tf.constant(bar_like_tokens(np.random.default_rng(3), BATCH, 12))
    with tf.GradientTape() as tape:
        logits, _ = looking(tokens, looking.initial_state(BATCH))
        loss = tf.reduce_sum(logits ** 2)
    np.testing.assert_allclose(logits.numpy(), plain(tokens, plain.initial_state(BATCH))[0].numpy(),
                               rtol=1e-6)
    for gradient in tape.gradient(loss, looking.lookback.trainable_variables):
        assert np.any(tf.convert_to_tensor(gradient).numpy() != 0)


def test_a_resumed_run_with_lookback_and_attention_equals_an_uninterrupted_one(tmp_path):
    """The bar memory and the attention's window are carried from batch to batch and saved
    with the checkpoint; a model folder keeps its own choice."""
    from band import band_folder
    from lstm_core import UsageError, train

    band_folder(tmp_path)
    tiny = dict(units=8, batch_size=2, sequence_length=8, attention_length=4, sample_every=0,
                histogram_frequency=0, lookback=True)
    straight = train(str(tmp_path / "songs"), logdir=str(tmp_path / "a"), model_name="m",
                     max_steps=6, **tiny)
    train(str(tmp_path / "songs"), logdir=str(tmp_path / "b"), model_name="m", max_steps=3,
          **tiny)
    resumed = train(str(tmp_path / "songs"), logdir=str(tmp_path / "b"), model_name="m",
                    max_steps=6, **tiny)
    for a, b in zip(straight.model.variables, resumed.model.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(UsageError, match="--lookback False differs from model m"):
        train(str(tmp_path / "songs"), logdir=str(tmp_path / "b"), model_name="m",
              max_steps=7, **{**tiny, "lookback": False})
    config = tmp_path / "b" / "m" / "config.json"
    fields = json.loads(config.read_text())
    config.write_text(json.dumps({**fields, "bar_grid": []}))  # edited: no longer fits
    from lstm_core import load
    with pytest.raises(UsageError, match="lookback False \\(the checkpoint has True\\)"):
        load(str(tmp_path / "b" / "m"))


def test_lookback_is_refused_where_tokens_mark_no_bars(tmp_path):
    from lstm_core import UsageError, train

    text = tmp_path / "text.txt"
    text.write_text("some words to learn " * 50)
    with pytest.raises(UsageError, match="--lookback needs tokens that mark bars"):
        train(str(text), logdir=str(tmp_path / "logs"), lookback=True, max_steps=1)


def test_new_remi_models_look_back_and_older_folders_keep_their_own(tmp_path):
    from lstm_core.kinds import TokenKind
    from lstm_core.training_options import TrainOptions, with_music_defaults

    options = TrainOptions()
    assert with_music_defaults(options, TokenKind.REMI, ()).lookback
    assert not with_music_defaults(options, TokenKind.CHARACTERS, ()).lookback
    assert not with_music_defaults(options, TokenKind.JAZZ, ()).lookback
    assert not with_music_defaults(options, TokenKind.REMI, {"lookback"}).lookback
    # A config.json from before the option has no bar_grid: a model without lookback.
    fields = dataclasses.asdict(grid_config())
    del fields["bar_grid"]
    (tmp_path / "config.json").write_text(json.dumps({**fields, "token_kind": "remi"}))
    saved = ModelConfig.load(str(tmp_path / "config.json"))
    assert not saved.lookback
    assert not with_music_defaults(options, TokenKind.REMI, (),
                                   {**fields, "lookback": saved.lookback}).lookback


def test_tensorboard_shows_the_lookback_contribution(tmp_path):
    from types import SimpleNamespace

    from lstm_core import summaries

    model = LanguageModel(grid_config(), seed=4)
    for table in model.lookback.variables:
        table.assign(tf.random.stateless_normal(table.shape, seed=[3, 4]))
    tokens = bar_like_tokens(np.random.default_rng(4), BATCH, 13)
    hook = summaries.InternalsSummaries(SimpleNamespace(model=model, replicas=1),
                                        tokens[:, :-1], tokens[:, 1:], graph=False)
    histograms, _, scalars = hook._compute()
    expected = numpy_lookback(tokens[:, :-1], bar_grid(TOKENS),
                              [w.numpy() for w in model.lookback.weights])
    np.testing.assert_allclose(histograms["lookback/contribution"].numpy(), expected, rtol=1e-5,
                               atol=1e-5)
    embedded = model.embedding.numpy()[tokens[:, :-1].T]
    np.testing.assert_allclose(float(scalars["lookback/relative_norm"]),
                               np.linalg.norm(expected, axis=-1).mean()
                               / np.linalg.norm(embedded, axis=-1).mean(), rtol=1e-5)
    assert {"lookback/contribution", "lookback/relative_norm"} <= written_tags(hook, tmp_path)
