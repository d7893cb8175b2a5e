"""Score files as `symusic.Score`s, the one music data type of `lstm_core.music`.

MIDI files are read and written by symusic. Scores in the formats only music21 reads (MusicXML,
Humdrum, ABC, and the works of music21's bundled corpus) are converted once by music21 into MIDI
bytes, which symusic reads; with a ``cache_dir`` the conversion is kept there, named by the
SHA-256 of the file's bytes, so a second run converts nothing.

`select_instruments` keeps the tracks ``--instruments`` names; `write_midi` decodes tokens and
writes the Score, one track per program, drums on channel 10.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Collection, Sequence

import symusic

from lstm_core.files import atomic_write
from lstm_core.music import tokenizer
from lstm_core.music.constants import DRUMS, MIDI_SUFFIXES, NOTATION_SUFFIXES, program_name


class Unusable(Exception):
    """A file with nothing to learn from; the message says why (empty, truncated, drums only)."""


def read_score(path: str | Path, cache_dir: str | None = None) -> symusic.Score:
    """The Score of the file at `path`: MIDI by content (``MThd``), else a notation format by
    its suffix. Raises `Unusable` with the reason for a file that is no readable score."""
    data = Path(path).read_bytes()
    if not data:
        raise Unusable("it is empty (0 bytes)")
    if data.startswith(b"MThd"):
        return _midi(data)
    suffix = Path(path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        raise Unusable("it is not a MIDI file (it does not start with MThd)")
    if is_musicxml(data[:1024]):
        return _midi(_converted(path, data, cache_dir, "musicxml"))
    if suffix not in NOTATION_SUFFIXES:
        raise Unusable(f"it is no score file ({', '.join(MIDI_SUFFIXES + NOTATION_SUFFIXES)})")
    return _midi(_converted(path, data, cache_dir))


def is_musicxml(head: bytes) -> bool:
    """MusicXML by its first kilobyte, whatever the file's suffix."""
    return b"<score-partwise" in head or b"<score-timewise" in head


def _midi(data: bytes) -> symusic.Score:
    end = _chunks_end(data)
    if end > len(data):
        raise Unusable(f"it is truncated (its chunks need {end} bytes, it has {len(data)})")
    try:
        return symusic.Score.from_midi(data)
    except Exception as e:  # symusic reports a broken file in several ways
        raise Unusable(f"it cannot be read, broken or truncated ({first_line(e)})") from None


def _converted(path: str | Path, data: bytes, cache_dir: str | None,
               format: str | None = None) -> bytes:
    """The MIDI bytes music21 makes of a notation file, from the cache when there."""
    cached = (os.path.join(cache_dir, hashlib.sha256(data).hexdigest() + ".mid")
              if cache_dir else None)
    if cached and os.path.exists(cached):
        return Path(cached).read_bytes()
    from music21 import converter, midi

    try:
        parsed = converter.parse(str(path), format=format)
        converted = midi.translate.music21ObjectToMidiFile(parsed).writestr()
    except Exception as e:  # music21 rejects a broken score in many ways
        raise Unusable(f"music21 cannot read it ({first_line(e)})") from None
    if cached:
        atomic_write(cached, converted)
    return converted


def first_line(error: Exception) -> str:
    """The first line of `error`'s message (its type when it has none), at most 200 characters:
    a skipped file's reason on one line."""
    return (str(error).splitlines()[0] if str(error) else type(error).__name__)[:200]


def _chunks_end(data: bytes) -> int:
    """Where the last chunk of a MIDI file (``MThd``, ``MTrk``...: id, length, body) ends."""
    end = 0
    while end + 8 <= len(data):
        end += 8 + int.from_bytes(data[end + 4:end + 8], "big")
    return end


def program_of(track: symusic.Track) -> int:
    """The track's General MIDI program, `DRUMS` for a drum track."""
    return DRUMS if track.is_drum else track.program


def select_instruments(score: symusic.Score, programs: Collection[int] | None,
                       flag: str = "--instruments") -> symusic.Score:
    """`score` with only the tracks whose program is in `programs` (None: every track); raises
    `Unusable` when no note is left, saying which instruments the file has."""
    played = [t for t in score.tracks if t.notes]
    if not played:
        raise Unusable("it has no notes")
    if programs is None:
        return score
    kept = score.copy()
    kept.tracks = [t for t in kept.tracks if t.notes and program_of(t) in programs]
    if kept.tracks:
        return kept
    if all(t.is_drum for t in played) and DRUMS not in programs:
        raise Unusable(f"it has only drum notes, and {flag} does not ask for drums")
    names = sorted({program_name(program_of(t)) for t in played})
    raise Unusable(f"none of its instruments ({', '.join(names)}) is in {flag}")


def write_midi(tokens: Sequence[str], metadata: dict, path: str,
               tempo: float | None = None) -> symusic.Score:
    """Writes `tokens` (in the encoding `metadata` records) as a MIDI file, atomically, at
    `tempo` quarter notes per minute throughout when given; returns the Score written."""
    score = tokenizer.decode(tokens, metadata)
    if tempo is not None:
        score.tempos = [symusic.Tempo(0, tempo)]
    atomic_write(path, score.dumps_midi())
    return score
