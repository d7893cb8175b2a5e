"""TensorBoard summaries of a generated excerpt: how it sounds and its piano roll.

Kept apart from `lstm_core.music` so that preparing a corpus does not import TensorFlow.
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from lstm_core.music.render import audio_waveform, piano_roll_image


def write_sample_summaries(tokens: Sequence[str], metadata: dict, step: int,
                           name: str = "sample", sample_rate: int = 16000) -> None:
    """Writes ``NAME/audio`` and ``NAME/piano_roll`` at `step` to the default summary writer."""
    waveform = audio_waveform(tokens, metadata, sample_rate)
    tf.summary.audio(f"{name}/audio", waveform[None, :, None], sample_rate, step=step)
    tf.summary.image(f"{name}/piano_roll", piano_roll_image(tokens, metadata)[None], step=step)
