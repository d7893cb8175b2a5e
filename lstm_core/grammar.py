"""What a sampler may write next: a deterministic automaton over token ids.

Each stream is in one of ``states`` states. In state ``s`` token ``v`` may be written when
``allowed[s, v]``, and writing it moves the stream to ``next_state[s, v]``; `start` is the state
before any token. The sampler looks up one row of `allowed` per stream and step, so what it may
write can depend on more than the previous token (in music: the position already reached within
the bar) at the cost of one more gather.

Two grammars run side by side as their `product` (a state per pair of states, allowed where
both allow). `previous_token` turns a `[vocabulary, vocabulary]` matrix ("row ``p``: what may
follow token ``p``") into a grammar of one state per distinct row.

Grammars whose product would be too large a table (a state per combination of their states)
run side by side as a `Conjunction`: one state number per stream all the same (mixed radix, the
first grammar's state most significant), each grammar's row looked up and ANDed. Unlike
`product`, it cannot see a combination of states where nothing is allowed; the grammars it joins
are built so that none arises, and `TokenChoice` treats such a row as all true.

Tokens outside a grammar (a primer written by hand) still move it: `run` follows `next_state`
whether or not a token was allowed, and a state where nothing is allowed lets the sampler write
anything (`Sampler` treats such a row as all true).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np


@dataclass(frozen=True)
class Grammar:
    allowed: np.ndarray  # bool [states, vocabulary]
    next_state: np.ndarray  # int32 [states, vocabulary]
    start: int = 0

    def __post_init__(self):
        if self.allowed.shape != self.next_state.shape or self.allowed.ndim != 2:
            raise ValueError(f"allowed {self.allowed.shape} and next_state "
                             f"{self.next_state.shape} must be the same [states, vocabulary]")

    @property
    def states(self) -> int:
        return self.allowed.shape[0]

    @property
    def vocabulary_size(self) -> int:
        return self.allowed.shape[1]

    @classmethod
    def previous_token(cls, allowed_next: np.ndarray) -> Grammar:
        """The grammar of bool `allowed_next` `[vocabulary, vocabulary]`, row ``p`` the tokens
        that may follow token ``p``: one state per distinct row, and a start state that allows
        every token (nothing came before)."""
        allowed_next = np.asarray(allowed_next, bool)
        if allowed_next.ndim != 2 or allowed_next.shape[0] != allowed_next.shape[1]:
            raise ValueError(f"allowed_next has shape {allowed_next.shape}; it must be "
                             "[vocabulary, vocabulary]")
        with_start = np.concatenate([np.ones([1, allowed_next.shape[1]], bool), allowed_next])
        rows, state_of = np.unique(with_start, axis=0, return_inverse=True)
        state_of = state_of.reshape(-1).astype(np.int32)
        next_state = np.tile(state_of[1:], [len(rows), 1])
        return cls(rows, next_state, int(state_of[0]))

    def product(self, other: Grammar) -> Grammar:
        """Both grammars at once: state ``a * other.states + b``; a token is allowed where both
        allow it. Tokens that lead to a state where nothing is allowed are then forbidden too,
        until none is left, so a stream in a live state never reaches a dead end."""
        if self.vocabulary_size != other.vocabulary_size:
            raise ValueError(f"the grammars have {self.vocabulary_size} and "
                             f"{other.vocabulary_size} tokens")
        a, b = np.divmod(np.arange(self.states * other.states), other.states)
        allowed = self.allowed[a] & other.allowed[b]
        next_state = (self.next_state[a] * other.states + other.next_state[b]).astype(np.int32)
        while True:
            dead = ~allowed.any(axis=1)
            into_dead = allowed & dead[next_state]
            if not into_dead.any():
                break
            allowed &= ~into_dead
        return Grammar(allowed, next_state, self.start * other.states + other.start)

    def digest(self) -> str:
        """A digest of the tables: equal grammars, equal digests (samplers are known by it)."""
        return array_digest(self.allowed, self.next_state, np.int64(self.start))

    def allowed_in(self, state: int) -> np.ndarray:
        """Bool `[vocabulary]`: the tokens allowed in `state`."""
        return self.allowed[state]

    @property
    def factors(self) -> tuple[Grammar, ...]:
        """The grammars it runs side by side: itself (see `Conjunction`)."""
        return (self,)

    def run(self, ids: Iterable[int], state: int | None = None) -> int:
        """The state after `ids`, from `state` (default `start`), allowed or not."""
        state = self.start if state is None else state
        for token in ids:
            state = int(self.next_state[state, token])
        return state


@dataclass(frozen=True)
class Conjunction:
    """`factors` side by side (see the module docstring): a token is allowed where each allows
    it in its own state; state ``sum(s_i * strides[i])``."""
    factors: tuple[Grammar, ...]

    def __post_init__(self):
        sizes = {g.vocabulary_size for g in self.factors}
        if len(sizes) != 1:
            raise ValueError(f"the grammars have {sorted(sizes)} tokens; they must agree")
        if np.prod([g.states for g in self.factors], dtype=np.int64) >= 2 ** 31:
            raise ValueError("the grammars have 2**31 or more states together")

    @classmethod
    def of(cls, grammars: Sequence[Grammar | None]) -> Grammar | Conjunction | None:
        """The grammars that are not None side by side; one alone as it is, none: None."""
        present = tuple(f for g in grammars if g is not None for f in g.factors)
        return None if not present else present[0] if len(present) == 1 else cls(present)

    @property
    def vocabulary_size(self) -> int:
        return self.factors[0].vocabulary_size

    @property
    def states(self) -> int:
        return int(np.prod([g.states for g in self.factors]))

    @property
    def strides(self) -> list[int]:
        """What one state of each factor counts for in the joint state number."""
        return [int(np.prod([g.states for g in self.factors[i + 1:]], dtype=np.int64))
                for i in range(len(self.factors))]

    @property
    def start(self) -> int:
        return self.join([g.start for g in self.factors])

    def digest(self) -> str:
        """`Grammar.digest` of the factors together."""
        return hashlib.sha256("".join(g.digest() for g in self.factors).encode()).hexdigest()

    def join(self, states: Sequence[int]) -> int:
        return sum(s * stride for s, stride in zip(states, self.strides))

    def split(self, state: int) -> list[int]:
        return [state // stride % g.states for g, stride in zip(self.factors, self.strides)]

    def allowed_in(self, state: int) -> np.ndarray:
        """Bool `[vocabulary]`: the tokens every factor allows in `state`."""
        return np.logical_and.reduce([g.allowed[s] for g, s in zip(self.factors,
                                                                     self.split(state))])

    def run(self, ids: Iterable[int], state: int | None = None) -> int:
        """The state after `ids`, from `state` (default `start`), allowed or not."""
        states = self.split(self.start if state is None else state)
        for token in ids:
            states = [int(g.next_state[s, token]) for g, s in zip(self.factors, states)]
        return self.join(states)


def array_digest(*arrays: np.ndarray) -> str:
    """A SHA-256 digest of the arrays' shapes, types and values."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode() + array.tobytes())
    return digest.hexdigest()
