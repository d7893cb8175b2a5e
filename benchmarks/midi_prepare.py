"""Preparing a MIDI folder: music21's MIDI reader against symusic, and MidiTok's tokenizing.

    python benchmarks/midi_prepare.py [--midi_dir ../shared/data/midi/piano] [--files 100]

In one run, on the same files, one process, side by side (rounds rotate which contender goes
first, so a noisy machine slows them alike), it times:

- ``music21``: reading each file with music21's MIDI file parser and pairing note-on/note-off
  events into notes per track and channel (the approach of a music21-based reader);
- ``symusic``: ``symusic.Score(path)`` and its notes as arrays;
- ``tokenize``: MidiTok REMI (`lstm_core.music.tokenizer.build`) on the symusic Scores,
  measured apart from parsing;
- ``cached``: `lstm_core.music.corpus.load_corpus` of the folder once its cache is warm.

It prints files/s of each and their ratios; the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import symusic  # noqa: E402
from music21 import midi  # noqa: E402

from lstm_core.music import corpus, tokenizer  # noqa: E402

DEFAULT_FOLDER = ROOT.parent / "shared" / "data" / "midi" / "piano"


def music21_notes(path: Path) -> int:
    """Notes of a MIDI file through music21's parser, paired per track and channel."""
    midi_file = midi.MidiFile()
    midi_file.open(str(path))
    try:
        midi_file.read()
    finally:
        midi_file.close()
    notes = 0
    for track in midi_file.tracks:
        tick, sounding = 0, collections.defaultdict(list)
        for event in track.events:
            if isinstance(event, midi.DeltaTime):
                tick += event.time
            elif event.type == midi.ChannelVoiceMessages.NOTE_ON and event.velocity > 0:
                sounding[event.channel, event.pitch].append(tick)
            elif (event.type in (midi.ChannelVoiceMessages.NOTE_ON,
                                 midi.ChannelVoiceMessages.NOTE_OFF)
                  and sounding[event.channel, event.pitch]):
                sounding[event.channel, event.pitch].pop(0)
                notes += 1
    return notes


def symusic_notes(path: Path) -> int:
    score = symusic.Score(str(path))
    return sum(len(track.notes.numpy()["pitch"]) for track in score.tracks)


def timed(function, items) -> tuple[float, list]:
    start = time.perf_counter()
    results = [function(item) for item in items]
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi_dir", default=str(DEFAULT_FOLDER))
    parser.add_argument("--files", type=int, default=100, help="at most this many files")
    parser.add_argument("--rounds", type=int, default=3, help="each contender goes first once "
                        "in three rounds")
    args = parser.parse_args()
    files = [f for f in corpus.source_files(args.midi_dir, "--midi_dir")
             if f.suffix.lower() in (".mid", ".midi")][:args.files]
    scores = [symusic.Score(str(f)) for f in files]
    remi = tokenizer.build()
    contenders = [("music21", music21_notes, files), ("symusic", symusic_notes, files),
                  ("tokenize", lambda s: tokenizer.encode(s, remi), scores)]
    seconds, results = collections.defaultdict(float), {}
    for round_ in range(args.rounds):
        for name, work, items in contenders[round_ % 3:] + contenders[:round_ % 3]:
            took, results[name] = timed(work, items)
            seconds[name] += took
    notes, tokens = sum(results["symusic"]), results["tokenize"]
    with tempfile.TemporaryDirectory() as cache:
        corpus.load_corpus(args.midi_dir, cache_dir=cache)  # warms the cache
        for _ in range(args.rounds):
            took, _ = timed(lambda d: corpus.load_corpus(d, cache_dir=cache), [args.midi_dir])
            seconds["cached"] += took
    rate = {name: args.rounds * len(files) / s for name, s in seconds.items()}
    prepare_symusic = 1 / (1 / rate["symusic"] + 1 / rate["tokenize"])
    figures = {
        "files": len(files), "notes": notes, "tokens": sum(map(len, tokens)),
        "files_per_second": {**{k: round(v, 1) for k, v in rate.items()},
                             "symusic_and_tokenize": round(prepare_symusic, 1)},
        "parse_speedup_symusic_over_music21": round(rate["symusic"] / rate["music21"], 1),
        "prepare_speedup_symusic_and_tokenize_over_music21_parse":
            round(prepare_symusic / rate["music21"], 2),
        "tokenize_share_of_symusic_prepare": round(rate["symusic"] / (rate["symusic"]
                                                                      + rate["tokenize"]), 3),
        "cached_folder_seconds": round(seconds["cached"] / args.rounds, 3),
    }
    for name in ("music21", "symusic", "tokenize"):
        print(f"{name:9s} {rate[name]:10.1f} files/s")
    speedup = figures["prepare_speedup_symusic_and_tokenize_over_music21_parse"]
    print(f"symusic parse is {figures['parse_speedup_symusic_over_music21']}x music21's; "
          f"symusic + MidiTok prepare {speedup}x music21's parse alone; a cached folder of "
          f"{len(files)} files loads in {figures['cached_folder_seconds']} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
