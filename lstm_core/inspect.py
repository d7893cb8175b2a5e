"""Look inside a trained model: one HTML page of the input coloured by its LSTM units.

    python -m lstm_core.inspect --model_name ts --text $'ROMEO:\\nBut soft!...' \\
        --output_file cells.html --png cells.png

runs the model over the input (from a zero state) and writes one self-contained page (inline
CSS and JavaScript, nothing fetched):

- the input, each character (or music event) coloured by the activation of one unit: its cell
  state c or hidden state h, red for positive, blue for negative, full colour at the unit's
  largest absolute value over the input (``--layer``, ``--unit``,
  ``--state``; by default the best-ranked unit below);
- under each character, four stripes: the unit's input, forget and output gates (white 0 to
  black 1) and its candidate g (blue -1, red +1), one set per step; hovering a character shows
  the values;
- a ranked list of the units whose activation best tracks simple features of the input (Pearson
  correlation over the steps): inside quotes or brackets, position in the line, right after a
  newline, position in the word; for music, pitch and position in the beat and bar. Click a row
  to colour the text by that unit.

``--png`` saves a picture of the same view: a screenshot by headless Chromium when one is
installed (``chromium``, ``chromium-browser``, ``google-chrome``), else a plain drawing of the
same coloured cells and gate stripes with the characters left out (no font library needed).
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import shutil
import subprocess
import tempfile
from typing import NamedTuple, Sequence

import numpy as np

from lstm_core import cli
from lstm_core.errors import UsageError
from lstm_core.files import atomic_write
from lstm_core.png import write_png

from absl import flags

FIELDS = ("cell", "hidden", "input_gate", "forget_gate", "output_gate", "candidate")
STATES = ("cell", "hidden")
MAX_EMBEDDED_BYTES = 2_000_000  # beyond this, only the ranked units' values go into the page


# ---- features of the input ------------------------------------------------------------------
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


# ---- ranking units --------------------------------------------------------------------------
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


# ---- running the model ----------------------------------------------------------------------
def run_model(model, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's activations over `ids` from a zero state: ``layer_N/field`` ↦
    `[time, units]`, fields as in `lstm_core.cell.LSTMActivations`."""
    import tensorflow as tf

    from lstm_core.summaries import trace_model

    tokens = tf.constant(np.asarray(ids, np.int32)[None, :])
    _, traces, _ = tf.function(lambda t: trace_model(model, t))(tokens)
    return {f"layer_{n}/{field}": getattr(trace, field).numpy()[:, 0, :]
            for n, trace in enumerate(traces) for field in FIELDS}


# ---- the page -------------------------------------------------------------------------------
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


_STYLE = """
body{font-family:system-ui,sans-serif;margin:20px;color:#222;max-width:1160px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:15px;margin:18px 0 6px}
.sub{color:#555;font-size:13px}
#text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:15px;line-height:1;
 border:1px solid #ccc;padding:8px;background:#fff}
.k{display:inline-block;text-align:center;min-width:9px;margin:0 0 3px 0;cursor:default}
.k b{display:block;padding:2px 0 1px;font-weight:normal;white-space:pre}
.k i{display:block;height:3px}
.ev{margin:0 2px}
#gates-off:checked ~ #text .k i{display:none}
table{border-collapse:collapse;font-size:13px} td,th{padding:2px 8px;text-align:left}
tr.r{cursor:pointer} tr.r:hover{background:#eef} tr.sel{background:#dde6ff}
.sw{display:inline-block;width:14px;height:10px;vertical-align:middle}
#info{font-family:ui-monospace,monospace;font-size:12px;height:16px;color:#333}
"""

_SCRIPT = r"""
const D = JSON.parse(document.getElementById('data').textContent);
function decode(s){const b=atob(s);const a=new Float32Array(b.length);
 for(let k=0;k<b.length;k++)a[k]=b.charCodeAt(k)/255;return a;}
function series(layer,field,unit){const e=D.units[layer+'/'+unit];if(!e||!e[field])return null;
 const [lo,hi,s]=e[field];const a=decode(s);for(let k=0;k<a.length;k++)a[k]=lo+a[k]*(hi-lo);return a;}
function div(v){v=Math.max(-1,Math.min(1,v));const f=Math.round(255*(1-Math.abs(v)));
 return v>=0?`rgb(255,${f},${f})`:`rgb(${f},${f},255)`;}
function grey(v){const l=Math.round(255*(1-Math.max(0,Math.min(1,v))));return `rgb(${l},${l},${l})`;}
let current=null;
function colour(layer,state,unit){
 const s=series(layer,state,unit); if(!s){document.getElementById('info').textContent=
  'unit '+unit+' of layer '+layer+' is not in this page (too long an input: only ranked units kept)';return;}
 const scale=Math.max(...s.map(Math.abs))||1;
 const g=['input_gate','forget_gate','output_gate','candidate'].map(f=>series(layer,f,unit));
 const ks=document.querySelectorAll('#text .k');
 ks.forEach((k,t)=>{k.firstChild.style.background=div(s[t]/scale);const st=k.querySelectorAll('i');
  if(g[0]){st[0].style.background=grey(g[0][t]);st[1].style.background=grey(g[1][t]);
  st[2].style.background=grey(g[2][t]);st[3].style.background=div(g[3][t]);}});
 current={layer,state,unit,s,g};
 document.getElementById('which').textContent=`layer ${layer}, ${state} state, unit ${unit}`;
 document.getElementById('scale').textContent=scale.toFixed(2);
 document.querySelectorAll('tr.r').forEach(r=>r.classList.toggle('sel',
  r.dataset.layer==layer&&r.dataset.state==state&&r.dataset.unit==unit));
 document.getElementById('layer').value=layer;document.getElementById('state').value=state;
 document.getElementById('unit').value=unit;
}
document.querySelectorAll('tr.r').forEach(r=>r.addEventListener('click',()=>
 colour(+r.dataset.layer,r.dataset.state,+r.dataset.unit)));
document.getElementById('show').addEventListener('click',()=>colour(
 +document.getElementById('layer').value,document.getElementById('state').value,
 +document.getElementById('unit').value));
document.querySelectorAll('#text .k').forEach((k,t)=>k.addEventListener('mouseover',()=>{
 if(!current)return;const c=current,f=x=>x?x[t].toFixed(2):'?';
 document.getElementById('info').textContent=`step ${t} ${JSON.stringify(D.tokens[t])}: `+
  `${c.state} ${c.s[t].toFixed(3)}  i ${f(c.g[0])}  f ${f(c.g[1])}  o ${f(c.g[2])}  g ${f(c.g[3])}`;}));
colour(D.selected.layer,D.selected.state,D.selected.unit);
"""


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
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Inside {html.escape(model_name)}</title><style>{_STYLE}</style></head>
<body>
<h1>Inside model {html.escape(model_name)}</h1>
<div class="sub">{len(tokens)} {"characters" if is_text else "events"}, {layers} layers of
{units} units. Coloured by <strong id="which">layer {layer}, {state} state, unit {unit}</strong>
<span class="legend">&nbsp;&minus;<span id="scale"></span> {legend} +</span>;
stripes under each {"character" if is_text else "event"}: input, forget, output gate
<span class="legend">0 {gate_legend} 1</span> and candidate g (blue &minus;1, red +1).{note}</div>
<p class="sub">layer <select id="layer">{layer_options}</select>
state <select id="state">{state_options}</select>
unit <input id="unit" type="number" min="0" max="{units - 1}" value="{unit}" style="width:60px">
<button id="show">colour</button></p>
<input type="checkbox" id="gates-off"><label for="gates-off" class="sub"> hide the gate
stripes</label>
<div id="info"></div>
<div id="text">{"".join(cells)}</div>
<h2>Units that track features of the input</h2>
<div class="sub">Pearson correlation over the {len(tokens)} steps between a unit's activation and
a feature of the input read so far; click a row to colour the text by that unit.</div>
<table><tr><th>#</th><th>layer</th><th>state</th><th>unit</th><th>feature</th>
<th>correlation</th></tr>{"".join(rows)}</table>
<script type="application/json" id="data">{script_data}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


# ---- the picture ----------------------------------------------------------------------------
def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_screenshot(html_path: str, png_path: str, width: int, height: int,
                        browser: str | None = None, timeout: float = 90.0) -> bool:
    """Screenshots `html_path` with headless Chromium; returns whether it wrote `png_path`."""
    browser = browser or find_chromium()
    if browser is None:
        return False
    with tempfile.TemporaryDirectory() as profile:
        # Into the temporary folder, then written as every output is (lstm_core.files).
        screenshot = os.path.join(profile, "screenshot.png")
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
                   f"--screenshot={screenshot}", f"--window-size={width},{height}",
                   "file://" + os.path.abspath(html_path)]
        try:
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        if not os.path.exists(screenshot) or os.path.getsize(screenshot) == 0:
            return False
        with open(screenshot, "rb") as f:
            atomic_write(png_path, f.read())
    return True


def draw_cells(tokens: Sequence[str], is_text: bool, backgrounds: list, stripes: list,
               columns: int = 100, cell: int = 10, height: int = 14) -> np.ndarray:
    """The page's coloured text as a picture without glyphs: one cell per character (or event),
    wrapped at newlines and at `columns`, with the four gate stripes under each."""
    positions, row, column = [], 0, 0
    for token in tokens:
        if column >= columns:
            row, column = row + 1, 0
        positions.append((row, column))
        column += 1
        if is_text and token == "\n":
            row, column = row + 1, 0
    rows = (positions[-1][0] + 1) if positions else 1
    line = height + 4 * 2 + 4
    margin = 8
    image = np.full([margin * 2 + rows * line, margin * 2 + columns * cell, 3], 255, np.uint8)
    for (r, c), background, stripe in zip(positions, backgrounds, stripes):
        y, x = margin + r * line, margin + c * cell
        image[y:y + height, x:x + cell - 1] = background
        for k, colour in enumerate(stripe):
            image[y + height + 2 * k:y + height + 2 * k + 2, x:x + cell - 1] = colour
    return image


# ---- the command ----------------------------------------------------------------------------
def load_input(vocabulary, text: str | None, text_file: str | None, midi: str | None
               ) -> list[str] | str:
    given = [name for name, value in (("--text", text), ("--text_file", text_file),
                                      ("--midi", midi)) if value is not None]
    if len(given) != 1:
        raise UsageError("give exactly one input: --text, --text_file or --midi "
                         f"(got {', '.join(given) or 'none'})")
    if vocabulary.family == "jazz":
        raise UsageError("this model reads jazz grammar tokens (--encoding jazz), which "
                         "lstm_core.inspect does not colour; inspect a text model, or a music "
                         "model trained with another --encoding")
    if midi is not None:
        if vocabulary.is_text:
            raise UsageError(f"--midi {midi}: this is a text model ({vocabulary.kind}); give "
                             "--text or --text_file")
        from lstm_core.music.generation import primer_from_midi  # as sample.py reads it

        return primer_from_midi(midi, vocabulary.tokens, vocabulary.metadata, flag="--midi")
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
            top: int = 20) -> Inspection:
    """Runs the model over the input from a zero state and ranks its units."""
    from lstm_core.saved import ModelFolder

    model, vocabulary, config = ModelFolder(logdir, model_name).load()
    if layer is not None and not 0 <= layer < config.layers:
        raise UsageError(f"--layer {layer}: model {model_name} has layers 0 to "
                         f"{config.layers - 1}")
    if unit is not None and not 0 <= unit < config.units:
        raise UsageError(f"--unit {unit}: model {model_name} has units 0 to {config.units - 1}")
    tokens = load_input(vocabulary, text, text_file, midi)
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


FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("model_name", "lyrics", "The model in <logdir>/<model_name>.")
    flags.DEFINE_string("logdir", "logs", "Folder of the models.")
    flags.DEFINE_string("text", None, "Text to run the model over (text models); for newlines "
                      "use the shell's $'...' quoting or --text_file.")
    flags.DEFINE_string("text_file", None, "UTF-8 file to run the model over (text models).")
    flags.DEFINE_string("midi", None, "MIDI file to run the model over (music models).")
    flags.DEFINE_string("output_file", "cells.html", "The HTML page to write.")
    flags.DEFINE_string("png", None, "Also save a picture of the page here.")
    flags.DEFINE_integer("layer", None, "Colour by a unit of this layer (default: the "
                         "best-ranked unit's).")
    flags.DEFINE_integer("unit", None, "Colour by this unit (default: the best-ranked).")
    flags.DEFINE_enum("state", "cell", list(STATES), "With --layer or --unit: colour by the cell "
                      "state c or the hidden state h of that unit (without them, the "
                      "best-ranked unit is shown in its own state).")
    flags.DEFINE_integer("top", 20, "Units in the ranked list.")
    flags.DEFINE_integer("png_width", 1200, "Width of the picture in pixels.")
    flags.DEFINE_bool("overwrite", False, "Replace output files that exist already.")


def main(argv: Sequence[str]) -> None:
    cli.require_positive(top=FLAGS.top, png_width=FLAGS.png_width)
    cli.require_output_paths(FLAGS.overwrite, output_file=FLAGS.output_file, png=FLAGS.png)
    found = inspect(FLAGS.model_name, FLAGS.logdir, FLAGS.text, FLAGS.text_file, FLAGS.midi,
                    FLAGS.layer, FLAGS.unit, FLAGS.state, FLAGS.top)
    atomic_write(FLAGS.output_file, found.page.encode("utf-8"))
    layer, state, unit = found.selected
    print(f"wrote {FLAGS.output_file}: coloured by layer {layer}, {state} state, unit {unit}")
    for r in found.ranked[:5]:
        print(f"  layer {r.layer} {r.state} unit {r.unit}: {r.feature} r = {r.correlation:+.3f}")
    if FLAGS.png:
        write_picture(FLAGS.output_file, FLAGS.png, found, FLAGS.png_width)


def picture_height(found: Inspection, width: int) -> int:
    """Pixels the page needs at `width`: the header, the coloured input (a text line wraps
    into rows of about 10 px a character; music events sit in one flow of cells, each as wide
    as its name plus its margins), and the ranked list."""
    characters_per_row = max(1, (width - 60) // 10)
    if found.is_text:
        line_lengths = [len(line) for line in "".join(found.tokens).split("\n")]
    else:
        line_lengths = [sum(len(token) + 1 for token in found.tokens)]
    rows = sum(max(1, math.ceil(length / characters_per_row)) for length in line_lengths)
    return min(8000, 240 + rows * 30 + len(found.ranked) * 22 + 90)


def write_picture(html_path: str, png_path: str, found: Inspection, width: int = 1200) -> str:
    """The page at `html_path` as a PNG: Chromium's screenshot, or the glyph-less drawing.
    Returns which."""
    if chromium_screenshot(html_path, png_path, width, picture_height(found, width)):
        print(f"wrote {png_path}: a screenshot by headless Chromium")
        return "chromium"
    backgrounds, stripes = unit_colours(found.values, *found.selected)
    write_png(png_path, draw_cells(found.tokens, found.is_text, backgrounds, stripes))
    print(f"wrote {png_path}: no Chromium found, so a plain drawing of the coloured cells and "
          "gate stripes, without the characters")
    return "drawing"


if __name__ == "__main__":
    define_flags()
    cli.run(main)
