"""A music corpus: the files `--training_file` names, read as Scores and tokenized, cached.

Sources (`source_files`, the one resolver every encoding uses, jazz included): a score file; a
folder, searched recursively for score files (MIDI, MusicXML, Humdrum, ABC); a glob
(``songs/**/*.mid``); ``music21:NAME``, a composer of music21's bundled corpus (``music21:bach``,
the default: 400-odd four-part Bach chorales, no download) or one of its works or folders
(``music21:leadSheet``); or a token file written by `lstm_core.music.prepare`.

A token file is UTF-8 text: the first line is `TOKEN_FILE_HEADER` and the vocabulary metadata as
JSON (the tokenizer's whole configuration, see `lstm_core.music.tokenizer`); then each piece is a
comment line naming its file and one line of tokens separated by spaces::

    #lstm-core music tokens v2 {"encoding": "remi", "tokenizer": {...}, ...}
    # midi/piano/song.mid
    Bar_None TimeSig_4/4 Position_0 Tempo_121.29 Program_0 Pitch_33 Velocity_111 ...

In memory the corpus is one token list with `BOUNDARY` before, between and after the pieces, so
the model learns where a piece ends and no training window silently joins two songs.

Each file's tokens (or why it is skipped) are cached as JSON in ``cache_dir``, named by the
SHA-256 of the file's bytes, the tokenizer's configuration and the instruments kept: a second
run reads no score, and a file that changes is read again. A learned BPE is cached the same way,
named by the files it was learned on.
"""

from __future__ import annotations

import concurrent.futures
import glob
import hashlib
import json
import multiprocessing
import os
import signal
from itertools import repeat
from pathlib import Path
from typing import Collection

from lstm_core.errors import UsageError
from lstm_core.files import atomic_write
from lstm_core.music import bar_rules, playable, scores, tokenizer
from lstm_core.music.constants import (BOUNDARY, MIDI_SUFFIXES, MUSIC21_PREFIX,
                                       SCORE_SUFFIXES, TOKEN_SUFFIX)
from lstm_core.progress import Report, TaskProgress, silent_progress, silent_report

TOKEN_FILE_HEADER = "#lstm-core music tokens v2 "
CACHE_VERSION = 3  # bump when reading or tokenizing changes, so old cache entries are ignored
# Worker processes pay off past this much work (a MIDI file is 1, a score music21 converts is
# `NOTATION_COST`): each spends seconds importing MidiTok, tokenizing a MIDI file takes 20 to
# 200 ms (benchmarks/midi_prepare.py).
PARALLEL_FROM, NOTATION_COST = 100, 10

Pieces = list[tuple[str, list[str]]]  # (file it came from, its tokens), in corpus order


def is_music_source(training_file: str) -> bool:
    """True for a score file (by suffix, or MIDI by content), a folder holding one, a glob, a
    ``music21:`` name, a token file."""
    path = Path(training_file)
    if training_file.startswith(MUSIC21_PREFIX):
        return True
    if path.is_dir():
        return any(_score_files(path))
    if path.is_file():
        return (path.suffix.lower() in SCORE_SUFFIXES + (TOKEN_SUFFIX,)
                or _head(path, len(TOKEN_FILE_HEADER)).startswith(
                    (b"MThd", TOKEN_FILE_HEADER.encode()))
                or scores.is_musicxml(_head(path, 1024)))
    return any(c in training_file for c in "*?[")


def load_corpus(training_file: str, encoding: str = tokenizer.DEFAULT,
                programs: Collection[int] | None = None, cache_dir: str = "data/cache",
                bpe_vocabulary: int = 0, report: Report = silent_report,
                progress: TaskProgress = silent_progress) -> tuple[list[str], dict]:
    """The corpus as one token list (pieces between `BOUNDARY` tokens) and vocabulary metadata.

    `programs` are the instruments kept (None: all; see `constants.programs_named`). A token
    file keeps the encoding it was written with. Reports a warning line for each file skipped
    and a count of files used and skipped (`load_pieces`); raises `UsageError` when none is
    usable.
    """
    pieces, metadata = load_pieces(training_file, encoding, programs, cache_dir,
                                   bpe_vocabulary=bpe_vocabulary, report=report,
                                   progress=progress)
    return join_pieces(pieces), metadata


def join_pieces(pieces: Pieces) -> list[str]:
    """The tokens of `pieces`, sources left out: ``<piece> A... <piece> B... <piece>``."""
    joined = [BOUNDARY]
    for _, tokens in pieces:
        joined += tokens + [BOUNDARY]
    return joined


def load_pieces(training_file: str, encoding: str = tokenizer.DEFAULT,
                programs: Collection[int] | None = None, cache_dir: str = "data/cache",
                flag: str = "--training_file", bpe_vocabulary: int = 0,
                report: Report = silent_report, progress: TaskProgress = silent_progress
                ) -> tuple[Pieces, dict]:
    """Each usable piece with the file it came from, and the vocabulary metadata; `flag` names
    the source in messages. `bpe_vocabulary` > 0 learns MidiTok's BPE on the corpus up to that
    many tokens. A warning for each file skipped and a count of the files and tokens go to
    `report`; the files parsed are counted through `progress`."""
    if Path(training_file).is_file() and _head(Path(training_file), 1) == b"#":
        return read_token_file(training_file, flag, report)
    music_tokenizer = tokenizer.build(encoding)
    files = source_files(training_file, flag)
    selection = None if programs is None else sorted(programs)
    results = parse_files(files, tokenizer.metadata_of(music_tokenizer), selection, cache_dir,
                          progress)
    if bpe_vocabulary:
        if encoding == tokenizer.NOTES:
            raise UsageError("--bpe_vocabulary needs a MidiTok encoding (remi, tsd, midilike), "
                             "not notes; leave it out or choose another --encoding")
        music_tokenizer = _learned_bpe(music_tokenizer, files, results, selection, cache_dir,
                                       bpe_vocabulary, report)
        results = parse_files(files, tokenizer.metadata_of(music_tokenizer), selection,
                              cache_dir, progress)
    pieces, parts = [], []
    for path, result in zip(files, results):
        if "skip" in result:
            report(f"warning: skipping {path}: {result['skip']}")
        else:
            pieces.append((str(path), result["tokens"]))
            parts.append(playable.from_json(result["parts"]))
    report(f"{training_file}: {len(pieces)} file(s) used, {len(files) - len(pieces)} skipped, "
           f"{sum(len(t) for _, t in pieces):,} tokens")
    if not pieces:
        what = "the instruments --instruments names" if programs is not None else "notes"
        raise UsageError(f"{flag} {training_file}: none of its {len(files)} file(s) has "
                         f"{what} to learn from (see the warnings above); give score files "
                         "with notes")
    metadata = {**tokenizer.metadata_of(music_tokenizer),
                "instruments": "all" if selection is None else selection,
                "boundary_token": BOUNDARY, "pieces": len(pieces), "source": training_file,
                playable.PARTS: playable.merge(parts),
                bar_rules.EMPTY_BARS: max(bar_rules.longest_empty_run(t) for _, t in pieces)}
    return pieces, metadata


def source_files(training_file: str, flag: str = "--training_file") -> list[Path]:
    """The score files `training_file` names, sorted; a `UsageError` when there are none."""
    path = Path(training_file)
    if training_file.startswith(MUSIC21_PREFIX):
        files, what = _music21_files(training_file[len(MUSIC21_PREFIX):])
    elif path.is_dir():
        files = list(_score_files(path))
        what = (f"is a folder with no score files ({', '.join(SCORE_SUFFIXES)}); give a folder "
                "that holds some")
    elif path.is_file():
        files = [path]
        what = ""
    else:
        files = [p for p in map(Path, glob.glob(training_file, recursive=True)) if p.is_file()]
        what = "does not exist and, read as a glob, matches no file; check the path"
    if not files:
        raise UsageError(f"{flag} {training_file} {what}")
    return sorted(files)


def _music21_files(name: str) -> tuple[list[Path], str]:
    """The files of a composer, folder or work of music21's bundled corpus."""
    import music21

    root = Path(music21.__file__).parent / "corpus"
    if (root / name).is_dir():
        return list(_score_files(root / name)), "is an empty folder of music21's corpus"
    files = [Path(p) for p in music21.corpus.getComposer(name)]
    if not files:
        try:
            work = music21.corpus.getWork(name)
        except music21.exceptions21.CorpusException:
            work = None
        files = [Path(str(p)) for p in (work if isinstance(work, list) else [work] if work
                                        else [])]
    files = [p for p in files if p.suffix.lower() in SCORE_SUFFIXES]
    return files, ("names no composer, folder or work of music21's bundled corpus; try "
                   "music21:bach or music21:leadSheet")


def parse_files(files: list[Path], metadata: dict, programs: list[int] | None,
                cache_dir: str, progress: TaskProgress = silent_progress) -> list[dict]:
    """`parse_file` results for `files`, from the cache or from worker processes.

    Each result is cached as soon as it arrives, so a run interrupted (Ctrl-C) or failing
    halfway keeps what it parsed; the files not yet started are cancelled, not waited for.
    `progress` hears of the files done and skipped and the tokens so far.
    """
    tokenizer.from_metadata(metadata)  # a tokenizer that cannot be rebuilt stops here
    configuration = json.dumps([CACHE_VERSION, metadata, programs], sort_keys=True)
    keys = [_cache_key(f, configuration) for f in files]
    results = [_read_cache(cache_dir, key) for key in keys]
    todo = [i for i, result in enumerate(results) if result is None]
    if not todo:
        return results
    work = sum(1 if files[i].suffix.lower() in MIDI_SUFFIXES else NOTATION_COST for i in todo)
    workers = min(len(todo), os.cpu_count() or 1) if work >= PARALLEL_FROM else 1
    arguments = ([str(files[i]) for i in todo], repeat(metadata), repeat(programs),
                 repeat(cache_dir))
    # "spawn": the parent may run TensorFlow threads, which a fork would copy mid-flight.
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_leave_interrupts_to_the_parent) if workers > 1 else None
    progress(len(files) - len(todo), len(files), "files read")
    skipped = tokens = 0
    try:
        for n, (i, result) in enumerate(zip(todo, pool.map(parse_file, *arguments) if pool
                                            else map(parse_file, *arguments))):
            results[i] = result
            skipped += "skip" in result
            tokens += len(result.get("tokens", ()))
            atomic_write(os.path.join(cache_dir, keys[i] + ".json"), json.dumps(result).encode())
            progress(len(files) - len(todo) + n + 1, len(files),
                     f"files read, {skipped} skipped, {tokens:,} tokens so far")
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    return results


def _leave_interrupts_to_the_parent() -> None:
    """In a worker: Ctrl-C (sent to the whole process group) is the parent's to handle; the
    worker finishes its file, and the parent cancels the rest."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def parse_file(path: str, metadata: dict, programs: list[int] | None,
               cache_dir: str | None = None) -> dict:
    """One file's ``{"tokens", "parts"}`` (in the tokenizer `metadata` records; its
    instruments' `playable.measure`), or ``{"skip": why}``.

    Runs in a worker process and never raises: a bad file is a reason to skip it.
    """
    try:
        score = scores.select_instruments(scores.read_score(path, cache_dir), programs)
        return {"tokens": tokenizer.encode(score, tokenizer.from_metadata(metadata)),
                "parts": playable.to_json(playable.measure(score))}
    except scores.Unusable as e:
        return {"skip": str(e)}
    except Exception as e:  # a broken file can fail a tokenizer in any way; the corpus goes on
        return {"skip": f"it cannot be tokenized ({scores.first_line(e)})"}


def _learned_bpe(base, files: list[Path], results: list[dict], programs: list[int] | None,
                 cache_dir: str, size: int, report: Report):
    """The tokenizer with MidiTok's BPE learned on the usable `files`, cached by their keys."""
    configuration = json.dumps([CACHE_VERSION, tokenizer.metadata_of(base), programs, size])
    usable = [f for f, r in zip(files, results) if "skip" not in r]
    key = hashlib.sha256("".join([configuration] + [_cache_key(f, configuration)
                                                    for f in usable]).encode()).hexdigest()
    cached = _read_cache(cache_dir, key)
    if cached is not None:
        return tokenizer.from_metadata(cached)
    report(f"learning a BPE of {size} tokens on {len(usable)} file(s)")
    tokenizer.learn_bpe(base, (scores.select_instruments(scores.read_score(f, cache_dir),
                                                         programs) for f in usable), size)
    atomic_write(os.path.join(cache_dir, key + ".json"),
                 json.dumps(tokenizer.metadata_of(base)).encode())
    return base


def write_token_file(path: str, pieces: Pieces, metadata: dict) -> None:
    """Writes the token file format of the module docstring, atomically."""
    lines = [TOKEN_FILE_HEADER + json.dumps(metadata)]
    for source, tokens in pieces:
        lines += [f"# {source}", " ".join(tokens)]
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))


def read_token_file(path: str, flag: str = "--training_file", report: Report = silent_report
                    ) -> tuple[Pieces, dict]:
    """The pieces and metadata of a token file (their count said through `report`)."""
    try:
        with open(path, encoding="utf-8") as f:
            header, *lines = f.read().splitlines()
    except UnicodeDecodeError:
        raise UsageError(f"{flag} {path} starts with '#' but is not UTF-8 text; give a token "
                         "file of lstm_core.music.prepare, or MIDI files") from None
    if not header.startswith(TOKEN_FILE_HEADER):
        raise UsageError(f"{flag} {path} starts with '#' but is not a token file of this "
                         "version of lstm_core.music.prepare; write it again with that command")
    try:
        metadata = json.loads(header[len(TOKEN_FILE_HEADER):])
    except ValueError as e:
        raise UsageError(f"{flag} {path}: its header is not valid JSON ({e}); write it "
                         "again with python -m lstm_core.music.prepare") from None
    tokenizer.from_metadata(metadata, f"{flag} {path}")
    pieces, source = [], path
    for line in lines:
        if line.startswith("# "):
            source = line[2:]
        elif line.strip():
            pieces.append((source, line.split()))
    if not pieces:
        raise UsageError(f"{flag} {path} holds no pieces; prepare it again from MIDI "
                         "files with notes")
    report(f"{path}: {len(pieces)} pieces, {sum(len(t) for _, t in pieces):,} tokens")
    return pieces, metadata


def _score_files(folder: Path):
    return (p for p in folder.rglob("*") if p.suffix.lower() in SCORE_SUFFIXES and p.is_file())


def _head(path: Path, size: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def _cache_key(path: Path, configuration: str) -> str:
    return hashlib.sha256(configuration.encode() + b"\0" + path.read_bytes()).hexdigest()


def _read_cache(cache_dir: str, key: str) -> dict | None:
    try:
        with open(os.path.join(cache_dir, key + ".json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):  # absent or damaged: parse the file again
        return None
