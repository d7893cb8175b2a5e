"""Inspecting a saved model: load it and an input, run it from a zero state, rank its units and
build the page (`lstm_core.inspection.page`)."""

from __future__ import annotations

from typing import NamedTuple

from lstm_core.errors import UsageError
from lstm_core.kinds import Family
from lstm_core.inspection.activations import run_model
from lstm_core.inspection.features import (Ranked, music_features, rank_units,
                                            text_features)
from lstm_core.inspection.page import build_page
from lstm_core.progress import Report, silent_report


def load_input(vocabulary, text: str | None, text_file: str | None, midi: str | None,
               report: Report = silent_report) -> list[str] | str:
    given = [name for name, value in (("--text", text), ("--text_file", text_file),
                                      ("--midi", midi)) if value is not None]
    if len(given) != 1:
        raise UsageError("give exactly one input: --text, --text_file or --midi "
                         f"(got {', '.join(given) or 'none'})")
    if vocabulary.family is Family.JAZZ:
        raise UsageError("this model reads jazz grammar tokens (--encoding jazz), which "
                         "lstm_core.inspection does not colour; inspect a text model, or a music "
                         "model trained with another --encoding")
    if midi is not None:
        if vocabulary.is_text:
            raise UsageError(f"--midi {midi}: this is a text model ({vocabulary.kind}); give "
                             "--text or --text_file")
        from lstm_core.music.generation import primer_from_midi  # as sample.py reads it

        return primer_from_midi(midi, vocabulary.tokens, vocabulary.metadata, flag="--midi",
                                report=report)
    if not vocabulary.is_text:
        raise UsageError(f"this model reads music ({vocabulary.kind} tokens); give --midi FILE")
    if text_file is not None:
        from lstm_core.preprocessing import read_text_file

        text = read_text_file(text_file, flag="--text_file")
    if not text:
        raise UsageError("the input is empty; give some text to run the model over")
    lacking = vocabulary.missing(text) if vocabulary.unknown_token is None else []
    if lacking:
        from lstm_core.preprocessing import describe_tokens

        source = "--text" if text_file is None else f"--text_file {text_file}"
        raise UsageError(f"{source} has {len(lacking)} character(s) that the model's vocabulary "
                         f"lacks: {describe_tokens(lacking)}; leave them out of the text")
    return text


class Inspection(NamedTuple):
    """What `inspect` found: the HTML page, the ranked units, the activations (`run_model`'s
    dict), the unit the page is coloured by as `(layer, state, unit)`, the input's tokens, and
    whether they are characters (else music events)."""
    page: str
    ranked: list[Ranked]
    values: dict
    selected: tuple[int, str, int]
    tokens: list[str]
    is_text: bool


def inspect(model_name: str, logdir: str, text: str | None = None,
            text_file: str | None = None, midi: str | None = None,
            layer: int | None = None, unit: int | None = None, state: str = "cell",
            top: int = 20, report: Report = silent_report) -> Inspection:
    """Runs the model over the input from a zero state and ranks its units (a note or warning,
    such as a lost checkpoint index or MIDI tokens the model never saw, goes to `report`)."""
    from lstm_core.saved import ModelFolder

    model, vocabulary, config = ModelFolder(logdir, model_name).load(report=report)
    if layer is not None and not 0 <= layer < config.layers:
        raise UsageError(f"--layer {layer}: model {model_name} has layers 0 to "
                         f"{config.layers - 1}")
    if unit is not None and not 0 <= unit < config.units:
        raise UsageError(f"--unit {unit}: model {model_name} has units 0 to {config.units - 1}")
    tokens = load_input(vocabulary, text, text_file, midi, report)
    ids = vocabulary.encode(tokens, source="--text" if vocabulary.is_text else "--midi")
    values = run_model(model, ids)
    tokens = list(tokens)
    features = text_features("".join(tokens)) if vocabulary.is_text else music_features(tokens)
    ranked = rank_units(values, features, config.layers, top=top)
    if unit is None and layer is None and ranked:
        selected = (ranked[0].layer, ranked[0].state, ranked[0].unit)
    else:
        selected = (layer or 0, state, unit or 0)
    page = build_page(model_name, tokens, vocabulary.is_text, values, ranked, selected,
                      config.layers, config.units)
    return Inspection(page, ranked, values, selected, tokens, vocabulary.is_text)
