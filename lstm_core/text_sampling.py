"""Text: the seed's characters, continued by the sampler (`sample_text`)."""

from __future__ import annotations

from lstm_core.errors import UsageError
from lstm_core.preprocessing import Vocabulary, describe_tokens
from lstm_core.sampler import Sampler
from lstm_core.sampling import Progress, Report, Sample, Samples, interruptible, run_sampler
from lstm_core.sampling_options import SampleOptions


def text_primer(vocabulary: Vocabulary, seed: str, report: Report) -> list[str]:
    """The seed's characters; ones the vocabulary lacks become a space (or are dropped when it
    has no space), with a warning through `report` naming them."""
    lacking = vocabulary.missing(seed)
    if lacking:
        replacement = " " if " " in vocabulary.ids else ""
        report(f"warning: the vocabulary lacks {describe_tokens(lacking)} of --seed; "
               f"{'replaced by spaces' if replacement else 'dropped'}")
        seed = "".join(c if c in vocabulary.ids else replacement for c in seed)
    if not seed:
        raise UsageError("--seed is empty (or has no character the model knows); give a few "
                         "words to start from")
    return list(seed)


def sample_text(sampler: Sampler, vocabulary: Vocabulary, options: SampleOptions,
                random_seed: int, progress: Progress | None, report: Report) -> Samples:
    """`options.num_samples` texts of the seed and `options.length` characters after it."""
    primer = text_primer(vocabulary, options.seed, report)
    length = options.length(vocabulary.family)
    generated, interrupted_after = interruptible(lambda: run_sampler(
        sampler, vocabulary.encode(primer), options.num_samples, length, random_seed, progress))
    samples = [Sample(ids, float(log_likelihood), text="".join(primer) + vocabulary.decode(ids))
               for ids, log_likelihood in zip(*generated)]
    return Samples(samples, random_seed, length, interrupted_after)
