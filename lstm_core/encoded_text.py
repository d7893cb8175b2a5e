"""A text corpus as token ids, computed once and memory-mapped: corpora larger than memory train.

The file is never held whole. It is read in chunks of ``CHUNK_BYTES``, each decoded from UTF-8
into code points and handled with numpy: counted with one `np.bincount` (that builds the
vocabulary), or encoded through a lookup table indexed by code point. Each pass counts the bytes
read through a `progress` callback (the apps draw it as a progress bar).

The ids are cached beside the vocabulary (``lyrics.vocab`` → ``lyrics.vocab.ids``): a header of
``HEADER_BYTES`` (JSON: the SHA-256 of the corpus bytes, the vocabulary's fingerprint, the id
dtype and count), then the ids. A later run hashes the corpus (a second, not a re-encoding) and
memory-maps the ids; a cache of another corpus or vocabulary, or a truncated one, is rebuilt
with a message.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from typing import Iterator

import numpy as np

from lstm_core.errors import UsageError
from lstm_core.files import atomic_writer
from lstm_core.kinds import TokenKind
from lstm_core.inputs import not_utf8
from lstm_core.preprocessing import Vocabulary, describe_tokens
from lstm_core.progress import Report, TaskProgress, silent_progress, silent_report

CHUNK_BYTES = 1 << 24
HEADER_BYTES = 4096
CACHE_FORMAT = "lstm-core encoded text"
CODE_POINTS = 0x110000


def code_points(path: str, label: str, flag: str = "--training_file",
                progress: TaskProgress = silent_progress) -> Iterator[tuple[np.ndarray, bytes]]:
    """The corpus chunk by chunk: its code points `[n]` (uint8 for ASCII, else uint32) and its
    raw bytes; a character split between two chunks comes whole with the second. The bytes
    read go to `progress`, as `label`."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()  # a byte-order mark is no character
    size, done = os.path.getsize(path), 0
    progress(0, size, label)
    with open(path, "rb") as f:
        while True:
            raw = f.read(CHUNK_BYTES)
            pending = len(decoder.getstate()[0])  # bytes of a character the last chunk split
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as e:
                offset = done - pending + e.start
                raise not_utf8(path, flag, offset, e.object[e.start:e.start + 1]) from None
            if not raw:
                break
            done += len(raw)
            progress(done, size, label)
            yield (np.frombuffer(raw, np.uint8) if text.isascii() and len(text) == len(raw)
                   else np.frombuffer(text.encode("utf-32-le"), np.uint32)), raw


def build_vocabulary(path: str, allow_unknown: bool = False,
                     progress: TaskProgress = silent_progress) -> tuple[Vocabulary, str]:
    """The vocabulary of the characters of `path` (by descending count), and the corpus's
    SHA-256, in one pass (counted through `progress`)."""
    counts = np.zeros(CODE_POINTS, np.int64)
    digest = hashlib.sha256()
    for points, raw in code_points(path, "counting characters", progress=progress):
        counts += np.bincount(points, minlength=CODE_POINTS)
        digest.update(raw)
    counted = {chr(c): int(counts[c]) for c in np.flatnonzero(counts)}
    return (Vocabulary.from_counts(counted, TokenKind.CHARACTERS, allow_unknown), digest.hexdigest())


def corpus_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def vocabulary_fingerprint(vocabulary: Vocabulary) -> str:
    return hashlib.sha256(json.dumps([vocabulary.tokens, vocabulary.unknown_token])
                          .encode()).hexdigest()


def cache_path(vocabulary_path: str) -> str:
    return vocabulary_path + ".ids"


def encoded_ids(path: str, vocabulary: Vocabulary, vocabulary_path: str, digest: str,
                report: Report = silent_report, progress: TaskProgress = silent_progress
                ) -> np.memmap:
    """The ids of the text file `path` `[characters]` in `vocabulary.id_dtype`, memory-mapped
    from the cache beside `vocabulary_path` (built first when it is missing or stale, said
    through `report` when it was stale, its encoding counted through `progress`); `digest` is
    the corpus's SHA-256 (`corpus_digest`)."""
    header = {"format": CACHE_FORMAT, "corpus_sha256": digest,
              "vocabulary": vocabulary_fingerprint(vocabulary),
              "dtype": vocabulary.id_dtype.name}
    cache = cache_path(vocabulary_path)
    stale = _stale(cache, header)
    if stale:
        if stale != "missing":
            report(f"the encoded corpus {cache} {stale}: encoding {path} again")
        _write_cache(path, vocabulary, cache, header, progress)
    with open(cache, "rb") as f:
        length = json.loads(f.read(HEADER_BYTES).rstrip(b" "))["length"]
    return np.memmap(cache, vocabulary.id_dtype, "r", HEADER_BYTES, (length,))


def _stale(cache: str, header: dict) -> str | None:
    """Why the cache cannot be used (None: it can)."""
    try:
        with open(cache, "rb") as f:
            found = json.loads(f.read(HEADER_BYTES).rstrip(b" "))
        size = os.path.getsize(cache)
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError):
        return "is damaged"
    if not isinstance(found, dict) or found.get("format") != CACHE_FORMAT:
        return "is damaged"
    if found.get("corpus_sha256") != header["corpus_sha256"]:
        return "was built from another version of the corpus"
    if found.get("vocabulary") != header["vocabulary"] or found.get("dtype") != header["dtype"]:
        return "was built with another vocabulary"
    expected = HEADER_BYTES + found.get("length", -1) * np.dtype(header["dtype"]).itemsize
    if size != expected:
        return f"is truncated ({size:,} bytes of {expected:,})"
    return None


def _write_cache(path: str, vocabulary: Vocabulary, cache: str, header: dict,
                 progress: TaskProgress) -> None:
    """Encodes `path` chunk by chunk into `cache` (atomically: a crash leaves no half cache)."""
    table = np.zeros(CODE_POINTS, vocabulary.id_dtype)
    known = np.zeros(CODE_POINTS, bool)
    for token, i in vocabulary.ids.items():
        table[ord(token)], known[ord(token)] = i, True
    if vocabulary.unknown_token is not None:
        table[~known] = vocabulary.ids[vocabulary.unknown_token]
    length = 0
    at_most = HEADER_BYTES + os.path.getsize(path) * vocabulary.id_dtype.itemsize  # 1 byte ≥ 1 id
    with atomic_writer(cache, at_most) as f:
        f.write(b" " * HEADER_BYTES)
        for points, _ in code_points(path, "encoding", progress=progress):
            if vocabulary.unknown_token is None and not known[points].all():
                lacking = sorted({chr(c) for c in np.unique(points[~known[points]])})
                raise UsageError(
                    f"{path} has {len(lacking)} character(s) that the vocabulary lacks: "
                    f"{describe_tokens(lacking)}; use the vocabulary built from this corpus, "
                    "or rebuild the vocabulary with --allow_unknown to map them to an unknown "
                    "token")
            f.write(table[points].tobytes())
            length += len(points)
        f.seek(0)
        f.write(json.dumps({**header, "length": length}).encode().ljust(HEADER_BYTES))
