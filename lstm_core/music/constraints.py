"""What a music model may write next: one bool matrix `[vocabulary, vocabulary]` for
`Sampler(allowed_next=...)`, row ``p`` the tokens that may follow token ``p``.

A token ``n`` may follow ``p`` when
- MidiTok's token-type graph lets ``n``'s type follow ``p``'s (``Pitch`` → ``Velocity`` →
  ``Duration`` → ``Position`` ... in REMI), so the piece decodes as written;
- after a ``Program`` token, the note type fits the program: drum notes (``PitchDrum``,
  ``DrumOn``) only after ``Program_-1``, pitched notes only after the other programs;
- ``n`` keeps to the user's controls, ANDed into every row: its program (``Program_P``,
  ``Pedal_P``, ``PedalOff_P``) among the chosen instruments, its pitch (``Pitch_N``, ``NoteOn_N``)
  in the chosen key (drum notes are never key-masked: a kick is no pitch), its tempo the
  vocabulary's nearest to the chosen tempo;
- ``n`` is a MidiTok token the model can write: no special token (``PAD``, ``BOS``, ``EOS``) and
  no token outside the tokenizer (a piece boundary, an unknown token): a sample is one piece.

Tokens from which nothing allowed can follow (a ``Program`` whose every note is out of key) are
then forbidden too, until none is left, so the sampler never reaches a dead end. A row of a token
the model cannot write (a primer's boundary) allows every writable token.

MidiTok's own count of errors (`count_errors`) also checks what one previous token cannot: that
positions move forward within a bar and that no note is struck twice at once; `sample.py` reports it.
"""

from __future__ import annotations

from typing import Collection, Sequence

import numpy as np
from miditok import MusicTokenizer, TokSequence

DRUMS = -1  # MidiTok's program of the drum track
DRUM_NOTE_TYPES = frozenset({"PitchDrum", "DrumOn", "DrumOff"})
PITCH_TYPES = frozenset({"Pitch", "NoteOn"})  # the pitches a key constrains (a NoteOff ends one)
PITCHED_NOTE_TYPES = PITCH_TYPES | {"NoteOff"}
PROGRAM_TYPES = frozenset({"Program", "Pedal", "PedalOff"})  # valued by program with programs on


def token_type(token: str) -> str:
    return token.split("_", 1)[0]


def token_value(token: str) -> str:
    return token.split("_", 1)[1] if "_" in token else ""


def writable(tokens: Sequence[str], tokenizer: MusicTokenizer) -> np.ndarray:
    """Bool `[vocabulary]`: the tokens of the tokenizer's graph, special tokens aside."""
    special = {token_type(t) for t in tokenizer.special_tokens}
    graph = tokenizer.tokens_types_graph
    return np.array([t in tokenizer.vocab and token_type(t) in graph and token_type(t) not in special
                     for t in tokens])


def allowed_next(tokens: Sequence[str], tokenizer: MusicTokenizer,
                 programs: Collection[int] | None = None,
                 pitch_classes: Collection[int] | None = None,
                 tempo: float | None = None) -> np.ndarray:
    """Bool `[vocabulary, vocabulary]` (see the module docstring) for the model's `tokens`.

    Args:
      tokens: the vocabulary's tokens, by id.
      tokenizer: the MidiTok tokenizer the vocabulary was made with.
      programs: General MIDI programs the piece may use, `DRUMS` for drums (None: all).
      pitch_classes: pitch classes (0 = C ... 11 = B) a pitched note may have (None: all).
      tempo: beats per minute; only the vocabulary's nearest tempo token may be written.
    """
    types = [token_type(t) for t in tokens]
    can_write = writable(tokens, tokenizer)
    columns = can_write.copy()
    if programs is not None:
        columns &= [ty not in PROGRAM_TYPES or int(token_value(t)) in programs
                    for t, ty in zip(tokens, types)]
    if tempo is not None:
        columns &= [ty != "Tempo" or t == nearest_tempo(tokens, tempo)
                    for t, ty in zip(tokens, types)]
    in_key = np.array([pitch_classes is None or ty not in PITCH_TYPES
                       or int(token_value(t)) % 12 in pitch_classes
                       for t, ty in zip(tokens, types)])
    graph = tokenizer.tokens_types_graph
    kinds, kind_of = np.unique(types, return_inverse=True)  # the graph by type, then by token
    follows = np.array([[k in graph.get(previous, ()) for k in kinds] for previous in kinds])
    follows = follows[kind_of][:, kind_of]
    follows[~can_write] = True
    allowed = follows & columns & in_key
    drum_notes = np.array([ty in DRUM_NOTE_TYPES for ty in types])
    pitched_notes = np.array([ty in PITCHED_NOTE_TYPES for ty in types])
    drums_as_pitches = not tokenizer.config.use_pitchdrum_tokens
    for p, token in enumerate(tokens):
        if types[p] != "Program":
            continue
        if int(token_value(token)) != DRUMS:  # a pitched program's notes
            allowed[p] &= ~drum_notes
        elif drums_as_pitches:  # drums in Pitch tokens: a drum sound is no pitch of a key
            allowed[p] = follows[p] & columns
        else:
            allowed[p] &= ~pitched_notes
    while True:  # forbid dead ends: writable tokens nothing allowed can follow
        dead = columns & ~allowed.any(axis=1)
        if not dead.any():
            return allowed
        columns &= ~dead
        allowed[:, dead] = False


def nearest_tempo(tokens: Sequence[str], bpm: float) -> str | None:
    """The vocabulary's ``Tempo_X`` token nearest to `bpm` (None when it has none)."""
    tempos = [t for t in tokens if token_type(t) == "Tempo"]
    return min(tempos, key=lambda t: abs(float(token_value(t)) - bpm), default=None)


def count_errors(tokenizer: MusicTokenizer, tokens: Sequence[str]) -> int:
    """MidiTok's count of errors in `tokens`: a type that cannot follow the previous one, a
    position that does not move forward, a note struck twice at once."""
    tokens = [t for t in tokens if t in tokenizer.vocab]
    if not tokens:
        return 0
    return round(tokenizer.tokens_errors(TokSequence(tokens=list(tokens))) * len(tokens))
