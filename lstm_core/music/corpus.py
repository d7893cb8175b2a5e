"""A music corpus: the files `--training_file` names, parsed in parallel and cached, as tokens.

Sources: a MIDI file; a folder, searched recursively for MIDI files; a glob (``songs/**/*.mid``);
``music21:NAME``, the works of a composer in music21's bundled corpus (``music21:bach``, the
default: 400-odd four-part Bach chorales, clean rhythm, no download); or a token file written by
`lstm_core.music.prepare`.

A token file is UTF-8 text: the first line is `TOKEN_FILE_HEADER` and the vocabulary metadata as
JSON; then each piece is a comment line naming its file and one line of tokens separated by
spaces::

    #lstm-core music tokens v1 {"encoding": "events", "ticks_per_quarter": 12, "tempo": 120.0, ...}
    # midi/piano/song.mid
    n48_d24 n60_d12 n64_d12 wait_12 n67_d6 wait_6 ...

In memory the corpus is one token list with `BOUNDARY` before, between and after the pieces, so
the model learns where a piece ends and no training window silently joins two songs.

Each file's result (its tokens, tempo and meter, or why it is skipped) is cached as JSON in
``cache_dir``, named by the SHA-256 of the file's bytes and the encoding parameters: a second run
parses nothing, and a file that changes is parsed again.
"""

from __future__ import annotations

import collections
import concurrent.futures
import glob
import hashlib
import json
import multiprocessing
import os
import signal
import statistics
import sys
from itertools import repeat
from pathlib import Path

from music21 import corpus as music21_corpus

from lstm_core.errors import UsageError
from lstm_core.music import encodings, scores
from lstm_core.music.events import BOUNDARY, TICKS_PER_QUARTER
from lstm_core.files import atomic_write
from lstm_core.progress import ProgressBar

MUSIC21_PREFIX = "music21:"
DEFAULT_SOURCE = "music21:bach"
TOKEN_FILE_HEADER = "#lstm-core music tokens v1 "
TOKEN_SUFFIX = ".tokens"
SCORE_SUFFIXES = scores.MIDI_SUFFIXES + (".mxl", ".musicxml", ".xml", ".krn", ".abc")
CACHE_VERSION = 1  # bump when parsing or an encoding changes, so old cache entries are ignored

Pieces = list[tuple[str, list[str]]]  # (file it came from, its tokens), in corpus order


def is_music_source(training_file: str) -> bool:
    """True for a MIDI file, a folder holding one, a glob, a ``music21:`` name, a token file."""
    path = Path(training_file)
    if training_file.startswith(MUSIC21_PREFIX):
        return True
    if path.is_dir():
        return any(_midi_files(path))
    if path.is_file():
        return (path.suffix.lower() in scores.MIDI_SUFFIXES + (TOKEN_SUFFIX,)
                or _head(path, len(TOKEN_FILE_HEADER)).startswith(
                    (b"MThd", TOKEN_FILE_HEADER.encode())))
    return any(c in training_file for c in "*?[")


def load_corpus(training_file: str, encoding: str = encodings.DEFAULT, instruments: str = "merge",
                cache_dir: str = "data/cache") -> tuple[list[str], dict]:
    """The corpus as one token list (pieces between `BOUNDARY` tokens) and vocabulary metadata.

    A token file keeps the encoding it was written with. Prints a warning line for each file
    skipped and a count of files used and skipped; raises `UsageError` when none is usable.
    """
    pieces, metadata = load_pieces(training_file, encoding, instruments, cache_dir)
    return join_pieces(pieces), metadata


def join_pieces(pieces: Pieces) -> list[str]:
    """The tokens of `pieces`, sources left out: ``<piece> A... <piece> B... <piece>``."""
    joined = [BOUNDARY]
    for _, tokens in pieces:
        joined += tokens + [BOUNDARY]
    return joined


def load_pieces(training_file: str, encoding: str = encodings.DEFAULT, instruments: str = "merge",
                cache_dir: str = "data/cache", flag: str = "--training_file"
                ) -> tuple[Pieces, dict]:
    """Each usable piece with the file it came from, and the vocabulary metadata; `flag` names
    the source in messages."""
    if Path(training_file).is_file() and _head(Path(training_file), 1) == b"#":
        return read_token_file(training_file, flag)
    encodings.get(encoding)
    files = source_files(training_file, flag)
    results = parse_files(files, encoding, instruments, cache_dir)
    pieces, tempos, signatures = [], [], []
    for path, result in zip(files, results):
        if "skip" in result:
            print(f"warning: skipping {path}: {result['skip']}", file=sys.stderr)
            continue
        for warning in result["warnings"]:
            print(f"warning: {path}: {warning}", file=sys.stderr)
        pieces.append((str(path), result["tokens"]))
        tempos.append(result["tempo"])
        signatures.append(result["time_signature"])
    print(f"{training_file}: {len(pieces)} file(s) used, {len(files) - len(pieces)} skipped, "
          f"{sum(len(t) for _, t in pieces):,} tokens")
    if not pieces:
        raise UsageError(f"{flag} {training_file}: none of its {len(files)} file(s) has "
                         "notes to learn from (see the warnings above); give MIDI files with "
                         "pitched notes")
    metadata = {"encoding": encoding, "ticks_per_quarter": TICKS_PER_QUARTER,
                "tempo": statistics.median(tempos),
                "time_signature": collections.Counter(signatures).most_common(1)[0][0],
                "instruments": instruments, "boundary_token": BOUNDARY,
                "pieces": len(pieces), "source": training_file}
    return pieces, metadata


def source_files(training_file: str, flag: str = "--training_file") -> list[Path]:
    """The score files `training_file` names, sorted; a `UsageError` when there are none."""
    path = Path(training_file)
    if training_file.startswith(MUSIC21_PREFIX):
        name = training_file[len(MUSIC21_PREFIX):]
        files = [Path(p) for p in music21_corpus.getComposer(name)
                 if Path(p).suffix.lower() in SCORE_SUFFIXES]
        what = "names no composer of music21's bundled corpus; try music21:bach"
    elif path.is_dir():
        files = list(_midi_files(path))
        what = "is a folder with no MIDI files (.mid, .midi); give a folder that holds some"
    elif path.is_file():
        files = [path]
        what = ""
    else:
        files = [p for p in map(Path, glob.glob(training_file, recursive=True)) if p.is_file()]
        what = "does not exist and, read as a glob, matches no file; check the path"
    if not files:
        raise UsageError(f"{flag} {training_file} {what}")
    return sorted(files)


def parse_files(files: list[Path], encoding: str, instruments: str, cache_dir: str) -> list[dict]:
    """`parse_file` results for `files`, from the cache or from worker processes.

    Each result is cached as soon as it arrives, so a run interrupted (Ctrl-C) or failing
    halfway keeps what it parsed; the files not yet started are cancelled, not waited for.
    """
    keys = [_cache_key(f, encoding, instruments) for f in files]
    results = [_read_cache(cache_dir, key) for key in keys]
    todo = [i for i, result in enumerate(results) if result is None]
    workers = min(len(todo), os.cpu_count() or 1)
    progress = ProgressBar(len(files), initial=len(files) - len(todo))
    arguments = ([str(files[i]) for i in todo], repeat(encoding), repeat(instruments))
    # "spawn": the parent may run TensorFlow threads, which a fork would copy mid-flight.
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_leave_interrupts_to_the_parent) if workers > 1 else None
    try:
        for i, result in zip(todo, pool.map(parse_file, *arguments) if pool
                             else map(parse_file, *arguments)):
            results[i] = result
            atomic_write(os.path.join(cache_dir, keys[i] + ".json"), json.dumps(result).encode())
            progress.update(progress.done + 1, "files parsed")
    finally:
        progress.close()
        if pool:
            pool.shutdown(cancel_futures=True)
    return results


def _leave_interrupts_to_the_parent() -> None:
    """In a worker: Ctrl-C (sent to the whole process group) is the parent's to handle; the
    worker finishes its file, and the parent cancels the rest."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def parse_file(path: str, encoding: str, instruments: str) -> dict:
    """One file's ``{"tokens", "tempo", "time_signature", "warnings"}``, or ``{"skip": why}``.

    Runs in a worker process and never raises: a bad file is a reason to skip it.
    """
    data = Path(path).read_bytes()
    if not data:
        return {"skip": "it is empty (0 bytes)"}
    if Path(path).suffix.lower() in scores.MIDI_SUFFIXES and not data.startswith(b"MThd"):
        return {"skip": "it is not a MIDI file (it does not start with MThd)"}
    if data.startswith(b"MThd") and _chunks_end(data) > len(data):
        return {"skip": f"it is truncated (its chunks need {_chunks_end(data)} bytes, it has "
                        f"{len(data)})"}
    try:
        piece = scores.read_file(path, instruments)
    except scores.NoNotes as e:
        return {"skip": str(e)}
    except Exception as e:  # a broken file can fail a parser in any way; the corpus goes on
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        return {"skip": f"it cannot be read, broken or truncated ({reason[:200]})"}
    return {"tokens": encodings.get(encoding).encode(piece.notes), "tempo": piece.tempo,
            "time_signature": piece.time_signature, "warnings": piece.warnings}


def write_token_file(path: str, pieces: Pieces, metadata: dict) -> None:
    """Writes the token file format of the module docstring, atomically."""
    lines = [TOKEN_FILE_HEADER + json.dumps(metadata)]
    for source, tokens in pieces:
        lines += [f"# {source}", " ".join(tokens)]
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))


def read_token_file(path: str, flag: str = "--training_file") -> tuple[Pieces, dict]:
    """The pieces and metadata of a token file."""
    try:
        with open(path, encoding="utf-8") as f:
            header, *lines = f.read().splitlines()
    except UnicodeDecodeError:
        raise UsageError(f"{flag} {path} starts with '#' but is not UTF-8 text; give a token "
                         "file of lstm_core.music.prepare, or MIDI files") from None
    if not header.startswith(TOKEN_FILE_HEADER):
        raise UsageError(f"{flag} {path} starts with '#' but is not a token file of "
                         "lstm_core.music.prepare; write it again with that command")
    try:
        metadata = json.loads(header[len(TOKEN_FILE_HEADER):])
    except ValueError as e:
        raise UsageError(f"{flag} {path}: its header is not valid JSON ({e}); write it "
                         "again with python -m lstm_core.music.prepare") from None
    pieces, source = [], path
    for line in lines:
        if line.startswith("# "):
            source = line[2:]
        elif line.strip():
            pieces.append((source, line.split()))
    if not pieces:
        raise UsageError(f"{flag} {path} holds no pieces; prepare it again from MIDI "
                         "files with notes")
    print(f"{path}: {len(pieces)} pieces, {sum(len(t) for _, t in pieces):,} tokens")
    return pieces, metadata


def _midi_files(folder: Path):
    return (p for p in folder.rglob("*") if p.suffix.lower() in scores.MIDI_SUFFIXES
            and p.is_file())


def _head(path: Path, size: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def _chunks_end(data: bytes) -> int:
    """Where the last chunk of a MIDI file (``MThd``, ``MTrk``...: id, length, body) ends."""
    end = 0
    while end + 8 <= len(data):
        end += 8 + int.from_bytes(data[end + 4:end + 8], "big")
    return end


def _cache_key(path: Path, encoding: str, instruments: str) -> str:
    parameters = json.dumps([CACHE_VERSION, encoding, instruments, TICKS_PER_QUARTER])
    return hashlib.sha256(parameters.encode() + b"\0" + path.read_bytes()).hexdigest()


def _read_cache(cache_dir: str, key: str) -> dict | None:
    try:
        with open(os.path.join(cache_dir, key + ".json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):  # absent or damaged: parse the file again
        return None
