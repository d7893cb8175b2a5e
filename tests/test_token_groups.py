"""The grammar's masked probability kept within each token type (`token_choice.within_groups`):
against numpy, and in the sampler's draws."""

import numpy as np
import tensorflow as tf

from lstm_core.grammar import Grammar
from lstm_core.music.constraints import type_groups
from lstm_core.token_choice import TokenChoice, within_groups

# Two groups: positions 0-2 (the grammar forbids 0 and 1) and the bar token 3.
GROUPS = np.array([0, 0, 0, 1], np.int32)
ALLOWED = np.array([[False, False, True, True]])


def test_masked_probability_stays_with_the_allowed_tokens_of_its_group():
    logits = np.log(np.array([[0.3, 0.2, 0.1, 0.4]], np.float32))
    got = tf.where(ALLOWED, within_groups(tf.constant(logits), tf.constant(ALLOWED),
                                          tf.one_hot(GROUPS, 2)), -np.inf)
    # The positions keep their 0.6 on the one allowed; the bar keeps its 0.4.
    np.testing.assert_allclose(tf.nn.softmax(got).numpy(), [[0, 0, 0.6, 0.4]], atol=1e-6)


def test_draws_follow_the_groups_probabilities():
    grammar = Grammar(np.array([[False, False, True, True]]), np.zeros([1, 4], np.int32))
    logits = tf.math.log(tf.constant([[0.3, 0.2, 0.1, 0.4]] * 4000))
    states = tf.zeros([4000], tf.int32)
    grouped = TokenChoice(grammar=grammar, groups=GROUPS).choose(logits, states, [1, 2], 1.0,
                                                                 0, 1.0)
    alone = TokenChoice(grammar=grammar).choose(logits, states, [1, 2], 1.0, 0, 1.0)
    assert abs(np.mean(grouped.numpy() == 3) - 0.4) < 0.03  # the model's own share of bars
    assert abs(np.mean(alone.numpy() == 3) - 0.8) < 0.03  # 0.4 / (0.4 + 0.1): bars inflated


def test_music_tokens_are_grouped_by_type():
    tokens = ["Bar_None", "Position_0", "Position_12", "Pitch_60", "Pitch_62",
              "Position_0+Pitch_60"]
    groups = type_groups(tokens)
    assert groups[1] == groups[2] and groups[3] == groups[4]
    assert len({groups[0], groups[1], groups[3], groups[5]}) == 4
