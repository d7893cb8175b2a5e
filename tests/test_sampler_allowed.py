"""`Sampler(allowed_next=...)`: a token never follows one its row forbids, drawn or greedy."""

import numpy as np
import pytest

from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.sampler import Sampler

VOCABULARY = 7


@pytest.mark.parametrize("options", [dict(), dict(greedy=True), dict(top_k=2), dict(top_p=0.5)])
def test_every_token_follows_as_the_matrix_allows(options):
    model = LanguageModel(ModelConfig(VOCABULARY, units=8, layers=1, embedding_size=4))
    allowed = np.zeros([VOCABULARY, VOCABULARY], bool)
    for p in range(VOCABULARY):  # p may be followed by p+1 or p+3 only
        allowed[p, [(p + 1) % VOCABULARY, (p + 3) % VOCABULARY]] = True
    sampler = Sampler(model, temperature=3.0, chunk_length=16, allowed_next=allowed, **options)
    primer = np.array([[0], [4], [6]], np.int32)
    generated = sampler.generate(primer, 50, random_seed=1)
    previous = np.concatenate([primer, generated[:, :-1]], axis=1)
    assert allowed[previous, generated].all()
    if not options:  # drawing at a high temperature uses both successors
        assert len(set(((generated - previous) % VOCABULARY).ravel())) == 2
