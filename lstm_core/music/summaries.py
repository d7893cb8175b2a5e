"""TensorBoard summaries of a generated piece: how it sounds and its piano roll.

Kept apart from `lstm_core.music` so that preparing a corpus does not import TensorFlow.
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from lstm_core.music import tokenizer
from lstm_core.music.render import audio_waveform, piano_roll_image


def write_sample_summaries(tokens: Sequence[str], metadata: dict, step: int,
                           name: str = "sample", sample_rate: int = 16000) -> None:
    """Writes ``NAME/audio`` (FluidSynth's rendering when installed, as ``--audio`` writes it)
    and ``NAME/piano_roll`` (the picture ``--piano_roll`` draws) of `tokens`, decoded by the
    tokenizer `metadata` records, at `step` to the default summary writer."""
    score = tokenizer.decode(tokens, metadata)
    tf.summary.audio(f"{name}/audio", audio_waveform(score, sample_rate)[None, :, None],
                     sample_rate, step=step)
    tf.summary.image(f"{name}/piano_roll", piano_roll_image(score)[None], step=step)
