"""The options of training: `TrainOptions`, the one home of each training flag's default and help.

`train.py` defines its flags from these fields, and `lstm_core.training.train` takes them; the
trainer's `TrainingConfig` and the model's `ModelConfig` take their defaults from here. A preset
(``--preset djmodel``) or the jazz encoding sets the options the user did not give
(`with_defaults`). This module imports nothing heavy: the apps read it before TensorFlow loads.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from typing import Iterable

from lstm_core import cli, limits
from lstm_core.kinds import MUSIC_ENCODINGS, Family, TokenKind
from lstm_core.options import option

PRESETS = {
    # deepjazz's model: windows of 30 values, one layer of 64 units, Adam 0.01, 100
    # epochs, zero initial state for each window, greedy decoding when sampling.
    "djmodel": {"sequence_length": 30, "layers": 1, "units": 64,
                "learning_rate": 0.01, "learning_rate_decay": 1.0, "epochs": 100,
                "batch_size": 16, "shuffle": True, "greedy": True},
}
# A jazz solo has about a thousand tokens: smaller batches than text (options given override these).
JAZZ_DEFAULTS = {"batch_size": 8, "sequence_length": 32, "epochs": 60}
# Music of the event encodings attends over the last 64 outputs, about a bar of piano in REMI:
# measured to lower the validation loss and to repeat more at 1 and 2 bars (docs/music.md).
# Lookback inputs where the tokens mark bars (REMI; elsewhere the option is moot): measured to
# write more notes per bar at the same validation loss (docs/music.md).
MUSIC_DEFAULTS = {"attention_length": 64, "lookback": True, "forget_bias": 1.0}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainOptions:
    training_file: str | None = option(
        None, "What to learn: a UTF-8 text file, or music: a MIDI, MusicXML, Humdrum or ABC "
        "file, a folder or glob of them, music21:NAME, a prepared token file. Default: the "
        "lyrics of music21's Bach chorales, built into data/ at first use.")
    vocabulary_file: str | None = option(
        None, "Vocabulary file: reused when it exists, else created (default: the training "
        "file's name with .vocab; for a folder, glob or music21:NAME, data/<model_name>.vocab).")
    model_name: str = option("lyrics", "Name of the model: logs/<model_name>/ holds it.")
    logdir: str = option("logs", "Folder of the models, their checkpoints and TensorBoard logs "
                         "(as in tensorboard --logdir logs).")
    # The flags' older names (`aliases`) are from before they were named as the fields of
    # TrainingConfig and ModelConfig.
    epochs: int = option(10, "Full passes over the training data (with --max_steps, only the "
                         "learning-rate decay's pace).", aliases=["epoch"])
    max_steps: int = option(0, "The length of the run in steps, whatever --epochs says (0: "
                            "--epochs passes).")
    minutes: float = option(
        0.0, "Train the best model this many minutes of wall-clock time allow: the model, "
        "batch, learning-rate schedule, dropout and validations are chosen from the corpus size "
        "and the measured speed of this machine (flags given win; see docs/performance.md). "
        "0: off.")
    cpu_seconds: float = option(
        0.0, "As --minutes, for this many seconds of this process's CPU time (every core's), "
        "which other jobs on the machine do not use up. 0: off.")
    batch_size: int = option(50, "Streams per batch.")
    sequence_length: int = option(50, "Tokens per stream per batch (steps of backpropagation "
                                  "through time).")
    learning_rate: float = option(0.002, "Adam's learning rate.")
    learning_rate_decay: float = option(0.97, "Factor applied to the learning rate per epoch.")
    gradient_clip: float = option(5.0, "Clip gradients to this global norm.")
    units: int = option(128, "LSTM units per layer.", aliases=["units_number"])
    layers: int = option(2, "Stacked LSTM layers.", aliases=["layers_number"])
    embedding_size: int = option(64, "Size of the token embedding.")
    dropout: float = option(0.0, "Dropout rate on each LSTM layer's output while training.")
    attention_length: int = option(
        0, "Attention over the top LSTM layer's last N outputs before the output projection, "
        "so that phrases can return (0: none). A new music model of the remi, tsd, midilike or "
        "notes encoding takes 64 unless given; see docs/music.md.")
    lookback: bool = option(
        False, "Music in REMI: feed the model, beside each token, the notes one and two bars "
        "back at the same position in the bar and the position in the bar (Melody RNN's "
        "lookback). A new music model whose tokens mark bars takes it unless given; see "
        "docs/music.md.")
    forget_bias: float = option(
        0.0, "Where the LSTM's forget-gate biases start (1: each cell starts by remembering). A "
        "new music model of the remi, tsd, midilike or notes encoding takes 1 unless given; see "
        "lstm_core/cell.py.")
    validation_fraction: float = option(0.05, "Share of the corpus held out, from its end.")
    validation_every: int = option(
        0, "Validate every N steps (0: once per epoch, but no more often than --log_frequency "
        "nor less than twice a run).")
    validation_tokens: int = option(
        262_144, "Tokens one validation reads: whole batches spread over the validation split, "
        "the same ones every time (0: the whole split).")
    early_stopping: int = option(
        0, "Stop after N validations in a row without a lower validation loss (0: never). The "
        "best checkpoint is kept either way (sample.py --checkpoint best).")
    log_frequency: int = option(100, "Log the training metrics every N steps.")
    checkpoint_every: int = option(1000, "Save a checkpoint every N steps (and at the end, and "
                                   "on Ctrl-C).")
    sample_every: int = option(1000, "Write a generated sample to TensorBoard every N steps "
                               "(0: never).")
    histogram_frequency: int = option(
        100, "Every N steps, write the LSTM's internals to TensorBoard: gate, cell and hidden "
        "state histograms, gate saturation, weights, gradients and gradients through time, on a "
        "fixed batch (the first validation batch, or the first training batch without a "
        "validation split; 0: never; see lstm_core.summaries).")
    shuffle: bool = option(False, "Independent windows in random order, instead of contiguous "
                           "streams whose LSTM state carries from batch to batch.")
    random_seed: int = option(0, "Seed of the weights, dropout and shuffling.")
    allow_unknown: bool = option(False, "When building a vocabulary, add an unknown token that "
                                 "stands for anything it lacks.")
    cluster_timeout: int = option(600, "Under TF_CONFIG: seconds to wait for every worker to "
                                  "come up before giving up with an error (see "
                                  "docs/distributed.md).")
    init_from: str | None = option(
        None, "Fine-tuning: start a new model from the weights of this trained model (a name in "
        "--logdir, or a model folder) with the same layers, units and embedding size; tokens "
        "both vocabularies share keep their rows. See docs/export.md.")
    fresh: bool = option(False, "Start a new model even if logs/<model_name> has one (the old "
                         "folder is kept, renamed).")
    encoding: str = option(
        TokenKind.REMI, "Music: how scores become tokens: MidiTok's remi, tsd or midilike "
        "(every instrument, velocity, tempo, meter and pedal; see docs/music.md), notes (pitch "
        "names and dotted chords) or jazz (chord-relative grammar of a solo).",
        choices=MUSIC_ENCODINGS)
    instruments: str = option("all", "Music: all, or the instruments to learn, comma-separated: "
                              "General MIDI names, families (piano, bass, guitar), program "
                              "numbers 0-127, drums.")
    bpe_vocabulary: int = option(0, "Music: learn MidiTok's BPE on the corpus up to this many "
                                 "tokens, for shorter sequences (0: none).")
    melody_part: str | None = option(None, "Jazz: the solo's part, by index or name (default: "
                                     "guessed).")
    chord_parts: list[str] | None = option(None, "Jazz: the accompaniment's parts, by index or "
                                           "name (default: guessed).")
    preset: str | None = option(None, "A named setup; flags given explicitly override it. "
                                "djmodel: deepjazz's model.", choices=PRESETS)


DEFAULTS = TrainOptions()  # the default of each option, for the configs built from them


def with_defaults(options: TrainOptions, given: Iterable[str]) -> TrainOptions:
    """`options` with the preset's (or the jazz encoding's) values for those not in `given`,
    the names of the options the user set (a `UsageError` for a value not among an option's
    choices)."""
    for field in dataclasses.fields(options):
        value, choices = getattr(options, field.name), field.metadata["choices"]
        if choices is not None and value is not None and value not in choices:
            raise cli.UsageError(f"{field.name} {value!r} is not one of {', '.join(choices)}",
                                 option=field.name)
    values = PRESETS[options.preset] if options.preset else (
        JAZZ_DEFAULTS if options.encoding == TokenKind.JAZZ else {})
    given = set(given)
    # "greedy" is a sampling default, recorded for sample.py.
    return dataclasses.replace(options, **{name: value for name, value in values.items()
                                           if name != "greedy" and name not in given})


def with_music_defaults(options: TrainOptions, kind: TokenKind, given: Iterable[str],
                        saved: dict | None = None) -> TrainOptions:
    """`options` with `MUSIC_DEFAULTS` for those not in `given` when the corpus's `kind` is one
    of the event encodings (not text, not jazz); a model that resumes keeps the values of its
    config, `saved` (``config.json``'s fields; None: a new model)."""
    if kind.family is not Family.MUSIC:
        return options
    return dataclasses.replace(options, **{
        name: (saved or {}).get(name, value) for name, value in MUSIC_DEFAULTS.items()
        if name not in given})


def check(options: TrainOptions) -> None:
    """Raises a `UsageError` for the first option whose value cannot train a model (before any
    file is read), naming it (its `option`); `with_defaults` checks the choices first."""
    cli.require_positive(**{name: getattr(options, name) for name in (
        "epochs", "batch_size", "sequence_length", "learning_rate", "learning_rate_decay",
        "gradient_clip", "units", "layers", "embedding_size", "log_frequency",
        "checkpoint_every", "cluster_timeout")})
    if (options.max_steps < 0 or options.validation_every < 0 or options.sample_every < 0
            or options.histogram_frequency < 0 or options.early_stopping < 0):
        raise cli.UsageError("--max_steps, --validation_every, --sample_every, "
                             "--histogram_frequency and --early_stopping must be 0 (off) or "
                             "positive")
    if options.minutes < 0 or options.cpu_seconds < 0:
        raise cli.UsageError("--minutes and --cpu_seconds must be 0 (off) or positive")
    if options.minutes and options.cpu_seconds:
        raise cli.UsageError("--minutes and --cpu_seconds are two budgets for one run; give one "
                             "of them")
    if options.vocabulary_file and not os.path.exists(options.vocabulary_file):  # before the corpus
        cli.require_output_paths(vocabulary_file=options.vocabulary_file)
    if os.path.exists(options.logdir) and not os.path.isdir(options.logdir):
        raise cli.UsageError(f"logdir {options.logdir} is a file; give a folder for the models",
                             option="logdir")
    if options.learning_rate > limits.MAX_LEARNING_RATE:
        raise cli.UsageError(f"learning_rate {options.learning_rate} is too large for Adam, "
                             "whose steps are about that size; give at most "
                             f"{limits.MAX_LEARNING_RATE:g} (the default is "
                             f"{DEFAULTS.learning_rate})", option="learning_rate")
    if options.learning_rate_decay > 1.0:
        raise cli.UsageError(f"learning_rate_decay {options.learning_rate_decay} would raise "
                             "the learning rate every epoch; give a factor in (0, 1]",
                             option="learning_rate_decay")
    limits.require_training_fits(1, options.embedding_size, options.units,
                                 options.layers, options.batch_size, options.sequence_length)
    if options.attention_length < 0:
        raise cli.UsageError(f"--attention_length is {options.attention_length}; give 0 (no "
                             "attention) or the number of steps to attend over")
    if not 0.0 <= options.dropout < 1.0:
        raise cli.UsageError(f"dropout is {options.dropout}; give a rate in [0, 1)",
                             option="dropout")
    if not 0.0 <= options.validation_fraction < 1.0:
        raise cli.UsageError(f"validation_fraction is {options.validation_fraction}; give a "
                             "share in [0, 1)", option="validation_fraction")
    source = options.training_file
    if (source and not source.startswith("music21:") and not glob.has_magic(source)
            and not os.path.lexists(source)):
        raise cli.UsageError(f"training_file {source} does not exist; check the path (a "
                             "text file, a MIDI or score file, a folder or glob of them, or "
                             "music21:NAME)", option="training_file")
