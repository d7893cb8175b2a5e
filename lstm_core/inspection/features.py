"""What the inspection page ranks units by: simple features of the input, per step, and the units
whose activation best tracks each (Pearson correlation over the steps)."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

STATES = ("cell", "hidden")


def text_features(text: str) -> dict[str, np.ndarray]:
    """Per character, the state of simple features *after* reading it (what the LSTM's state
    at that step could know)."""
    n = len(text)
    features = {name: np.zeros(n) for name in ("inside_quotes", "inside_brackets",
                                               "position_in_line", "after_newline",
                                               "position_in_word")}
    quoted, depth, line, word = False, 0, 0, 0
    for t, ch in enumerate(text):
        if ch in "\"\u201c\u201d":
            quoted = not quoted if ch == '"' else ch == "\u201c"
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        line = 0 if ch == "\n" else line + 1
        word = word + 1 if ch.isalnum() or ch in "'-" else 0
        features["inside_quotes"][t] = quoted
        features["inside_brackets"][t] = depth > 0
        features["position_in_line"][t] = line
        features["after_newline"][t] = ch == "\n"
        features["position_in_word"][t] = word
    return features


def music_features(tokens: Sequence[str]) -> dict[str, np.ndarray]:
    """Per music token (`lstm_core.music.tokenizer`): the pitch of the latest note, whether the
    token starts a note, the latest program (-1: drums), and the position in the bar (REMI's
    ``Position`` tokens, in the tokenizer's steps; 0 in encodings without bars)."""
    from lstm_core.music.tokenizer import base_tokens

    features = {name: np.zeros(len(tokens)) for name in ("pitch", "is_note", "program",
                                                         "position_in_bar")}
    pitch, program, position = 60, 0, 0
    for t, token in enumerate(tokens):
        for base in base_tokens(token):
            kind, _, value = base.partition("_")
            if kind in ("Pitch", "NoteOn", "PitchDrum") and value.lstrip("-").isdigit():
                pitch = int(value)
                features["is_note"][t] = 1
            elif kind == "Program" and value.lstrip("-").isdigit():
                program = int(value)
            elif kind == "Position" and value.isdigit():
                position = int(value)
            elif kind == "Bar":
                position = 0
        features["pitch"][t], features["program"][t] = pitch, program
        features["position_in_bar"][t] = position
    return features


class Ranked(NamedTuple):
    layer: int
    state: str  # "cell" or "hidden"
    unit: int
    feature: str
    correlation: float


def correlations(activations: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of `activations` `[time, units]` with `feature`
    `[time]`; 0 where either is constant."""
    a = activations - activations.mean(axis=0)
    f = feature - feature.mean()
    denominator = np.sqrt((a * a).sum(axis=0) * (f * f).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * f[:, None]).sum(axis=0) / denominator
    return np.nan_to_num(r)


def rank_units(values: dict[str, np.ndarray], features: dict[str, np.ndarray], layers: int,
               per_feature: int = 5, top: int = 20) -> list[Ranked]:
    """The units (cell and hidden states of every layer) that best track each feature: the
    `per_feature` best of each, then the `top` of those by |correlation|."""
    candidates = []
    for name, feature in features.items():
        if np.ptp(feature) == 0:
            continue  # the input never changes this feature: nothing to track
        scored = [Ranked(layer, state, unit, name, float(r))
                  for layer in range(layers) for state in STATES
                  for unit, r in enumerate(correlations(values[f"layer_{layer}/{state}"],
                                                        feature))]
        scored.sort(key=lambda item: -abs(item.correlation))
        candidates += scored[:per_feature]
    candidates.sort(key=lambda item: -abs(item.correlation))
    return candidates[:top]
