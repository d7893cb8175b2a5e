"""Look inside a trained model: one HTML page of the input coloured by its LSTM units.

    python -m lstm_core.inspection --model_name ts --text $'ROMEO:\\nBut soft!...' \\
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
  newline, position in the word; for music, pitch, note onsets, program and position in the
  bar (`features.music_features`). Click a row to colour the text by that unit.

``--png`` saves a picture of the same view: a screenshot by headless Chromium when one is
installed (``chromium``, ``chromium-browser``, ``google-chrome``), else a plain drawing of the
same coloured cells and gate stripes with the characters left out (no font library needed).

The parts: `features` (what units are ranked by), `activations` (running the model), `page`
(with ``page.html``, ``page.css``, ``page.js``), `picture` and `inspection` (all of it for one
model and input).
"""

from __future__ import annotations

from typing import Sequence

from absl import flags

from lstm_core import cli
from lstm_core.files import atomic_write
from lstm_core.inspection.features import STATES
from lstm_core.inspection.inspection import inspect
from lstm_core.inspection.picture import PICTURES, write_picture
from lstm_core.progress import Terminal

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
                    FLAGS.layer, FLAGS.unit, FLAGS.state, FLAGS.top, Terminal().report)
    atomic_write(FLAGS.output_file, found.page.encode("utf-8"))
    layer, state, unit = found.selected
    print(f"wrote {FLAGS.output_file}: coloured by layer {layer}, {state} state, unit {unit}")
    for r in found.ranked[:5]:
        print(f"  layer {r.layer} {r.state} unit {r.unit}: {r.feature} r = {r.correlation:+.3f}")
    if FLAGS.png:
        kind = write_picture(FLAGS.output_file, FLAGS.png, found, FLAGS.png_width)
        print(f"wrote {FLAGS.png}: {PICTURES[kind]}")


if __name__ == "__main__":
    define_flags()
    cli.run(main)
