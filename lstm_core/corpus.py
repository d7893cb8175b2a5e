"""Where training data comes from: a text file, or music (see `lstm_core.music`).

`load_corpus` turns ``--training_file`` into a corpus: music as its token sequence, text as the
checked path of the file (never read whole: see `lstm_core.encoded_text`). `vocabulary_and_ids`
gives its vocabulary (reused from the vocabulary file, or built) and its token ids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Collection, Sequence

import numpy as np

from lstm_core import encoded_text, inputs
from lstm_core.default_corpus import build_default_text
from lstm_core.errors import UsageError
from lstm_core.kinds import Family, TokenKind
from lstm_core.preprocessing import Vocabulary, check_text_file
from lstm_core.progress import Report, TaskProgress, silent_progress, silent_report


FIRST_LINE = 80  # characters of a text's first line kept as its samples' default seed
_MIDITOK = (TokenKind.REMI, TokenKind.TSD, TokenKind.MIDILIKE)
# The flags of train.py that only some corpora take: the token kinds each applies to, and what
# it needs (`refuse_options_not_for`); on another corpus it would be ignored.
CORPUS_FLAGS = {
    "encoding": (tuple(kind for kind in TokenKind if not kind.is_text),
                 "music (MIDI, MusicXML, Humdrum or ABC files, or music21:NAME)"),
    "instruments": ((*_MIDITOK, TokenKind.NOTES), "music in an event or note encoding (remi, "
                                                  "tsd, midilike or notes)"),
    "bpe_vocabulary": (_MIDITOK, "music in a MidiTok encoding (remi, tsd or midilike)"),
    "melody_part": ((TokenKind.JAZZ,), "--encoding jazz"),
    "chord_parts": ((TokenKind.JAZZ,), "--encoding jazz"),
}


def refuse_options_not_for(kind: TokenKind, given: Collection[str], options, what: str) -> None:
    """A `UsageError` for the first option of `CORPUS_FLAGS` the user gave (`given`: their
    names) that a corpus of `kind` does not take; `what` says what the input is instead."""
    for name, (kinds, needs) in CORPUS_FLAGS.items():
        if name in given and kind not in kinds:
            value = getattr(options, name)
            value = ",".join(value) if isinstance(value, list) else value
            raise UsageError(f"--{name} {value} needs {needs}, but {what}; leave the flag out")


@dataclasses.dataclass
class Corpus:
    tokens: Sequence[str] | None  # a list of music events; None for text (read from `file`)
    kind: TokenKind
    metadata: dict
    source: str  # names the data in messages
    file: str | None = None  # the text's file: `source`, or its copy when that is a stream

    @property
    def is_text(self) -> bool:
        return self.kind.is_text

    def first_line(self) -> str | None:
        """A text's first line that holds more than spaces (at most `FIRST_LINE` characters):
        what a sample starts from when no seed is given. None for music."""
        if not self.is_text:
            return None
        with open(self.file, encoding="utf-8", errors="replace") as text:
            for line in text:
                if line.strip():
                    return line.rstrip("\r\n")[:FIRST_LINE]
        return None


def load_corpus(training_file: str | None, encoding: str = TokenKind.REMI,
                melody_part: str | None = None, chord_parts: Sequence[str] | None = None,
                instruments: str = "all", bpe_vocabulary: int = 0,
                report: Report = silent_report, progress: TaskProgress = silent_progress) -> Corpus:
    """The corpus of `training_file`; without one, the embedded default text (built at first
    use, said through `report`). Lines for the user (files skipped, tokens read) go to
    `report`; the progress of long reads (score files, the default text) to `progress`.

    Score files (MIDI, MusicXML, Humdrum, ABC; by suffix or content), folders and globs of them,
    ``music21:NAME`` and prepared token files become music tokens in `encoding`
    (`lstm_core.music.tokenizer`, with MidiTok's BPE of `bpe_vocabulary` tokens when > 0) of
    the `instruments` named (`lstm_core.music.constants.programs_named`).
    `encoding` ``jazz`` reads a solo over chords instead (`lstm_core.music.jazz`), with the
    melody and chord parts guessed unless given. Anything else is UTF-8 text. A FIFO or a
    device is read once, without blocking, into a local copy (`lstm_core.inputs`).
    """
    readable = (inputs.local_copy(training_file, "--training_file")
                if training_file and inputs.is_stream(training_file) else training_file)
    if encoding == TokenKind.JAZZ:
        from lstm_core.music import jazz

        if not training_file:
            raise UsageError("--encoding jazz needs --training_file: a MIDI file with a solo "
                             "over an accompaniment, a lead sheet, or music21:NAME")
        tokens, metadata = jazz.load_jazz_corpus(readable, melody_part, chord_parts,
                                                 report=report, progress=progress)
        return Corpus(tokens, jazz.ENCODING, metadata, training_file)
    if training_file:
        from lstm_core import music

        if music.is_music_source(readable):
            from lstm_core.music.constants import programs_named

            tokens, metadata = music.load_corpus(readable, encoding,
                                                 programs_named(instruments),
                                                 bpe_vocabulary=bpe_vocabulary,
                                                 report=report, progress=progress)
            return Corpus(tokens, TokenKind(metadata["encoding"]), metadata, training_file)
    path = readable or build_default_text(report=report, progress=progress)
    check_text_file(path)
    return Corpus(None, TokenKind.CHARACTERS, {}, training_file or path, path)


def vocabulary_and_ids(corpus: Corpus, vocabulary_path: str, allow_unknown: bool = False,
                       report: Report = silent_report, progress: TaskProgress = silent_progress
                       ) -> tuple[Vocabulary, np.ndarray, str]:
    """The corpus's vocabulary (the file at `vocabulary_path` when it exists, said through
    `report`, else built: the caller saves it), its token ids `[tokens]` (memory-mapped for
    text; the passes over the text counted through `progress`) and its SHA-256."""
    vocabulary = None
    if os.path.exists(vocabulary_path):
        vocabulary = Vocabulary.load(vocabulary_path)
        if vocabulary.kind != corpus.kind:
            raise UsageError(
                f"--vocabulary_file {vocabulary_path} holds {vocabulary.kind} tokens but "
                f"{corpus.source} gives {corpus.kind}; give the vocabulary built from this "
                "corpus or a new path")
        if vocabulary.family is Family.MUSIC:
            from lstm_core.music.tokenizer import check_same_tokenizer

            check_same_tokenizer(vocabulary.metadata, corpus.metadata,
                                 f"--vocabulary_file {vocabulary_path}", corpus.source)
        report(f"using the vocabulary {vocabulary_path}: {len(vocabulary)} tokens")
    if corpus.is_text:
        if vocabulary is None:
            vocabulary, digest = encoded_text.build_vocabulary(corpus.file, allow_unknown,
                                                                  progress)
        else:
            digest = encoded_text.corpus_digest(corpus.file)
        ids = encoded_text.encoded_ids(corpus.file, vocabulary, vocabulary_path, digest, report,
                                       progress)
        return vocabulary, ids, digest
    vocabulary = vocabulary or Vocabulary.build(corpus.tokens, corpus.kind, allow_unknown,
                                                corpus.metadata)
    digest = hashlib.sha256("\n".join(corpus.tokens).encode()).hexdigest()
    return vocabulary, vocabulary.encode(corpus.tokens, source=corpus.source), digest
