"""Export a trained model for use without this package: a TensorFlow SavedModel, and its step
as TensorFlow Lite.

    python -m lstm_core.export --model_name lyrics --output_dir exported/lyrics

writes ``exported/lyrics/`` (a SavedModel: ``tf.saved_model.load`` in any TensorFlow program,
TF Serving, ``saved_model_cli show --dir exported/lyrics --all``) with the signatures

    generate       primer_ids int32 [streams, time], length int32, temperature float32,
                   top_k int32, top_p float32, random_seed int64
                   → ids int32 [streams, length], log_likelihood float32 [streams]
    generate_text  (text models) seed string, length, temperature, top_k, top_p, random_seed
                   → text string (the continuation, without the seed), log_likelihood float32
    step           tokens int32 [streams], state float32 [layers, 2, streams, units]
                   (each layer's hidden and cell state; zeros to start)
                   → logits float32 [streams, vocabulary], state (the same shape)

A model with attention (``--attention_length N``) has its step take and give also
``window`` float32 [streams, N, units] (the top layer's last N outputs; zeros to start); one
with lookback (``--lookback``), the bar memory of `lstm_core.lookback`: ``bar_position`` and
``bar_waiting`` int32 [streams] (zeros to start) and ``bar_bars`` int32 [streams, 3, P+1] (P the
positions of a bar; the vocabulary size to start).

and ``assets/vocabulary.vocab`` (the model's vocabulary file: id i is the i-th token), plus
``step.tflite``: the step for TensorFlow Lite (`tf.lite.Interpreter`, or LiteRT on a phone).
`generate` and `generate_text` run the sampler's own compiled loop, so for the same settings
they write what `sample.py` writes. The export is built in a folder beside ``--output_dir`` and
renamed into place when complete; missing parent folders are created. ``--overwrite`` replaces
only a folder an export wrote (it holds ``.lstm-core-export``; see docs/files.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile

from lstm_core import cli
from lstm_core.files import (EXPORT_MARKER, check_output_folder, new_folders,
                             require_model_folder, writing)


def check_paths() -> None:
    """The model and the folder to write, checked before TensorFlow loads."""
    from absl import flags

    require_model_folder(flags.FLAGS.logdir, flags.FLAGS.model_name)
    check_output_folder("output_dir", flags.FLAGS.output_dir, flags.FLAGS.overwrite)


def main(checked: None) -> None:  # `check_paths` checked the flags; it returns nothing
    import sys

    from absl import flags

    from lstm_core.export import TFLITE_FILE, export  # this file as a module: with TensorFlow
    from lstm_core.saved import ModelFolder

    FLAGS = flags.FLAGS
    folder = ModelFolder(FLAGS.logdir, FLAGS.model_name)
    model, vocabulary, _ = folder.load(report=lambda line: print(line, file=sys.stderr))
    export(model, vocabulary, folder.vocabulary, FLAGS.output_dir, FLAGS.overwrite)
    names = "generate, generate_text, step" if vocabulary.is_text else "generate, step"
    print(f"wrote {FLAGS.output_dir}: a SavedModel with the signatures {names} (list them with "
          f"saved_model_cli show --dir {FLAGS.output_dir} --all), the vocabulary in assets/, "
          f"and the step for TensorFlow Lite in {os.path.join(FLAGS.output_dir, TFLITE_FILE)}")


# The app comes before TensorFlow's import, so that its flags and paths are checked first;
# `cli.run` exits, and `main` imports this file again as the module `lstm_core.export`.
if __name__ == "__main__":
    from absl import flags

    flags.DEFINE_string("model_name", "lyrics", "The model to export (logs/<model_name>/).")
    flags.DEFINE_string("logdir", "logs", "Folder of the models.")
    flags.DEFINE_string("output_dir", None, "The folder to write, with its missing parents (it "
                        "must not exist or be empty, unless --overwrite).")
    flags.DEFINE_bool("overwrite", False, "Replace an existing --output_dir that an export wrote "
                      "(it holds .lstm-core-export), once the new export is complete.")
    flags.mark_flag_as_required("output_dir")
    cli.run(main, interrupted="interrupted: nothing was written (no partial export is left)",
            check=check_paths)

import tensorflow as tf  # noqa: E402

from lstm_core import checkpoints  # noqa: E402
from lstm_core.model import LanguageModel, lstm_part  # noqa: E402
from lstm_core.preprocessing import Vocabulary  # noqa: E402
from lstm_core.sampler import Sampler  # noqa: E402
from lstm_core.training_state import (beyond_lstm, pack_state, unpack_state,  # noqa: E402
                                      with_parts)

CHUNK_LENGTH = 100  # tokens per compiled call of the exported loop
TFLITE_FILE = "step.tflite"
SETTINGS = (tf.TensorSpec([], tf.int32, "length"), tf.TensorSpec([], tf.float32, "temperature"),
            tf.TensorSpec([], tf.int32, "top_k"), tf.TensorSpec([], tf.float32, "top_p"),
            tf.TensorSpec([], tf.int64, "random_seed"))


class ExportedModel(tf.Module):
    """The model, its sampler and its vocabulary, as the SavedModel's signatures see them."""

    def __init__(self, model: LanguageModel, vocabulary: Vocabulary, vocabulary_file: str):
        super().__init__(name="exported_model")
        config = model.config
        self.model = model
        self.sampler = Sampler(model, chunk_length=CHUNK_LENGTH)
        self.vocabulary_file = tf.saved_model.Asset(vocabulary_file)
        self.tokens = tf.constant(vocabulary.tokens)
        self.is_text = vocabulary.is_text
        if self.is_text:
            self.ids = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
                self.tokens, tf.range(len(vocabulary), dtype=tf.int32)), default_value=-1)
            self.space = vocabulary.ids.get(" ", -1)  # what characters it lacks become
            self.generate_text = tf.function(self._generate_text, input_signature=(
                tf.TensorSpec([], tf.string, "seed"), *SETTINGS))
        self.generate = tf.function(self._generate, input_signature=(
            tf.TensorSpec([None, None], tf.int32, "primer_ids"), *SETTINGS))
        step_inputs = (tf.TensorSpec([None], tf.int32, "tokens"),
                       tf.TensorSpec([config.layers, 2, None, config.units], tf.float32, "state"))
        # The state beyond the LSTM's (attention window, bar memory), named without "carried_".
        self.parts = {name: name.removeprefix("carried_")
                      for name in beyond_lstm(model.initial_state(1))}
        parts = [tf.TensorSpec([None, *value.shape[1:]], value.dtype, self.parts[name])
                 for name, value in beyond_lstm(model.initial_state(1)).items()]
        self.step = tf.function(self._step, input_signature=(*step_inputs, *parts))

    def signatures(self) -> dict:
        signatures = {"generate": self.generate, "step": self.step}
        if self.is_text:
            signatures["generate_text"] = self.generate_text
        return signatures

    def _generate(self, primer_ids, length, temperature, top_k, top_p, random_seed):
        tf.debugging.assert_greater(tf.shape(primer_ids)[1], 0,
                                    "primer_ids needs at least one token per stream")
        tf.debugging.assert_less(tf.reduce_max(primer_ids), len(self.tokens),
                                 "primer_ids holds ids outside the vocabulary")
        ids, log_likelihood = self.sampler.generate_in_graph(
            primer_ids, length, random_seed, temperature, top_k, top_p)
        return {"ids": ids, "log_likelihood": log_likelihood}

    def _generate_text(self, seed, length, temperature, top_k, top_p, random_seed):
        """As `sample.py --seed`: characters the vocabulary lacks become a space (dropped when
        it has none)."""
        ids = self.ids.lookup(tf.strings.unicode_split(seed, "UTF-8"))
        ids = (tf.where(ids < 0, self.space, ids) if self.space >= 0
               else tf.boolean_mask(ids, ids >= 0))
        tf.debugging.assert_greater(tf.size(ids), 0,
                                    "seed is empty (or has no character the model knows)")
        generated = self._generate(ids[None], length, temperature, top_k, top_p, random_seed)
        return {"text": tf.strings.reduce_join(tf.gather(self.tokens, generated["ids"][0])),
                "log_likelihood": generated["log_likelihood"][0]}

    def _step(self, tokens, state, *parts):
        logits, new_state = self.model.step(tokens, with_parts(unpack_state(state),
                                                               dict(zip(self.parts, parts))))
        return {"logits": logits, "state": pack_state(lstm_part(new_state)),
                **{self.parts[name]: value for name, value in beyond_lstm(new_state).items()}}


def export(model: LanguageModel, vocabulary: Vocabulary, vocabulary_file: str, output_dir: str,
           overwrite: bool = False) -> None:
    """Writes the SavedModel, ``step.tflite`` and `EXPORT_MARKER` into `output_dir` (and its
    missing parents): built beside it, then renamed into place, so that `output_dir` is never
    half written. An existing one that holds files is replaced only with `overwrite`, only when
    an export wrote it, and only once the new export is complete; a full disk is one line and
    leaves nothing behind (see docs/files.md)."""
    check_output_folder("output_dir", output_dir, overwrite)
    output_dir = os.path.realpath(output_dir)  # a link to the folder stays a link
    parent = os.path.dirname(output_dir)
    # The SavedModel's variables, and their copy in the TFLite step.
    needed = 2 * checkpoints.size(tf.train.Checkpoint(model=model))
    with new_folders(parent), writing(output_dir, needed):
        # Built inside a private folder beside `output_dir` (same file system: renames are
        # atomic), in a subfolder that the save creates with the user's permissions.
        workspace = tempfile.mkdtemp(dir=parent,
                                     prefix=f".{os.path.basename(output_dir)}.partial-")
        building, replaced = os.path.join(workspace, "export"), os.path.join(workspace, "replaced")
        try:
            module = ExportedModel(model, vocabulary, vocabulary_file)
            tf.saved_model.save(module, building, signatures=module.signatures())
            converter = tf.lite.TFLiteConverter.from_concrete_functions(
                [module.step.get_concrete_function()], module.model)
            with open(os.path.join(building, TFLITE_FILE), "wb") as f:
                f.write(converter.convert())
            with open(os.path.join(building, EXPORT_MARKER), "w", encoding="utf-8") as f:
                f.write("written by python -m lstm_core.export: --overwrite may replace this "
                        "folder\n")
            if os.path.exists(output_dir):
                os.rename(output_dir, replaced)
            os.rename(building, output_dir)
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
