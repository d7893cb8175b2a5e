"""A solo from a jazz model (`improvise`): tokens sampled, then realised as pitches over each
chord of the progression, the chords voiced for piano beside it."""

from __future__ import annotations

import numpy as np

from lstm_core.music import jazz
from lstm_core.music.constants import SOLO_PROGRAMS
from lstm_core.preprocessing import Vocabulary
from lstm_core.progress import silent_report
from lstm_core.sampler import Sampler
from lstm_core.sampling import Progress, Report, Sample, Samples, interruptible, run_sampler
from lstm_core.sampling_options import SampleOptions


def progression(options: SampleOptions, metadata: dict, report: Report = silent_report
                ) -> jazz.Progression:
    """The bars the solo is played over: --chords_from's, --chords' or (neither) the first
    chorus of the training solo's, repeated --choruses times or cut at --bars (a score of
    --chords_from skipped is warned of through `report`)."""
    if options.chords_from:
        chorus = jazz.read_progression(options.chords_from, options.chord_parts,
                                      report=report)
    elif options.chords is not None:
        chorus = jazz.parse_progression(options.chords, metadata["measure_length"])
    else:
        chorus = jazz.parse_progression(metadata["progression"],
                                        metadata["measure_length"])[:jazz.CHORUS_BARS]
    return jazz.solo_form(chorus, options.bars, options.choruses)


def improvise(sampler: Sampler, vocabulary: Vocabulary, options: SampleOptions,
              random_seed: int, progress: Progress | None = None,
              report: Report = silent_report) -> Samples:
    """`options.num_samples` solos (`Sample.score`: the tracks ``Solo`` and ``Chords``)."""
    metadata = vocabulary.metadata
    bars = progression(options, metadata, report)
    length = jazz.tokens_needed(bars, metadata["mean_duration"])
    primer = np.zeros([1], np.int32)  # the most frequent token
    generated, interrupted_after = interruptible(lambda: run_sampler(
        sampler, primer, options.num_samples, length, random_seed, progress))
    samples = []
    for n, (ids, log_likelihood) in enumerate(zip(*generated)):
        solo = jazz.realize_solo(vocabulary.decode(ids), bars,
                                 np.random.default_rng([random_seed, n]),
                                 pitch_range=tuple(metadata["pitch_range"]),
                                 dynamics=metadata.get("dynamics"))
        score = jazz.solo_score(solo, bars, tempo=options.tempo or metadata["tempo"],
                                solo_program=SOLO_PROGRAMS[options.solo_instrument])
        samples.append(Sample(ids, float(log_likelihood), score=score))
    return Samples(samples, random_seed, length, interrupted_after, progression=bars)
