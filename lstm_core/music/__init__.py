"""Music for lstm-core: score files to tokens and back, audio and piano rolls.

A piece is a `symusic.Score` throughout. The public API the apps call; see each module:

- `constants`: suffixes, defaults, the General MIDI table, `programs_named` (no heavy imports).
- `tokenizer`: MidiTok's REMI (default), TSD, MIDI-Like and the `notes` baseline: `build`,
  `encode`, `decode`, `metadata_of`, `from_metadata` (the vocabulary records the tokenizer).
- `scores`: `read_score`, `select_instruments`, `write_midi`.
- `corpus`: `is_music_source`, `source_files`, `load_corpus` (cached); `prepare`: the CLI.
- `render`: hearing and seeing a Score: `render_audio`, `audio_waveform`, `draw_piano_roll`,
  `piano_roll_image`; `summaries.write_sample_summaries` for TensorBoard.
- `generation`: a piece from a model: controls (instruments, key, tempo), primers, length;
  `constraints`: what may be written next (`Sampler(grammar=...)`), with the corpus's limits
  measured at preparation: `playable` (each part's pitch range and polyphony) and `bar_rules`
  (empty bars in a row, tempo on a bar's first beat); `pitches`: note names.
- `primer`: `encode_midi_file`, `random_excerpt`, `random_excerpts`.
- `evaluate`: generated pieces against real excerpts of their corpus (`evaluate`,
  `format_table`, the CLI); `metrics`: the figures of one piece, MusPy's definitions;
  `bars`: bar lines by time signature, `excerpt`.

The names below load their module on first use: importing `lstm_core.music.constants` (as
``sample.py`` does for every model) loads neither MidiTok nor music21.
"""

import importlib

from lstm_core.music.constants import BOUNDARY

_HOMES = {"is_music_source": "corpus", "load_corpus": "corpus", "ENCODINGS": "tokenizer",
          "encode_midi_file": "primer", "random_excerpt": "primer",
          "random_excerpts": "primer", "write_midi": "scores", "audio_waveform": "render",
          "draw_piano_roll": "render", "piano_roll_image": "render", "render_audio": "render"}

__all__ = ["BOUNDARY", *_HOMES]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'lstm_core.music' has no attribute {name!r}")
    return getattr(importlib.import_module(f"lstm_core.music.{_HOMES[name]}"), name)
