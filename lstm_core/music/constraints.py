"""What a music model may write next: one bool matrix `[vocabulary, vocabulary]` for
`Sampler(allowed_next=...)`, row ``p`` the tokens that may follow token ``p``.

For the MidiTok encodings a token ``n`` may follow ``p`` when
- MidiTok's token-type graph lets ``n``'s type follow ``p``'s (``Pitch`` → ``Velocity`` →
  ``Duration`` → ``Position`` ... in REMI), so the piece decodes as written; a BPE token counts
  by the first and last of the base tokens it stands for;
- after a ``Program`` token, the note fits the program: drum notes (``PitchDrum``, ``DrumOn``)
  only after ``Program_-1``, pitched notes only after the other programs;
- ``n`` keeps to the user's controls, ANDed into every row: each program it names (``Program_P``,
  ``Pedal_P``, ``PedalOff_P``) among the chosen instruments, each pitch (``Pitch_N``,
  ``NoteOn_N``) in the chosen key (drum notes, ``PitchDrum``/``DrumOn`` in the tokenizer's
  configuration, are never key-masked: a kick is no pitch), its
  tempo the vocabulary's nearest to the chosen tempo;
- ``n`` is made of MidiTok tokens the model can write: no special token (``PAD``), no piece
  `BOUNDARY`, no unknown token: a sample is one piece.

Tokens from which nothing allowed can follow (a ``Program`` whose every note is out of key) are
then forbidden too, until none is left, so the sampler never reaches a dead end. The row of a
token the model may not write (a primer's boundary) allows every token it may.

The ``notes`` encoding has no grammar: there the key alone masks the notes and chords outside it.

MidiTok's own count of errors (`count_errors`) also checks what one previous token cannot see:
that positions move forward within a bar and that no note is struck twice at once.
"""

from __future__ import annotations

from typing import Collection, Sequence

import numpy as np
from miditok import TokSequence

from lstm_core.music import tokenizer as encodings
from lstm_core.music.constants import DRUMS

DRUM_NOTE_TYPES = frozenset({"PitchDrum", "DrumOn", "DrumOff"})
PITCH_TYPES = frozenset({"Pitch", "NoteOn"})  # the pitches a key constrains (a NoteOff ends one)
PITCHED_NOTE_TYPES = PITCH_TYPES | {"NoteOff"}
PROGRAM_TYPES = frozenset({"Program", "Pedal", "PedalOff"})  # valued by program with programs on


def token_type(token: str) -> str:
    return token.split("_", 1)[0]


def token_value(token: str) -> str:
    return token.split("_", 1)[1] if "_" in token else ""


def allowed_next(tokens: Sequence[str], metadata: dict,
                 programs: Collection[int] | None = None,
                 pitch_classes: Collection[int] | None = None,
                 tempo: float | None = None) -> np.ndarray:
    """Bool `[vocabulary, vocabulary]` (see the module docstring) for the model's `tokens`.

    Args:
      tokens: the vocabulary's tokens, by id.
      metadata: the vocabulary's metadata (its tokenizer, `tokenizer.from_metadata`).
      programs: General MIDI programs the piece may use, `DRUMS` for drums (None: all).
      pitch_classes: pitch classes (0 = C ... 11 = B) a pitched note may have (None: all).
      tempo: beats per minute; only the vocabulary's nearest tempo token may be written.
    """
    tokenizer = encodings.from_metadata(metadata)
    if tokenizer == encodings.NOTES:
        return _notes_allowed(tokens, pitch_classes)
    bases = [encodings.base_tokens(t) for t in tokens]
    graph = tokenizer.tokens_types_graph
    special = {token_type(t) for t in tokenizer.special_tokens}
    can_write = np.array([all(b in tokenizer.vocab and token_type(b) in graph
                              and token_type(b) not in special for b in base) for base in bases])
    nearest = nearest_tempo([b for base in bases for b in base], tempo)

    def keeps_to_controls(base: str) -> bool:
        kind, value = token_type(base), token_value(base)
        return ((programs is None or kind not in PROGRAM_TYPES or int(value) in programs)
                and (tempo is None or kind != "Tempo" or base == nearest))

    def in_key(base: str) -> bool:
        return (pitch_classes is None or token_type(base) not in PITCH_TYPES
                or int(token_value(base)) % 12 in pitch_classes)

    columns = can_write & [all(map(keeps_to_controls, base)) for base in bases]
    first, last = [token_type(base[0]) for base in bases], [token_type(base[-1]) for base in bases]
    kinds = sorted(set(first) | set(last))  # the graph by type, then by token
    by_kind = np.array([[k in graph.get(previous, ()) for k in kinds] for previous in kinds])
    follows = by_kind[[kinds.index(k) for k in last]][:, [kinds.index(k) for k in first]]
    follows[~can_write] = True
    allowed = follows & columns & [all(map(in_key, base)) for base in bases]
    drum_notes = np.array([k in DRUM_NOTE_TYPES for k in first])
    pitched_notes = np.array([k in PITCHED_NOTE_TYPES for k in first])
    for p, base in enumerate(bases):
        if last[p] != "Program":
            continue
        if int(token_value(base[-1])) != DRUMS:  # a pitched program's notes
            allowed[p] &= ~drum_notes
        else:
            allowed[p] &= ~pitched_notes
    return _without_dead_ends(allowed, columns)


def _notes_allowed(tokens: Sequence[str], pitch_classes: Collection[int] | None) -> np.ndarray:
    """``notes`` tokens: any note or chord may follow any, each in the key when one is given."""
    from lstm_core.music.notes import pitches_of

    pitches = [pitches_of(t) for t in tokens]
    columns = np.array([bool(p) and (pitch_classes is None
                                     or all(q % 12 in pitch_classes for q in p))
                        for p in pitches])
    return np.tile(columns, [len(tokens), 1])


def _without_dead_ends(allowed: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """`allowed` with every token forbidden that nothing allowed can follow, until none is."""
    columns = columns.copy()
    while True:
        dead = columns & ~allowed.any(axis=1)
        if not dead.any():
            return allowed
        columns &= ~dead
        allowed[:, dead] = False


def nearest_tempo(tokens: Sequence[str], bpm: float | None) -> str | None:
    """The ``Tempo_X`` token of `tokens` nearest to `bpm` (None when none or no `bpm`)."""
    tempos = [t for t in tokens if token_type(t) == "Tempo"]
    if bpm is None or not tempos:
        return None
    return min(tempos, key=lambda t: abs(float(token_value(t)) - bpm))


def count_errors(tokens: Sequence[str], metadata: dict) -> int:
    """MidiTok's count of errors in `tokens` (its base tokens, pieces boundaries left out): a
    type that cannot follow the previous one, a position that does not move forward, a note
    struck twice at once. 0 for ``notes``, which has no grammar."""
    tokenizer = encodings.from_metadata(metadata)
    if tokenizer == encodings.NOTES:
        return 0
    base = [b for t in tokens for b in encodings.base_tokens(t) if b in tokenizer.vocab]
    if not base:
        return 0
    return round(tokenizer.tokens_errors(TokSequence(tokens=base)) * len(base))
