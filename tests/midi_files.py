"""Synthetic MIDI files for the music tests, written with symusic: small and fast."""

from pathlib import Path

import symusic

TPQ = 480  # ticks per quarter note of the files written here


def track(pitches, program=0, drums=False, velocities=None, name="", step=1.0):
    """A track of notes one after another, each `step` quarters long (a pitch list of lists:
    chords)."""
    result = symusic.Track(name, program=program, is_drum=drums)
    for i, pitch in enumerate(pitches):
        for p in pitch if isinstance(pitch, (list, tuple)) else [pitch]:
            velocity = velocities[i % len(velocities)] if velocities else 90
            result.notes.append(symusic.Note(round(i * step * TPQ), round(step * TPQ), p,
                                             velocity))
    return result


def score(*tracks, tempos=(120.0,), pedals=(), time_signature=(4, 4)):
    """A Score of `tracks`; tempo `tempos[i]` from bar i; `pedals` as (start, end) quarters on
    the first track."""
    result = symusic.Score(TPQ)
    result.time_signatures.append(symusic.TimeSignature(0, *time_signature))
    for i, qpm in enumerate(tempos):
        result.tempos.append(symusic.Tempo(i * 4 * TPQ, qpm))
    for t in tracks:
        result.tracks.append(t)
    for start, end in pedals:  # as the file holds them: control 64 down, then up
        result.tracks[0].controls.append(symusic.ControlChange(start * TPQ, 64, 127))
        result.tracks[0].controls.append(symusic.ControlChange(end * TPQ, 64, 0))
    return result


def write(path: Path, piece: symusic.Score) -> Path:
    """Writes `piece` as a type 1 MIDI file (one track per instrument)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(piece.dumps_midi())
    return path


def write_type0(path: Path, notes, qpm: float = 120.0) -> Path:
    """A type 0 MIDI file (one track, instruments by channel) of `notes`: ``(channel, program,
    pitch, onset quarters, duration quarters, velocity)``; channel 9 is the drum kit."""
    events = [(0, bytes([0xFF, 0x51, 3]) + round(60e6 / qpm).to_bytes(3, "big"))]
    events += [(0, bytes([0xC0 | channel, program]))
               for channel, program in sorted({(n[0], n[1]) for n in notes})]
    for channel, _, pitch, onset, duration, velocity in notes:
        events.append((round(onset * TPQ), bytes([0x90 | channel, pitch, velocity])))
        events.append((round((onset + duration) * TPQ), bytes([0x80 | channel, pitch, 0])))
    body, now = b"", 0
    for time, message in sorted(events, key=lambda e: (e[0], e[1][0] & 0xF0 == 0x90)):
        body += _variable_length(time - now) + message
        now = time
    body += b"\x00\xff\x2f\x00"
    path.write_bytes(b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big")
                     + (1).to_bytes(2, "big") + TPQ.to_bytes(2, "big")
                     + b"MTrk" + len(body).to_bytes(4, "big") + body)
    return path


def _variable_length(value: int) -> bytes:
    groups = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        groups.append(0x80 | (value & 0x7F))
    return bytes(reversed(groups))


def band() -> symusic.Score:
    """Piano chords, a bass line and drums, with changing velocities, two tempos and pedal."""
    return score(track([[60, 64, 67], [62, 65, 69], [64, 67, 71], [60, 64, 67]] * 2,
                       velocities=[30, 60, 90, 120]),
                 track([36, 38, 40, 36] * 2, program=33, velocities=[80, 100]),
                 track([36, 42, 38, 42] * 4, drums=True, step=0.5, velocities=[110, 70]),
                 tempos=(100.0, 140.0), pedals=[(0, 2), (4, 6)])


def piano() -> symusic.Score:
    return score(track([60, 64, 67, [60, 64, 67]], velocities=[40, 70, 100, 120]))
