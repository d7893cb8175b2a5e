"""TensorBoard summaries of a generated piece: how it sounds and its piano roll.

Kept apart from `lstm_core.music` so that preparing a corpus does not import TensorFlow.
"""

from __future__ import annotations

import symusic
import tensorflow as tf

from lstm_core.music.render import audio_waveform, piano_roll_image


def write_sample_summaries(score: symusic.Score, step: int, name: str = "sample",
                           sample_rate: int = 16000) -> None:
    """Writes ``NAME/audio`` (FluidSynth's rendering when installed, as ``--audio`` writes it)
    and ``NAME/piano_roll`` (the picture ``--piano_roll`` draws) of `score` at `step` to the
    default summary writer."""
    waveform = audio_waveform(score, sample_rate)
    tf.summary.audio(f"{name}/audio", waveform[None, :, None], sample_rate, step=step)
    tf.summary.image(f"{name}/piano_roll", piano_roll_image(score)[None], step=step)
