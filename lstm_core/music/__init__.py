"""Music for lstm-core: MIDI corpora to tokens and back, audio and piano rolls.

The public API the apps call; see each module for the details:

- `events` / `legacy`: the ``events`` (default) and ``notes`` encodings; `scores`: MIDI ⇄ notes.
- `corpus`: `is_music_source`, `load_corpus` (parallel, cached); `prepare`: the CLI.
- `render`: hearing and seeing a symusic `Score`: `render_audio`, `audio_waveform`,
  `draw_piano_roll`, `piano_roll_image`; `summaries.write_sample_summaries` for TensorBoard
  (imports TensorFlow).
- `primer`: `encode_midi_file`, `known_events`, `random_excerpt`, `random_excerpts`.
"""

from lstm_core.music.corpus import is_music_source, load_corpus
from lstm_core.music.encodings import ENCODINGS
from lstm_core.music.events import BOUNDARY
from lstm_core.music.primer import (encode_midi_file, known_events, random_excerpt,
                                    random_excerpts)
from lstm_core.music.render import (audio_waveform, draw_piano_roll, piano_roll_image,
                                    render_audio)
from lstm_core.music.scores import write_midi

__all__ = ["BOUNDARY", "ENCODINGS", "audio_waveform", "draw_piano_roll",
           "encode_midi_file", "is_music_source", "known_events", "load_corpus",
           "piano_roll_image", "random_excerpt", "random_excerpts",
           "render_audio", "write_midi"]
