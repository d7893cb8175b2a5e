"""Scores to tokens and back: MidiTok's REMI (the default), TSD and MIDI-Like, and `notes`.

A piece is a `symusic.Score` (ticks). An encoding turns it into a list of token strings and a
list of tokens back into a Score; the vocabulary file's metadata (`metadata_of`) records the
whole tokenizer, so `from_metadata` rebuilds exactly the tokenizer a model was trained with::

    tokenizer = build("remi")                      # or "tsd", "midilike", "notes"
    tokens = encode(score, tokenizer)              # ["Bar_None", "TimeSig_4/4", "Position_0",
                                                   #  "Tempo_121.29", "Program_0", "Pitch_60",
                                                   #  "Velocity_79", "Duration_1.0.8", ...]
    metadata = metadata_of(tokenizer)              # JSON-able, stored in the vocabulary file
    score = decode(tokens, metadata)               # a symusic.Score; score.dump_midi(path)

The MidiTok encodings put every instrument in one token stream (a ``Program_P`` token before
each note; program -1 is the drum kit) with velocities in 32 bins, tempos, time signatures and
the sustain pedal, over the whole MIDI pitch range. A tempo change is kept only where the
tempo moves to another of MidiTok's 32 tempo values (near-equal tempos share one): classical MIDI
files' rubato otherwise writes a tempo token every few notes. ``notes`` is the tutorial generators'
baseline: one token per onset, a pitch name (``E5``) or a chord's dotted pitch classes
(``4.7.11``), rhythm and octaves of chords lost (see `lstm_core.music.notes`).

With `learn_bpe`, MidiTok's byte-pair encoding merges frequent runs of tokens into one; such a
token is written as its base tokens joined by `BPE_JOINER` (``Pitch_60+Velocity_79+
Duration_1.0.8``), so `base_tokens` reads any token without the tokenizer.

Decoding takes whatever a sampler writes: `BOUNDARY`, tokens the tokenizer does not know and
token orders MidiTok cannot read are left out; it never raises on tokens.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from typing import Iterable, Sequence

import symusic

from lstm_core.errors import UsageError
from lstm_core.kinds import TokenKind
from lstm_core.music.constants import BOUNDARY


def _import_miditok():
    """MidiTok, without the PyTorch data helpers it imports when PyTorch is installed: they are
    not used here, and importing PyTorch costs every music run seconds (tens on a busy
    machine). A later ``import torch`` elsewhere still works."""
    if "miditok" in sys.modules or "torch" in sys.modules:
        import miditok
        return miditok
    sys.modules["torch"] = None  # makes ``import torch`` fail, so MidiTok skips its helpers
    try:
        import miditok
    finally:
        del sys.modules["torch"]
    return miditok


miditok = _import_miditok()

# The music token kinds (`lstm_core.kinds`) and the MidiTok tokenizer class of each.
ENCODINGS = {TokenKind.REMI: "REMI", TokenKind.TSD: "TSD", TokenKind.MIDILIKE: "MIDILike",
             TokenKind.NOTES: None}
DEFAULT = TokenKind.REMI
NOTES = TokenKind.NOTES
BPE_JOINER = "+"
# The configuration of every MidiTok encoding (MidiTok's own TokenizerConfig parameters).
CONFIG = dict(pitch_range=(0, 127), drums_pitch_range=(0, 127), num_velocities=32,
              use_velocities=True, use_tempos=True, use_time_signatures=True,
              use_sustain_pedals=True, use_programs=True, one_token_stream_for_programs=True,
              special_tokens=["PAD"], delete_equal_successive_tempo_changes=True)

Tokenizer = miditok.MusicTokenizer | str  # a MidiTok tokenizer, or NOTES


def build(encoding: str = DEFAULT, flag: str = "--encoding") -> Tokenizer:
    """A new tokenizer of `encoding` (a key of `ENCODINGS`); a `UsageError` naming `flag` for
    an unknown one."""
    if encoding not in ENCODINGS:
        raise UsageError(f"{flag} is {encoding!r}; use one of: {', '.join(ENCODINGS)}")
    if encoding == NOTES:
        return NOTES
    return getattr(miditok, ENCODINGS[encoding])(miditok.TokenizerConfig(**CONFIG))


def encoding_of(tokenizer: Tokenizer) -> str:
    """The `ENCODINGS` key of `tokenizer` (``remi``...)."""
    if tokenizer == NOTES:
        return NOTES
    return {name: key for key, name in ENCODINGS.items()}[type(tokenizer).__name__]


def metadata_of(tokenizer: Tokenizer) -> dict:
    """``{"encoding": ..., "tokenizer": ...}``: the encoding's name and, for MidiTok, its whole
    configuration (`miditok.MusicTokenizer.to_dict`: class, TokenizerConfig, learned BPE)."""
    if tokenizer == NOTES:
        return {"encoding": NOTES}
    # Through JSON: the same lists (not tuples) as a vocabulary file read back holds.
    return {"encoding": encoding_of(tokenizer),
            "tokenizer": json.loads(json.dumps(tokenizer.to_dict()))}


def from_metadata(metadata: dict, source: str = "the vocabulary") -> Tokenizer:
    """The tokenizer `metadata` (of `metadata_of`) records; a `UsageError` naming `source`
    when it records none that can be rebuilt."""
    encoding = metadata.get("encoding")
    if encoding == NOTES:
        return NOTES
    if encoding not in ENCODINGS or "tokenizer" not in metadata:
        raise UsageError(f"{source} records no tokenizer of a known music encoding "
                         f"(encoding {encoding!r}); train the model again with this version")
    try:
        return _rebuilt(json.dumps(metadata["tokenizer"], sort_keys=True))
    except Exception as e:  # MidiTok rejects a damaged configuration in many ways
        raise UsageError(f"{source}: its tokenizer configuration cannot be rebuilt ({e}); "
                         "train the model again, or give the vocabulary it was trained with") \
            from None


@functools.lru_cache(maxsize=8)
def _rebuilt(configuration: str) -> miditok.MusicTokenizer:
    """MidiTok reads a configuration from a file only: one in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tokenizer.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(configuration)
        return getattr(miditok, json.loads(configuration)["tokenization"])(params=path)


def encode(score: symusic.Score, tokenizer: Tokenizer) -> list[str]:
    """The tokens of one piece, all its tracks in one stream (no `BOUNDARY`)."""
    if tokenizer == NOTES:
        from lstm_core.music import notes

        return notes.encode(score)
    sequence = tokenizer.encode(score)
    if not tokenizer.is_trained:
        return list(sequence.tokens)
    return _learned_tokens(sequence, tokenizer)


def base_tokens(token: str) -> list[str]:
    """The MidiTok tokens a (possibly BPE-learned) token stands for."""
    return token.split(BPE_JOINER)


def decode(tokens: Sequence[str], metadata: dict) -> symusic.Score:
    """The Score of `tokens` (in the encoding `metadata` records), one track per program."""
    tokenizer = from_metadata(metadata)
    if tokenizer == NOTES:
        from lstm_core.music import notes

        return notes.decode(tokens)
    known = tokenizer.vocab
    base = [t for token in tokens if token != BOUNDARY for t in base_tokens(token) if t in known]
    if not base:
        return _empty_score(tokenizer)
    sequence = miditok.TokSequence(tokens=base)
    tokenizer.complete_sequence(sequence)
    return tokenizer.decode(sequence)


def learn_bpe(tokenizer: miditok.MusicTokenizer, scores: Iterable[symusic.Score],
              vocabulary_size: int, flag: str = "--bpe_vocabulary") -> None:
    """Learns MidiTok's BPE on `scores` until the tokenizer has `vocabulary_size` tokens (base
    tokens included); a `UsageError` naming `flag` when that is not more than the base."""
    if vocabulary_size <= len(tokenizer):
        raise UsageError(f"{flag} {vocabulary_size} is not more than the {len(tokenizer)} base "
                         f"tokens of {encoding_of(tokenizer)}; give a larger size, e.g. "
                         f"{2 * len(tokenizer)}")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, score in enumerate(scores):
            paths.append(os.path.join(folder, f"{i}.mid"))
            score.dump_midi(paths[-1])
        tokenizer.train(vocab_size=vocabulary_size, model="BPE", files_paths=paths)


def base_vocabulary(tokenizer: Tokenizer) -> set[str] | None:
    """Every base token `tokenizer` may write; None for `notes` (any pitch or chord name)."""
    return None if tokenizer == NOTES else set(tokenizer.vocab)


def _learned_tokens(sequence: miditok.TokSequence, tokenizer: miditok.MusicTokenizer
                    ) -> list[str]:
    """The learned tokens of an encoded `sequence`, each its base tokens joined by `BPE_JOINER`.

    The learned ids cover the base tokens in order; MidiTok stores each learned token as one
    character per base token (``chr(miditok.constants.CHR_ID_START + base id)``, after a
    word-start mark ``▁``), so its length says how many base tokens it takes. Only the tokens
    the piece uses are joined, not the whole learned vocabulary (a third of encoding a piece)."""
    lengths = {i: len(text.lstrip("\u2581")) for text, i in tokenizer.vocab_model.items()}
    learned, start = [], 0
    for i in sequence.ids:
        learned.append(BPE_JOINER.join(sequence.tokens[start:start + lengths[i]]))
        start += lengths[i]
    return learned


def _empty_score(tokenizer: miditok.MusicTokenizer) -> symusic.Score:
    score = symusic.Score(tokenizer.time_division)
    score.tempos.append(symusic.Tempo(0, tokenizer.default_tempo))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    return score


def check_vocabulary(tokens: Sequence[str], metadata: dict, source: str) -> None:
    """A `UsageError` naming `source` when `tokens` (a vocabulary's) hold a token the tokenizer
    `metadata` records cannot write: the vocabulary and its tokenizer do not belong together."""
    known = base_vocabulary(from_metadata(metadata, source))
    if known is None:
        return
    foreign = [t for t in tokens if t != BOUNDARY and not t.startswith("<")
               and not all(base in known for base in base_tokens(t))]
    if foreign:
        raise UsageError(f"{source}: {len(foreign)} of its tokens ({', '.join(foreign[:3])}) are "
                         "not tokens of the tokenizer it records; its tokenizer configuration "
                         "does not match the model: use the model's own vocabulary file")


def check_same_tokenizer(recorded: dict, corpus: dict, source: str, corpus_source: str) -> None:
    """A `UsageError` naming `source` when the tokenizer `recorded` (a vocabulary's metadata)
    is not the one the corpus (`corpus`: its metadata) was encoded with."""
    def configuration(metadata: dict) -> str:
        return json.dumps([metadata.get("encoding"), metadata.get("tokenizer")], sort_keys=True)

    if configuration(recorded) != configuration(corpus):
        raise UsageError(f"{source} records another tokenizer configuration than "
                         f"{corpus_source} is encoded with (encoding {recorded.get('encoding')!r} "
                         f"against {corpus.get('encoding')!r}, or other MidiTok parameters); give "
                         "the vocabulary built with this encoding, or a new path")
