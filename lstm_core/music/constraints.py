"""What a music model may write next: the `Grammar` a `Sampler` keeps to (`grammar`).

It runs two rules side by side (`Grammar.product`). The first looks at the previous token
(`allowed_next`, a bool matrix `[vocabulary, vocabulary]`, row ``p`` the tokens that may follow
token ``p``); the second (`positions`) at the position already reached within the bar: in REMI a
``Position`` token must move forward from the bar's last one, which no previous token can tell.

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

Beside these run the corpus's own limits, measured at preparation: no more empty bars in a row
than it has and a tempo change only on a bar's first beat (`bar_rules`), each instrument's
pitch range and polyphony (`playable`).

The ``notes`` encoding has no grammar: there the key alone masks the notes and chords outside it.

MidiTok's own count of errors (`count_errors`) checks the type graph and the positions, both
kept by `grammar`; in MIDI-Like it also pairs each ``NoteOff`` with a ``NoteOn`` before it, which
the grammar does not follow (it would need a state per sounding pitch and program).
"""

from __future__ import annotations

from typing import Collection, Sequence

import numpy as np
from miditok import TokSequence

from lstm_core.grammar import Conjunction, Grammar
from lstm_core.music import bar_rules, playable
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


def grammar(tokens: Sequence[str], metadata: dict, programs: Collection[int] | None = None,
            pitch_classes: Collection[int] | None = None, tempo: float | None = None
            ) -> Grammar | Conjunction:
    """The grammar of `allowed_next` (same arguments) and `positions` together, side by side
    with the corpus's bar rules (`bar_rules`) and playable parts (`playable`) where the
    vocabulary's metadata records them."""
    by_previous = Grammar.previous_token(allowed_next(tokens, metadata, programs, pitch_classes,
                                                      tempo))
    by_position = positions(tokens)
    tokens_grammar = by_previous if by_position is None else by_previous.product(by_position)
    return Conjunction.of([tokens_grammar, bar_rules.grammar(tokens, metadata),
                           playable.grammar(tokens, metadata)])


def type_groups(tokens: Sequence[str]) -> np.ndarray:
    """Int `[vocabulary]`: the same number for the tokens of one type (``Position``, ``Pitch``,
    ``Bar``, ...; a BPE token by its merged types), the sampler's groups (`TokenChoice`)."""
    types: dict[str, int] = {}
    return np.array([types.setdefault("+".join(token_type(b) for b in encodings.base_tokens(t)),
                                      len(types)) for t in tokens], np.int32)


def positions(tokens: Sequence[str]) -> Grammar | None:
    """Positions that move forward within a bar: state 0 at the start and after a ``Bar`` (or a
    ``Rest``, after which MidiTok does not compare), state ``k`` after the ``k``-th smallest
    ``Position`` value of the vocabulary; a ``Position`` may be written only above the state's.
    A BPE token moves through its base tokens in turn. None when `tokens` have no positions."""
    bases = [encodings.base_tokens(t) for t in tokens]
    values = sorted({int(token_value(b)) for base in bases for b in base
                     if token_type(b) == "Position"})
    if not values:
        return None
    rank = {value: k + 1 for k, value in enumerate(values)}
    states = len(values) + 1
    allowed = np.ones([states, len(tokens)], bool)
    next_state = np.tile(np.arange(states, dtype=np.int32)[:, None], [1, len(tokens)])
    for v, base in enumerate(bases):
        # Where each of its base tokens moves: 0 a new bar (Bar, Rest), k > 0 Position k.
        moves = [rank[int(token_value(b))] if token_type(b) == "Position" else 0
                 for b in base if token_type(b) in ("Bar", "Rest", "Position")]
        if not moves:
            continue
        for state in range(states):
            reached, forward = state, True
            for move in moves:
                forward &= move == 0 or move > reached
                reached = move
            allowed[state, v], next_state[state, v] = forward, reached
    return Grammar(allowed, next_state)


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
