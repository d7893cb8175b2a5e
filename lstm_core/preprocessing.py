"""Preprocessing: the vocabulary of a corpus and its vocabulary file.

A vocabulary maps each token to an integer id. Tokens are either single characters (text) or
music tokens (strings such as ``Pitch_60``; see `lstm_core.music.tokenizer`). Ids are ordered by
descending count, so id 0 is the most frequent token.

The vocabulary file is JSON, one token per line, readable by eye::

    {"format": "lstm-core vocabulary", "version": 1,
     "kind": "characters",
     "unknown_token": null,
     "metadata": {},
     "tokens": [
      [" ", 18104],
      ["e", 9631],
      ["\\n", 2250],
      ...
     ]}

``kind`` is ``characters`` for text, or the name of a music encoding. ``unknown_token``, when
set, is a token that stands for anything the vocabulary lacks. ``metadata`` carries what the
decoder needs besides the tokens (for music: the tokenizer's whole configuration). Each entry of
``tokens`` is ``[token, count in the corpus it was built from]``; the id is the entry's position.

The legacy format of the TensorFlow 1 lyrics tutorial (``CHAR->0.,0.,1.,...``, one one-hot vector
per character, the newline's entry spanning two lines) is read too, never written.

Run ``python -m lstm_core.preprocessing --input_file lyrics.txt`` to write ``lyrics.vocab``.
"""

from __future__ import annotations

import codecs
import collections
import json
import os
from typing import Iterable, Mapping, Sequence

import numpy as np

from lstm_core.errors import UsageError
from lstm_core.files import atomic_write
from lstm_core.inputs import is_stream, local_copy, not_utf8
from lstm_core.kinds import Family, TokenKind

FORMAT = "lstm-core vocabulary"
VERSION = 1
# What an unknown character or music event becomes when the user allows unknown tokens.
UNKNOWN_CHARACTER = "\ufffd"
UNKNOWN_EVENT = "<unknown>"
# What to do about a vocabulary file that cannot be used.
REBUILD = ("build a new one from the corpus: python -m lstm_core.preprocessing --input_file "
           "CORPUS --vocabulary_file NEW.vocab (or leave --vocabulary_file out and train.py builds "
           "one)")


class Vocabulary:
    """Tokens, their ids and counts, the token kind, and decoder metadata."""

    def __init__(self, tokens: Sequence[str], counts: Sequence[int] | None = None,
                 kind: str = TokenKind.CHARACTERS, unknown_token: str | None = None,
                 metadata: dict | None = None):
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary tokens must be distinct")
        if unknown_token is not None and unknown_token not in tokens:
            raise ValueError("the unknown token must be one of the tokens")
        self.tokens = list(tokens)
        self.counts = list(counts) if counts is not None else [0] * len(self.tokens)
        self.kind = TokenKind(kind)  # a ValueError for a kind no model reads
        self.unknown_token = unknown_token
        self.metadata = dict(metadata or {})
        self.ids = {token: i for i, token in enumerate(self.tokens)}

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, sequence: Iterable[str], kind: str = TokenKind.CHARACTERS, allow_unknown: bool = False,
              metadata: dict | None = None) -> "Vocabulary":
        """Counts the tokens of `sequence` (a string for characters, a list of events for music)."""
        return cls.from_counts(collections.Counter(sequence), kind, allow_unknown, metadata)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], kind: str = TokenKind.CHARACTERS,
                    allow_unknown: bool = False, metadata: dict | None = None) -> "Vocabulary":
        """The vocabulary of tokens counted `counts` times, the most frequent first."""
        counts = dict(counts)
        unknown = None
        if allow_unknown:
            unknown = UNKNOWN_CHARACTER if TokenKind(kind).is_text else UNKNOWN_EVENT
            counts.setdefault(unknown, 0)
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls([t for t, _ in ordered], [c for _, c in ordered], kind, unknown, metadata)

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocabulary) and self.tokens == other.tokens
                and self.kind == other.kind and self.unknown_token == other.unknown_token)

    @property
    def is_text(self) -> bool:
        return self.kind.is_text

    @property
    def family(self) -> Family:
        """What a model of this vocabulary writes (`lstm_core.kinds.Family`)."""
        return self.kind.family

    @property
    def id_dtype(self) -> np.dtype:
        """The smallest unsigned integer type that holds every id: corpora stay compact."""
        return np.dtype(np.uint8 if len(self) <= 256 else np.uint16 if len(self) <= 65536
                        else np.uint32)

    # ---- encoding -------------------------------------------------------------------------
    def missing(self, sequence: Iterable[str]) -> list[str]:
        """The distinct tokens of `sequence` that this vocabulary lacks, most frequent first."""
        counts = collections.Counter(t for t in sequence if t not in self.ids)
        return [t for t, _ in counts.most_common()]

    def encode(self, sequence: Iterable[str], source: str = "the input") -> np.ndarray:
        """Token ids `[length]` in `id_dtype`.

        Tokens the vocabulary lacks map to the unknown token when it has one; otherwise they are
        a `UsageError` naming them and `source`.
        """
        sequence = sequence if isinstance(sequence, (str, list, tuple)) else list(sequence)
        lacking = self.missing(sequence)
        if lacking and self.unknown_token is None:
            raise UsageError(
                f"{source} has {len(lacking)} token(s) that the vocabulary lacks: "
                f"{describe_tokens(lacking)}; use the vocabulary built from this corpus, or "
                "rebuild the vocabulary with --allow_unknown to map them to an unknown token")
        unknown = self.ids.get(self.unknown_token, 0)  # only used when there is one
        # Straight into the compact dtype: an int64 array of a 100 MB corpus would be 800 MB.
        return np.fromiter((self.ids.get(t, unknown) for t in sequence), dtype=self.id_dtype,
                           count=len(sequence))

    def decode(self, ids: Iterable[int]) -> str | list[str]:
        """The text (characters) or list of events for `ids`."""
        tokens = [self.tokens[int(i)] for i in ids]
        return "".join(tokens) if self.is_text else tokens

    # ---- the file -------------------------------------------------------------------------
    def save(self, path: str) -> None:
        """Writes the vocabulary file atomically (a crash never leaves half a file)."""
        header = {"format": FORMAT, "version": VERSION, "kind": self.kind,
                  "unknown_token": self.unknown_token, "metadata": self.metadata}
        lines = [json.dumps(header, ensure_ascii=False, indent=1)[:-2] + ',\n "tokens": [']
        entries = [" " + json.dumps([t, c], ensure_ascii=False)
                   for t, c in zip(self.tokens, self.counts)]
        text = "\n".join(lines) + "\n" + ",\n".join(entries) + "\n ]}\n"
        atomic_write(path, text.encode("utf-8"))

    @classmethod
    def load(cls, path: str, flag: str = "--vocabulary_file") -> "Vocabulary":
        """Reads a vocabulary file in this project's format or the legacy one-hot format."""
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                text = f.read()
        except FileNotFoundError:
            raise UsageError(f"{flag} {path} does not exist; give an existing vocabulary file, "
                             "or a new path for train.py to create") from None
        except (UnicodeDecodeError, IsADirectoryError, PermissionError) as e:
            raise UsageError(f"{flag} {path} is not a readable UTF-8 vocabulary file ({e}); give "
                             f"the .vocab file that train.py wrote, or {REBUILD}") from None
        if text.lstrip().startswith("{"):
            return cls._from_json(text, path, flag)
        return cls._from_legacy(text, path, flag)

    @classmethod
    def _from_json(cls, text: str, path: str, flag: str) -> "Vocabulary":
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError("not an lstm-core vocabulary")
            tokens = [t for t, _ in data["tokens"]]
            counts = [int(c) for _, c in data["tokens"]]
            return cls(tokens, counts, data["kind"], data.get("unknown_token"),
                       data.get("metadata"))
        except (ValueError, KeyError, TypeError) as e:
            raise UsageError(f"{flag} {path} is not a valid vocabulary file ({e}); {REBUILD}") \
                from None

    @classmethod
    def _from_legacy(cls, text: str, path: str, flag: str) -> "Vocabulary":
        """Parses ``CHAR->v0,v1,...`` entries; CHAR may itself be a newline."""
        by_index = {}
        position = 0
        while position < len(text):
            token = text[position]
            end = text.find("\n", position + 1)
            end = len(text) if end < 0 else end
            entry = text[position + 1:end]
            position = end + 1
            try:
                if not entry.startswith("->"):
                    raise ValueError("missing '->'")
                vector = [float(v) for v in entry[2:].strip().rstrip(",").split(",")]
                by_index[vector.index(1.0)] = token
            except ValueError as e:
                raise UsageError(f"{flag} {path} is neither an lstm-core vocabulary nor a legacy "
                                 f"CHAR->one-hot file ({e} near {entry[:20]!r})") from None
        if not by_index:
            raise UsageError(f"{flag} {path} is empty; give the .vocab file that train.py wrote, "
                             f"or {REBUILD}")
        if sorted(by_index) != list(range(len(by_index))):
            gaps = sorted(set(range(max(by_index) + 1)) - set(by_index))
            raise UsageError(f"{flag} {path}: the legacy one-hot vectors of its "
                             f"{len(by_index)} characters leave out ids {gaps[:5]}; {REBUILD}")
        return cls([by_index[i] for i in range(len(by_index))])


def describe_tokens(tokens: Sequence[str], limit: int = 12) -> str:
    """A short, unambiguous list of tokens for messages: ``'é', '\\t', ... (3 more)``."""
    shown = ", ".join(repr(t) for t in tokens[:limit])
    return shown + (f", ... ({len(tokens) - limit} more)" if len(tokens) > limit else "")


def check_text_file(path: str, flag: str = "--training_file") -> None:
    """A `UsageError` naming the file and the fix when `path` cannot be a UTF-8 corpus (its
    first megabyte is looked at; `not_utf8` reports a bad byte found later)."""
    if not os.path.exists(path):
        raise UsageError(f"{flag} {path} does not exist; give the path of a UTF-8 text file")
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a folder with no MIDI files; give a UTF-8 text "
                         "file, or a folder of MIDI files")
    with open(path, "rb") as f:  # read, not sized: /proc files say 0 bytes and hold text
        head = f.read(1 << 20)
    if not head:
        raise UsageError(f"{flag} {path} is empty; give a text file with the corpus to learn")
    if b"\x00" in head:
        raise UsageError(f"{flag} {path} looks binary (it contains NUL bytes); give a UTF-8 "
                         "text file")
    if head == codecs.BOM_UTF8:
        raise UsageError(f"{flag} {path} holds only a byte-order mark; give a text file with the "
                         "corpus to learn")


def read_text_file(path: str, flag: str = "--training_file") -> str:
    """The text of a UTF-8 corpus, or a `UsageError` naming the file and the fix. A FIFO or a
    device is read without blocking (`lstm_core.inputs`)."""
    readable = local_copy(path, flag) if is_stream(path) else path
    check_text_file(readable, flag)
    with open(readable, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark is no character of the corpus
    except UnicodeDecodeError as e:
        raise not_utf8(path, flag, e.start, raw[e.start:e.start + 1]) from None


def default_vocabulary_path(input_file: str) -> str:
    """``lyrics.txt`` → ``lyrics.vocab``, the legacy vocabulary's name beside its corpus."""
    return os.path.splitext(input_file)[0] + ".vocab"


def write_vocabulary(input_file: str, vocabulary_file: str | None = None,
                     allow_unknown: bool = False, overwrite: bool = False) -> str:
    """Builds the vocabulary of a UTF-8 text file and writes it to `vocabulary_file` (default:
    beside it, `default_vocabulary_path`), never over an existing file unless `overwrite`;
    the line that says what was written."""
    from lstm_core.cli import require_output_paths

    text = read_text_file(input_file, "--input_file")
    path = vocabulary_file or default_vocabulary_path(input_file)
    require_output_paths(overwrite, vocabulary_file=path)
    vocabulary = Vocabulary.build(text, allow_unknown=allow_unknown)
    vocabulary.save(path)
    return f"wrote {path}: {len(vocabulary)} characters from {len(text):,} in {input_file}"


def main(argv: Sequence[str]) -> None:
    from absl import flags

    FLAGS = flags.FLAGS
    print(write_vocabulary(FLAGS.input_file, FLAGS.vocabulary_file, FLAGS.allow_unknown,
                           FLAGS.overwrite))


if __name__ == "__main__":
    from absl import flags

    from lstm_core.cli import run

    flags.DEFINE_string("input_file", None, "UTF-8 text file to build the vocabulary of.")
    flags.DEFINE_string("vocabulary_file", None, "Where to write it (default: INPUT.vocab).")
    flags.DEFINE_bool("allow_unknown", False, "Add an unknown token for unseen characters.")
    flags.DEFINE_bool("overwrite", False, "Replace an existing vocabulary file.")
    flags.mark_flag_as_required("input_file")
    run(main)
