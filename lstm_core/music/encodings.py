"""The music encodings by name: `events` (default, rhythm kept) and `notes` (the prior tokens)."""

from __future__ import annotations

from types import ModuleType
from typing import Sequence

from lstm_core.errors import UsageError
from lstm_core.music import events, legacy
from lstm_core.music.events import Note

ENCODINGS: dict[str, ModuleType] = {"events": events, "notes": legacy}
DEFAULT = "events"


def get(name: str, flag: str = "--encoding") -> ModuleType:
    """The module (with `encode(notes)` and `decode(tokens)`) of the encoding called `name`."""
    if name not in ENCODINGS:
        raise UsageError(f"{flag} is {name!r}; use one of: {', '.join(ENCODINGS)}")
    return ENCODINGS[name]


def decode(tokens: Sequence[str], metadata: dict) -> list[Note]:
    """The notes of `tokens` in the encoding the vocabulary metadata names."""
    return get(metadata.get("encoding", DEFAULT), "the vocabulary's encoding").decode(tokens)
