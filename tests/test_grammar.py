"""`Grammar`, the automaton a `Sampler` keeps to: built from a previous-token matrix, two run
side by side (as a product table, or as a `Conjunction`), and the real sampler never writing a token its stream's state forbids, drawn,
greedy or filtered, in the eager driver and in the graph one (the exported model's)."""

import numpy as np
import pytest
import tensorflow as tf

from lstm_core.grammar import Conjunction, Grammar
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.sampler import Sampler

VOCABULARY = 7


def rising() -> Grammar:
    """Tokens 1..6 strictly rising, token 0 starting again: the state is the last token."""
    allowed = np.arange(VOCABULARY)[None, :] > np.arange(VOCABULARY)[:, None]
    allowed[:, 0] = True
    next_state = np.tile(np.arange(VOCABULARY, dtype=np.int32), [VOCABULARY, 1])
    return Grammar(allowed, next_state)


def test_previous_token_has_a_state_per_distinct_row_and_a_start_that_allows_all():
    allowed = np.zeros([4, 4], bool)
    allowed[[0, 1], 2] = allowed[[2, 3], 0] = True  # rows 0 and 1 alike, rows 2 and 3 alike
    grammar = Grammar.previous_token(allowed)
    assert grammar.states == 3 and grammar.allowed[grammar.start].all()
    for previous in range(4):
        state = grammar.run([3, previous])
        assert (grammar.allowed[state] == allowed[previous]).all()


def test_the_product_allows_what_both_allow_and_forbids_the_way_into_a_dead_end():
    after_one_only_two = np.ones([3, 3], bool)
    after_one_only_two[1] = [False, False, True]
    # Two states: token 2 moves to state 1, where 2 is forbidden; token 0 moves back to 0.
    once = Grammar(np.array([[True, True, True], [True, True, False]]),
                   np.array([[0, 0, 1], [0, 1, 1]], np.int32))
    both = Grammar.previous_token(after_one_only_two).product(once)
    assert both.allowed[both.run([0]), 1] and both.allowed[both.run([1]), 2]
    assert not both.allowed[both.run([2, 1]), 2]  # once forbids it
    # Token 1 in state 1 is allowed by each alone, but then only 2 may follow, which `once`
    # forbids there: a dead end, so 1 is forbidden; 0 stays.
    assert list(both.allowed[both.run([2])]) == [True, False, False]
    live = both.allowed.any(axis=1)
    assert not (both.allowed & ~live[both.next_state]).any()


def even_after_odd() -> Grammar:
    """After an odd token only even ones; state 1 after an odd token, else 0."""
    allowed = np.ones([2, VOCABULARY], bool)
    allowed[1, 1::2] = False
    next_state = np.tile(np.arange(VOCABULARY, dtype=np.int32) % 2, [2, 1])
    return Grammar(allowed, next_state)


def test_a_conjunction_samples_what_the_product_of_its_grammars_samples():
    """Side by side in one state number, the same masks as the product table, and the same
    draws; its states split back into each grammar's."""
    side_by_side = Conjunction.of([rising(), None, even_after_odd()])
    product = rising().product(even_after_odd())
    assert side_by_side.states == product.states and side_by_side.start == product.start
    state = side_by_side.run([2, 5])
    assert side_by_side.split(state) == [5, 1] and state == product.run([2, 5])
    assert (side_by_side.allowed_in(state) == product.allowed[state]).all()
    model = LanguageModel(ModelConfig(VOCABULARY, units=8, layers=1, embedding_size=4))
    primer = np.array([[0, 5], [2, 3], [6, 0]], np.int32)
    drawn = [Sampler(model, temperature=3.0, chunk_length=16, grammar=g).generate(
        primer, 40, random_seed=2) for g in (side_by_side, product)]
    assert (drawn[0] == drawn[1]).all()
    for row, tokens in zip(primer, drawn[0]):
        state = side_by_side.run(row)
        for token in tokens:
            assert side_by_side.allowed_in(state)[token]
            state = side_by_side.run([token], state)


@pytest.mark.parametrize("options", [dict(), dict(greedy=True), dict(top_k=2), dict(top_p=0.5),
                                     dict(beam_size=2, branch_factor=2)])
def test_every_token_keeps_to_the_state_of_its_stream(options):
    model = LanguageModel(ModelConfig(VOCABULARY, units=8, layers=1, embedding_size=4))
    grammar = rising()
    sampler = Sampler(model, temperature=3.0, chunk_length=16, grammar=grammar, **options)
    primer = np.array([[0, 5], [4, 3], [6, 0]], np.int32)  # [4, 3] breaks it: runs on anyway
    generated = sampler.generate(primer, 50, random_seed=1)
    for row, tokens in zip(primer, generated):
        state = grammar.run(row)
        for token in tokens:
            assert grammar.allowed[state, token]
            state = grammar.next_state[state, token]
    if not options:  # drawing at a high temperature rises by more than one, and starts again
        steps = np.diff(generated, axis=1)
        assert (steps > 1).any() and (generated == 0).any()


@pytest.mark.parametrize("primer", [[[0, 5], [4, 3], [6, 0]], [[2], [5], [0]]])
def test_the_graph_driver_keeps_the_grammar_and_draws_what_the_eager_one_draws(primer):
    model = LanguageModel(ModelConfig(VOCABULARY, units=8, layers=1, embedding_size=4), seed=1)
    sampler = Sampler(model, temperature=3.0, chunk_length=16, grammar=rising())
    primer = np.array(primer, np.int32)  # [4, 3] breaks the grammar: it runs on anyway
    eager = sampler.generate_scored(primer, 40, random_seed=6)
    in_graph = tf.function(sampler.generate_in_graph, input_signature=(  # as the export's
        tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.float32)))
    ids, log_likelihood = in_graph(primer, 40, 6, 3.0, 0, 1.0)
    np.testing.assert_array_equal(ids.numpy(), eager.ids)
    np.testing.assert_allclose(log_likelihood.numpy(), eager.log_likelihood, rtol=1e-6)
    assert (np.diff(eager.ids, axis=1) > 1).any()  # drawn, not walked up one by one


def test_a_state_that_allows_nothing_allows_anything():
    model = LanguageModel(ModelConfig(VOCABULARY, units=8, layers=1, embedding_size=4))
    allowed = np.ones([VOCABULARY, VOCABULARY], bool)
    allowed[2, :] = False
    ids = Sampler(model, grammar=Grammar.previous_token(allowed), chunk_length=10).generate(
        np.array([[2], [2]], np.int32), 10)
    assert ids.shape == (2, 10)


def test_a_grammar_of_another_vocabulary_is_refused():
    model = LanguageModel(ModelConfig(VOCABULARY, units=8, layers=1, embedding_size=4))
    with pytest.raises(ValueError, match="grammar has 6 tokens"):
        Sampler(model, grammar=Grammar.previous_token(np.ones([6, 6], bool)))
    with pytest.raises(ValueError, match="same"):
        Grammar(np.ones([2, 3], bool), np.zeros([2, 4], np.int32))


def test_equal_grammars_have_equal_digests_and_others_differ():
    """A model's samplers are known by their grammar's digest (`TrainedModel._sampler`)."""
    allowed = np.array([[True, False, True], [True, True, False]])
    first = Grammar.previous_token(np.tile(allowed[:1], [3, 1]))
    again = Grammar.previous_token(np.tile(allowed[:1], [3, 1]))
    other = Grammar.previous_token(np.tile(allowed[1:], [3, 1]))
    assert first.digest() == again.digest() != other.digest()
    assert (Conjunction((first, other)).digest() == Conjunction((again, other)).digest()
            != Conjunction((other, first)).digest())
