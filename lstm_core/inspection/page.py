"""The inspection page: one self-contained HTML file (inline CSS and JavaScript, nothing
fetched) of the input coloured by one unit, with its gate stripes and the ranked units.

The markup, style and script live beside this module as ``page.html`` (a `string.Template`),
``page.css`` and ``page.js``; this module fills them in. The data the script reads is one JSON
block: per kept unit and field, its range and its values quantised to one byte (base64).
"""

from __future__ import annotations

import base64
import html
import json
import string
from importlib import resources
from typing import Sequence

import numpy as np

from lstm_core.inspection.activations import FIELDS
from lstm_core.inspection.features import STATES, Ranked

MAX_EMBEDDED_BYTES = 2_000_000  # beyond this, only the ranked units' values go into the page


def _resource(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _quantise(series: np.ndarray, low: float, high: float) -> str:
    scaled = np.clip((series - low) / (high - low), 0.0, 1.0) * 255.0
    return base64.b64encode(np.round(scaled).astype(np.uint8).tobytes()).decode("ascii")


def _range(field: str, series: np.ndarray) -> tuple[float, float]:
    if field.endswith("_gate"):
        return 0.0, 1.0
    if field in ("hidden", "candidate"):
        return -1.0, 1.0
    bound = float(np.max(np.abs(series))) or 1.0  # the cell state is unbounded
    return -bound, bound


def diverging(value: float) -> tuple[int, int, int]:
    """-1 blue, 0 white, +1 red."""
    v = max(-1.0, min(1.0, value))
    fade = int(round(255 * (1 - abs(v))))
    return (255, fade, fade) if v >= 0 else (fade, fade, 255)


def grey(value: float) -> tuple[int, int, int]:
    """0 white, 1 black."""
    level = int(round(255 * (1 - max(0.0, min(1.0, value)))))
    return level, level, level


def _css(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


def unit_colours(values: dict[str, np.ndarray], layer: int, state: str, unit: int
                 ) -> tuple[list, list]:
    """Per step, the background of the character and the colours of its four gate stripes."""
    series = values[f"layer_{layer}/{state}"][:, unit]
    scale = float(np.max(np.abs(series))) or 1.0  # the unit's own range, as the page's script
    backgrounds = [diverging(v / scale) for v in series]
    gates = values[f"layer_{layer}/input_gate"][:, unit], \
        values[f"layer_{layer}/forget_gate"][:, unit], \
        values[f"layer_{layer}/output_gate"][:, unit], \
        values[f"layer_{layer}/candidate"][:, unit]
    stripes = [(grey(i), grey(f), grey(o), diverging(g)) for i, f, o, g in zip(*gates)]
    return backgrounds, stripes


def display_token(token: str) -> str:
    if token == "\n":
        return "\u21b5"
    if token == "\t":
        return "\u21e5"
    if token == " ":
        return "\u00a0"
    return token


def build_page(model_name: str, tokens: Sequence[str], is_text: bool,
               values: dict[str, np.ndarray], ranked: Sequence[Ranked],
               selected: tuple[int, str, int], layers: int, units: int) -> str:
    """The self-contained HTML page (see the module docstring)."""
    layer, state, unit = selected
    kept = {(layer, unit)} | {(r.layer, r.unit) for r in ranked}
    all_units = len(tokens) * layers * units * len(FIELDS) <= MAX_EMBEDDED_BYTES
    if all_units:
        kept = {(n, u) for n in range(layers) for u in range(units)}
    embedded = {}
    for n, u in sorted(kept):
        entry = {}
        for field in FIELDS:
            series = values[f"layer_{n}/{field}"][:, u]
            low, high = _range(field, series)
            entry[field] = [low, high, _quantise(series, low, high)]
        embedded[f"{n}/{u}"] = entry
    data = {"tokens": list(tokens), "units": embedded,
            "selected": {"layer": layer, "state": state, "unit": unit}}

    backgrounds, stripes = unit_colours(values, layer, state, unit)
    cells = []
    for t, token in enumerate(tokens):
        shown = display_token(token) if is_text else token
        stripe_html = "".join(f'<i style="background:{_css(c)}"></i>' for c in stripes[t])
        cells.append(f'<span class="k{"" if is_text else " ev"}"><b style="background:'
                     f'{_css(backgrounds[t])}">{html.escape(shown)}</b>{stripe_html}</span>')
        if is_text and token == "\n":
            cells.append("<br>")
    rows = []
    for rank, r in enumerate(ranked, 1):
        rows.append(f'<tr class="r" data-layer="{r.layer}" data-state="{r.state}" '
                    f'data-unit="{r.unit}"><td>{rank}</td><td>{r.layer}</td><td>{r.state}</td>'
                    f'<td>{r.unit}</td><td>{html.escape(r.feature)}</td>'
                    f'<td>{r.correlation:+.3f}</td></tr>')
    layer_options = "".join(f'<option value="{n}">{n}</option>' for n in range(layers))
    state_options = "".join(f'<option value="{s}">{s}</option>' for s in STATES)
    legend = "".join(f'<span class="sw" style="background:{_css(diverging(v))}"></span>'
                     for v in np.linspace(-1, 1, 9))
    gate_legend = "".join(f'<span class="sw" style="background:{_css(grey(v))}"></span>'
                          for v in np.linspace(0, 1, 5))
    note = "" if all_units else (" Only the ranked units are kept in this page (a long input); "
                                 "rerun with --layer/--unit for another.")
    script_data = json.dumps(data).replace("</", "<\\/")
    return string.Template(_resource("page.html")).substitute(
        model_name=html.escape(model_name), style=_resource("page.css"),
        script=_resource("page.js"), steps=len(tokens),
        step_plural="characters" if is_text else "events",
        step_name="character" if is_text else "event", layers=layers, units=units,
        last_unit=units - 1, layer=layer, state=state, unit=unit, legend=legend,
        gate_legend=gate_legend, note=note, layer_options=layer_options,
        state_options=state_options, cells="".join(cells), rows="".join(rows),
        data=script_data)
