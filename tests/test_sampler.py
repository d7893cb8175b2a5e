"""The sampler: the token-choice policy and beam search alone, masks, log-likelihoods, beam
search, slices of many streams; the beam options' checks; and sample.py's beam search, Ctrl-C and
progress."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from lstm_core.beam_search import BeamSearch
from lstm_core.grammar import Grammar
from lstm_core import chunk_runner
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.sampler import Sampler
from lstm_core.token_choice import TokenChoice
from apps import sample_py
from conftest import FIRST_LINE
from test_cli import ROOT

VOCABULARY = 30


@pytest.fixture(scope="module")
def model():
    return LanguageModel(ModelConfig(VOCABULARY, units=32, layers=2, embedding_size=16), seed=3)


def primers(streams, length=5):
    return np.random.default_rng(0).integers(0, VOCABULARY, (streams, length)).astype(np.int32)


def recomputed_log_likelihood(model, primer, ids):
    """The sum of the chosen tokens' log-probabilities, from the model run over primer + ids."""
    tokens = np.concatenate([primer, ids], axis=1)
    logits, _ = model(tf.constant(tokens[:, :-1]), model.initial_state(len(tokens)))
    log_probabilities = tf.nn.log_softmax(logits).numpy()[:, primer.shape[1] - 1:]
    return np.take_along_axis(log_probabilities, ids[..., None], axis=2)[..., 0].sum(axis=1)


# ---- the parts alone ------------------------------------------------------------------------
def test_token_choice_filters_then_draws_from_what_is_left():
    logits = tf.math.log(tf.constant([[0.5, 0.3, 0.15, 0.05]] * 2000))  # one row per draw
    seeds = tf.constant([1, 2], tf.int64)

    def counts(choice, **settings):
        drawn = choice.choose(logits, tf.zeros([2000], tf.int32), seeds, **settings).numpy()
        return np.bincount(drawn, minlength=4)

    plain = dict(temperature=1.0, top_k=0, top_p=1.0)
    assert counts(TokenChoice(greedy=True), **plain)[0] == 2000
    assert counts(TokenChoice(), **{**plain, "top_k": 1})[0] == 2000
    top_two = counts(TokenChoice(), **{**plain, "top_k": 2})
    assert top_two[2:].sum() == 0 and 0.55 < top_two[0] / 2000 < 0.70  # 0.5 / 0.8
    top_p = counts(TokenChoice(), **{**plain, "top_p": 0.9})  # 0.5 + 0.3 + 0.15 reach it
    assert top_p[3] == 0 and top_p[2] > 0
    drawn = counts(TokenChoice(), **plain)
    np.testing.assert_allclose(drawn / 2000, [0.5, 0.3, 0.15, 0.05], atol=0.04)
    # The grammar's masks come first; the log-probability is the model's, unfiltered.
    only_last = Grammar(np.array([[False, False, False, True]]), np.zeros([1, 4], np.int32))
    assert counts(TokenChoice(grammar=only_last, greedy=True), **plain)[3] == 2000
    np.testing.assert_allclose(TokenChoice.log_probability(logits[:1], tf.constant([3])),
                               [np.log(0.05)], rtol=1e-5)


def test_beam_search_keeps_the_likeliest_streams_and_traces_the_best_back():
    beams = BeamSearch(beam_size=2, branch_factor=2, steps_per_iteration=3)
    assert beams.first_iteration(10) == 1 and beams.first_iteration(9) == 3
    log_likelihood = tf.constant([-3.0, -1.0, -2.0, -9.0, -5.0, -4.0, -6.0, -0.5])
    pruned = beams.continued_rows(tf.constant(4, tf.int64), log_likelihood,
                                  tf.constant(10, tf.int64), tf.constant(1, tf.int64))
    assert list(pruned.numpy()) == [1, 1, 2, 2, 7, 7, 5, 5]  # per sample of 4: best 2, twice
    between = beams.continued_rows(tf.constant(5, tf.int64), log_likelihood,
                                   tf.constant(10, tf.int64), tf.constant(1, tf.int64))
    assert list(between.numpy()) == list(range(8))
    # Two steps of one sample of four streams: stream 2 wins, having continued stream 1.
    tokens = np.array([[10, 20], [11, 21], [12, 22], [13, 23]], np.int32)
    parents = np.array([[0, 0], [1, 1], [2, 1], [3, 3]], np.int32)
    ids, best = beams.trace(tokens, parents, np.array([-4.0, -3.0, -1.0, -2.0]))
    assert ids.tolist() == [[11, 22]] and best.tolist() == [-1.0]


def test_chunks_do_not_change_the_tokens(model):
    primer = primers(3)
    whole = Sampler(model, chunk_length=40).generate_scored(primer, 40, random_seed=5)
    cut = Sampler(model, chunk_length=7).generate_scored(primer, 40, random_seed=5)
    np.testing.assert_array_equal(whole.ids, cut.ids)
    np.testing.assert_allclose(whole.log_likelihood, cut.log_likelihood, rtol=1e-5)


@pytest.mark.parametrize("settings", [dict(), dict(temperature=0.7, top_k=5),
                                      dict(beam_size=3, branch_factor=2, steps_per_iteration=4)])
def test_log_likelihood_is_the_models_over_the_sample(model, settings):
    primer = primers(3)
    generated = Sampler(model, chunk_length=8, **settings).generate_scored(primer, 30, 11)
    assert generated.ids.shape == (3, 30)
    np.testing.assert_allclose(generated.log_likelihood,
                               recomputed_log_likelihood(model, primer, generated.ids),
                               rtol=1e-4)


def test_beam_of_one_with_one_branch_is_plain_sampling(model):
    primer = primers(4)
    plain = Sampler(model, temperature=0.8, chunk_length=9).generate_scored(primer, 50, 2)
    beam = Sampler(model, temperature=0.8, chunk_length=9, beam_size=1, branch_factor=1,
                   steps_per_iteration=3).generate_scored(primer, 50, 2)
    np.testing.assert_array_equal(plain.ids, beam.ids)
    np.testing.assert_allclose(plain.log_likelihood, beam.log_likelihood)


def test_a_wide_beam_finds_likelier_samples_than_drawing(model):
    primer = primers(8)
    plain = Sampler(model, chunk_length=10).generate_scored(primer, 40, 4)
    beam = Sampler(model, chunk_length=10, beam_size=4, branch_factor=4).generate_scored(
        primer, 40, 4)
    assert beam.log_likelihood.mean() > plain.log_likelihood.mean()


@pytest.mark.parametrize("settings", [dict(), dict(top_k=3, top_p=0.9, temperature=2.0),
                                      dict(greedy=True),
                                      dict(beam_size=2, branch_factor=3, steps_per_iteration=2)])
def test_a_masked_token_never_appears(model, settings):
    allowed = np.ones([VOCABULARY, VOCABULARY], bool)
    allowed[:, 7] = False  # never
    allowed[4, :] = False  # after token 4 only token 5
    allowed[4, 5] = True
    sampler = Sampler(model, chunk_length=25, grammar=Grammar.previous_token(allowed),
                      **settings)
    primer = primers(6)
    primer[:, -1] = 4
    ids = sampler.generate(primer, 200, random_seed=1)
    assert not (ids == 7).any()
    written = np.concatenate([primer[:, -1:], ids], axis=1)  # the primer's 4 counts too
    after_four = written[:, 1:][written[:, :-1] == 4]
    assert after_four.size and (after_four == 5).all()
    if not {"top_k", "greedy"} & settings.keys():  # drawing from all: the model would write it
        unmasked = Sampler(model, chunk_length=25, **settings).generate(primer, 200, 1)
        assert (unmasked == 7).any()


def test_many_streams_run_in_slices_and_repeat_with_the_seed(model, monkeypatch):
    # A CPU of four cores on any machine: 64 streams run as four slices of 16.
    monkeypatch.setattr(chunk_runner, "cpu_cores", lambda: 4)
    monkeypatch.setattr(chunk_runner.tf.config, "list_logical_devices", lambda kind=None: [])
    sampler = Sampler(model, chunk_length=16)
    primer = primers(64)
    assert sampler._slices(len(primer)) == 4
    first = sampler.generate_scored(primer, 32, 9)
    np.testing.assert_array_equal(first.ids, sampler.generate_scored(primer, 32, 9).ids)
    np.testing.assert_allclose(first.log_likelihood,
                               recomputed_log_likelihood(model, primer, first.ids), rtol=1e-4)
    assert len({row.tobytes() for row in first.ids}) > 60  # the streams differ


# ---- sample.py -----------------------------------------------------------------------------
def test_a_beam_of_one_equals_plain_sampling_and_beams_report_log_likelihoods(text_model):
    from lstm_core.trained_model import load

    model = load("words", logdir=str(text_model / "logs"))
    common = dict(sample_length=120, random_seed=4, num_samples=2, temperature=0.9)
    plain = model.sample(**common).samples
    beam = model.sample(**common, beam_size=1, branch_factor=1).samples
    assert [s.text for s in plain] == [s.text for s in beam] and plain[0].text != plain[1].text
    assert [s.log_likelihood for s in plain] == [s.log_likelihood for s in beam]
    wide = model.sample(**common, beam_size=3, branch_factor=2, steps_per_iteration=4).samples
    assert len(wide) == 2 and all(s.tokens == 120 and s.log_likelihood < 0 for s in wide)


@pytest.mark.parametrize("keywords, fragment", [
    (dict(beam_size=0), "^beam_size is 0"),
    (dict(branch_factor=-2), "^branch_factor is -2"),
    (dict(beam_size=2, steps_per_iteration=0), "^steps_per_iteration is 0"),
    (dict(beam_size=2, top_p=0.9), "--top_p does not combine with beam search"),
    (dict(branch_factor=2, greedy=True), "--greedy does not combine with beam search"),
    (dict(steps_per_iteration=3), "--steps_per_iteration is for beam search"),
])
def test_beam_options_that_make_no_sense_are_usage_errors(keywords, fragment):
    from lstm_core.errors import UsageError
    from lstm_core.sampling_options import SampleOptions

    with pytest.raises(UsageError, match=fragment):
        SampleOptions(**keywords).validate(given=keywords)


def test_a_thousand_samples_are_each_written(text_model):
    (text_model / "many").mkdir()
    result = sample_py(text_model, model_name="words", output_file="many/s.txt",
                       num_samples=1000, sample_length=20, random_seed=1, seed="the ")
    written = sorted(os.listdir(text_model / "many"))
    assert len(written) == 1000 and result.stdout.count("log-likelihood") == 1000
    assert all(len((text_model / "many" / name).read_text(encoding="utf-8")) == 24
               for name in written[:50])


def test_ctrl_c_writes_what_was_generated_with_a_line_per_update(text_model):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "sample.py"), "--model_name", "words", "--output_file",
         "long.txt", "--sample_length", "100000000", "--log_frequency", "50", "--random_seed",
         "1"], cwd=text_model, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, progress = [], []
    for line in process.stderr:  # not a terminal: one line per chunk of --log_frequency
        seen.append(line)
        if "/100000000 " in line:
            progress.append(line)
        if len(progress) == 3:
            process.send_signal(signal.SIGINT)
            break
    stderr = "".join(seen) + process.stderr.read()
    stdout = process.stdout.read()
    assert process.wait(timeout=120) == 130, stderr
    assert progress[0].split()[1] == "50/100000000", progress
    written = (text_model / "long.txt").read_text(encoding="utf-8")
    done = int(stderr.split("interrupted after ")[1].split()[0])
    assert done >= 150 and done % 50 == 0 and len(written) == len(FIRST_LINE) + done
    assert f"wrote long.txt ({done} characters" in stdout
    assert "run the same command" not in stderr and "Traceback" not in stderr


def test_ctrl_c_before_anything_was_generated_says_nothing_was_written(text_model):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "sample.py"), "--model_name", "words", "--output_file",
         "none.txt", "--sample_length", "10000000", "--log_frequency", "10000000"],
        cwd=text_model, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Ctrl-C while TensorFlow loads, long before the first chunk: a chunk of 10,000,000 tokens,
    # once running, is one compiled call that a signal interrupts only when it returns.
    maps = f"/proc/{process.pid}/maps"
    for _ in range(1200):
        if process.poll() is not None or "tensorflow" in open(maps).read():
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "nothing" in stderr.splitlines()[-1] and "Traceback" not in stderr
    assert not (text_model / "none.txt").exists()
