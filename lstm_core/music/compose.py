"""A piece from a music model (`compose`): continuing ``--primer_midi``, ``--primer_notes`` or
an excerpt of the training data, kept to the chosen instruments, key and tempo and to the
corpus's parts and bar rules, as long as asked in tokens, or exactly as long as asked in bars or
seconds."""

from __future__ import annotations

from typing import Callable

import numpy as np

from lstm_core.music import constraints, generation, playable
from lstm_core.music.constants import BOUNDARY
from lstm_core.music.tokenizer import check_vocabulary
from lstm_core.preprocessing import Vocabulary
from lstm_core.progress import silent_report
from lstm_core.sampler import Generated
from lstm_core.sampling import Progress, Report, Sample, Samples, interruptible, run_sampler
from lstm_core.sampling_options import MUSIC_SAMPLE_LENGTH, SampleOptions

MAX_MUSIC_LENGTH = 100_000  # tokens, however many --bars or --seconds ask for


def compose(make_sampler: Callable, vocabulary: Vocabulary, options: SampleOptions,
            random_seed: int, excerpts: Callable[[], list[list[str]]], model_name: str,
            progress: Progress | None = None, report: Report = silent_report) -> Samples:
    """`options.num_samples` pieces (`Sample.score`, a `symusic.Score`).

    Args:
      make_sampler: `Sampler` of the model and the options, given `grammar=`.
      excerpts: the training data's excerpts to start a piece from (`ModelFolder.load_primers`).
      model_name: names the model in errors.
      report: takes a warning about the primer (tokens the model never saw).
    """
    tokens, metadata = vocabulary.tokens, vocabulary.metadata
    check_vocabulary(tokens, metadata, f"the vocabulary of model {model_name}")
    chosen = generation.controls(tokens, metadata, options.instruments, options.key,
                                 options.scale, options.tempo)
    if options.primer_midi:
        primer = generation.primer_from_midi(options.primer_midi, tokens, metadata,
                                             primer_bars=options.primer_bars, report=report)
        if chosen.programs is None:  # the piece goes on with its own instruments
            chosen = generation.Controls(generation.primer_programs(primer) or None,
                                         chosen.pitch_classes, chosen.tempo)
    elif options.primer_notes:
        primer = generation.primer_from_notes(options.primer_notes, tokens, metadata, chosen,
                                              report)
    else:
        starts = excerpts() or [[BOUNDARY]]
        primer = starts[np.random.default_rng(random_seed).integers(len(starts))]
        primer = [BOUNDARY] + primer if primer[0] != BOUNDARY else primer
    keep_primer = bool(options.primer_midi or options.primer_notes)
    sampler = make_sampler(grammar=chosen.grammar(tokens, metadata),
                           groups=constraints.type_groups(tokens))

    def piece(written):
        return playable.enforce(generation.piece(primer, written, metadata, keep_primer,
                                                 options.tempo), metadata)

    # --bars and --seconds count the new music: a kept primer's length comes on top.
    primed = generation.piece(primer, [], metadata, True) if keep_primer else None
    measure = generation.bars if options.bars else generation.seconds if options.seconds else None
    target = None
    if measure is not None:
        target = (measure(primed) if primed is not None else 0) + (options.bars or options.seconds)
    lengths, runs = [], []  # each run's; longer runs follow until the pieces are long enough

    def sample(length: int) -> np.ndarray:
        lengths.append(length)
        runs.append(run_sampler(sampler, vocabulary.encode(primer), options.num_samples,
                                length, random_seed, progress))
        return runs[-1].ids

    def generate() -> Generated:
        if measure is None:
            sample(options.sample_length or MUSIC_SAMPLE_LENGTH)
        else:
            generation.long_enough(sample, lambda ids: measure(piece(vocabulary.decode(ids))),
                                   target, MUSIC_SAMPLE_LENGTH, MAX_MUSIC_LENGTH)
        return runs[-1]

    generated, interrupted_after = interruptible(generate)
    primer_errors = constraints.count_errors(primer, metadata)
    samples = []
    for ids, log_likelihood in zip(*generated):
        written = vocabulary.decode(ids)
        score = piece(written)
        if target is not None:
            score = generation.clipped(score, target if options.bars else None,
                                       None if options.bars else target)
        invalid = constraints.count_errors(list(primer) + written, metadata) - primer_errors
        samples.append(Sample(ids, float(log_likelihood), score=score, invalid=invalid))
    return Samples(samples, random_seed, lengths[-1], interrupted_after,
                   primer_bars=generation.bars(primed) if primed is not None else 0)
