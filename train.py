"""Train an LSTM language model on text or music.

    python train.py --training_file lyrics.txt --vocabulary_file lyrics.vocab --model_name lyrics

Everything of the model goes to ``logs/<model_name>/`` (see `lstm_core.saved`). Running the same
command again resumes from the newest checkpoint; ``--fresh`` starts over (the old folder is kept
beside it, renamed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import time
from typing import Sequence

from lstm_core import cli, limits
from lstm_core.corpus import CORPUS_FLAGS
from lstm_core.kinds import MUSIC_ENCODINGS, Family, TokenKind

import numpy as np
from absl import flags


FLAGS = flags.FLAGS
flags.DEFINE_string("training_file", None, "What to learn: a UTF-8 text file, or music: a MIDI, "
                    "MusicXML, Humdrum or ABC file, a folder or glob of them, music21:NAME, a "
                    "prepared token file. Default: the lyrics of music21's Bach chorales, built "
                    "into data/ at first use.")
flags.DEFINE_string("vocabulary_file", None, "Vocabulary file: reused when it exists, else "
                    "created (default: the training file's name with .vocab; for a folder, glob or "
                    "music21:NAME, data/<model_name>.vocab).")
flags.DEFINE_string("model_name", "lyrics", "Name of the model: logs/<model_name>/ holds it.")
flags.DEFINE_string("logdir", "logs", "Folder of the models, their checkpoints and TensorBoard "
                    "logs (as in tensorboard --logdir logs).")
flags.DEFINE_integer("epochs", 10, "Full passes over the training data.")
flags.DEFINE_integer("max_steps", 0, "Stop after this many steps in all (0: no limit).")
flags.DEFINE_integer("batch_size", 50, "Streams per batch.")
flags.DEFINE_integer("sequence_length", 50, "Tokens per stream per batch (steps of "
                     "backpropagation through time).")
flags.DEFINE_float("learning_rate", 0.002, "Adam's learning rate.")
flags.DEFINE_float("learning_rate_decay", 0.97, "Factor applied to the learning rate per epoch.")
flags.DEFINE_float("gradient_clip", 5.0, "Clip gradients to this global norm.")
flags.DEFINE_integer("units", 128, "LSTM units per layer.")
flags.DEFINE_integer("layers", 2, "Stacked LSTM layers.")
flags.DEFINE_integer("embedding_size", 64, "Size of the token embedding.")
flags.DEFINE_float("dropout", 0.0, "Dropout rate on each LSTM layer's output while training.")
flags.DEFINE_float("validation_fraction", 0.05, "Share of the corpus held out, from its end.")
flags.DEFINE_integer("validation_every", 0, "Validate every N steps (0: once per epoch, but no "
                     "more often than --log_frequency nor less than twice a run).")
flags.DEFINE_integer("validation_tokens", 262_144, "Tokens one validation reads: whole batches "
                     "spread over the validation split, the same ones every time (0: the whole "
                     "split).")
flags.DEFINE_integer("early_stopping", 0, "Stop after N validations in a row without a lower "
                     "validation loss (0: never). The best checkpoint is kept either way "
                     "(sample.py --checkpoint best).")
flags.DEFINE_integer("log_frequency", 100, "Log the training metrics every N steps.")
flags.DEFINE_integer("checkpoint_every", 1000, "Save a checkpoint every N steps (and at the "
                     "end, and on Ctrl-C).")
flags.DEFINE_integer("sample_every", 1000, "Write a generated sample to TensorBoard every N "
                     "steps (0: never).")
flags.DEFINE_integer("histogram_frequency", 100, "Every N steps, write the LSTM's internals to "
                     "TensorBoard: gate, cell and hidden state histograms, gate saturation, "
                     "weights, gradients and gradients through time, on a fixed batch (the first "
                     "validation batch, or the first training batch without a validation split; "
                     "0: never; see lstm_core.summaries).")
flags.DEFINE_bool("shuffle", False, "Independent windows in random order, instead of contiguous "
                  "streams whose LSTM state carries from batch to batch.")
flags.DEFINE_integer("random_seed", 0, "Seed of the weights, dropout and shuffling.")
flags.DEFINE_bool("allow_unknown", False, "When building a vocabulary, add an unknown token that "
                  "stands for anything it lacks.")
flags.DEFINE_integer("cluster_timeout", 600, "Under TF_CONFIG: seconds to wait for every "
                     "worker to come up before giving up with an error (see docs/distributed.md).")
flags.DEFINE_string("init_from", None, "Fine-tuning: start a new model from the weights of this "
                    "trained model (a name in --logdir, or a model folder) with the same layers, "
                    "units and embedding size; tokens both vocabularies share keep their rows. "
                    "See docs/export.md.")
flags.DEFINE_bool("fresh", False, "Start a new model even if logs/<model_name> has one (the old "
                  "folder is kept, renamed).")

flags.DEFINE_enum("encoding", TokenKind.REMI, MUSIC_ENCODINGS, "Music: "
                  "how scores become tokens: MidiTok's remi, tsd or midilike (every instrument, "
                  "velocity, tempo, meter and pedal; see docs/music.md), notes (pitch names and "
                  "dotted chords) or jazz (chord-relative grammar of a solo).")
flags.DEFINE_string("instruments", "all", "Music: all, or the instruments to learn, "
                    "comma-separated: General MIDI names, families (piano, bass, guitar), "
                    "program numbers 0-127, drums.")
flags.DEFINE_integer("bpe_vocabulary", 0, "Music: learn MidiTok's BPE on the corpus up to this "
                     "many tokens, for shorter sequences (0: none).")
flags.DEFINE_string("melody_part", None, "Jazz: the solo's part, by index or name (default: "
                    "guessed).")
flags.DEFINE_list("chord_parts", None, "Jazz: the accompaniment's parts, by index or name "
                  "(default: guessed).")
flags.DEFINE_enum("preset", None, list(PRESETS := {
    # deepjazz's model: windows of 30 values, one layer of 64 units, Adam 0.01, 100
    # epochs, zero initial state for each window, greedy decoding when sampling.
    "djmodel": {"sequence_length": 30, "layers": 1, "units": 64,
                "learning_rate": 0.01, "learning_rate_decay": 1.0, "epochs": 100,
                "batch_size": 16, "shuffle": True, "greedy": True},
}), "A named setup; flags given explicitly override it. djmodel: deepjazz's model.")
# A jazz solo has about a thousand tokens: smaller batches than text (flags override these).
JAZZ_DEFAULTS = {"batch_size": 8, "sequence_length": 32, "epochs": 60}

# The flags' names before they were named as the fields of TrainingConfig and ModelConfig.
ALIASES = (("epoch", "epochs"), ("units_number", "units"), ("layers_number", "layers"))
for alias, name in ALIASES:
    flags.DEFINE_alias(alias, name)

MEANINGFUL_VALIDATION = 1000  # tokens: below this, a validation loss is mostly noise
PRIMER_LENGTH = 64  # tokens of each training excerpt kept to start a music sample from

# Flags that decide which token each batch row (and a validation) reads: a resumed run must keep
# them too.
DATA_FLAGS = ("batch_size", "sequence_length", "validation_fraction", "shuffle", "random_seed",
              "validation_tokens")


def apply_defaults() -> None:
    """Sets the preset's (or the jazz encoding's) values of the flags the user did not give."""
    values = PRESETS[FLAGS.preset] if FLAGS.preset else (
        JAZZ_DEFAULTS if FLAGS.encoding == TokenKind.JAZZ else {})
    for name, value in values.items():
        if name == "greedy":  # a sampling default, recorded for sample.py
            continue
        if not FLAGS[name].present:
            setattr(FLAGS, name, value)


def validate_flags() -> None:
    cli.refuse_aliases_with_their_flags(*ALIASES)
    cli.refuse_flags_not_for(TokenKind(FLAGS.encoding), CORPUS_FLAGS,
                             f"the encoding is {FLAGS.encoding}")
    cli.require_positive(**{name: getattr(FLAGS, name) for name in (
        "epochs", "batch_size", "sequence_length", "learning_rate", "learning_rate_decay",
        "gradient_clip", "units", "layers", "embedding_size", "log_frequency",
        "checkpoint_every", "cluster_timeout")})
    if (FLAGS.max_steps < 0 or FLAGS.validation_every < 0 or FLAGS.sample_every < 0
            or FLAGS.histogram_frequency < 0 or FLAGS.early_stopping < 0):
        raise cli.UsageError("--max_steps, --validation_every, --sample_every, "
                             "--histogram_frequency and --early_stopping must be 0 (off) or "
                             "positive")
    if FLAGS.vocabulary_file and not os.path.exists(FLAGS.vocabulary_file):  # before the corpus
        cli.require_output_paths(vocabulary_file=FLAGS.vocabulary_file)
    if os.path.exists(FLAGS.logdir) and not os.path.isdir(FLAGS.logdir):
        raise cli.UsageError(f"--logdir {FLAGS.logdir} is a file; give a folder for the models")
    if FLAGS.learning_rate > limits.MAX_LEARNING_RATE:
        raise cli.UsageError(f"--learning_rate {FLAGS.learning_rate} is too large for Adam, whose "
                             f"steps are about that size; give at most {limits.MAX_LEARNING_RATE:g}"
                             " (the default is 0.002)")
    if FLAGS.learning_rate_decay > 1.0:
        raise cli.UsageError(f"--learning_rate_decay {FLAGS.learning_rate_decay} would raise the "
                             "learning rate every epoch; give a factor in (0, 1]")
    limits.require_training_fits(1, FLAGS.embedding_size, FLAGS.units,
                                 FLAGS.layers, FLAGS.batch_size, FLAGS.sequence_length)
    if not 0.0 <= FLAGS.dropout < 1.0:
        raise cli.UsageError(f"--dropout is {FLAGS.dropout}; give a rate in [0, 1)")
    if not 0.0 <= FLAGS.validation_fraction < 1.0:
        raise cli.UsageError(f"--validation_fraction is {FLAGS.validation_fraction}; give a "
                             "share in [0, 1)")


def prepare_model_folder(folder, model_config, vocabulary, record: dict) -> None:
    """Checks a resumed model matches the flags; writes config, vocabulary and record."""
    from lstm_core import checkpoints

    if folder.exists() and FLAGS.fresh:
        kept = f"{folder.root}.previous-{time.strftime('%Y%m%d-%H%M%S')}"
        shutil.move(folder.root, kept)
        print(f"--fresh: the previous model is kept in {kept}")
    elif folder.exists():
        saved, saved_vocabulary = folder.verify(checkpoints.latest(folder.checkpoints))
        if saved_vocabulary != vocabulary:
            raise cli.UsageError(
                f"--vocabulary_file differs from the vocabulary model {folder.name} was trained "
                f"with ({folder.vocabulary}); use that one, or --fresh to start a new model")
        for field in dataclasses.fields(saved):
            if field.name in FLAGS and getattr(saved, field.name) != getattr(model_config,
                                                                             field.name):
                raise cli.UsageError(
                    f"--{field.name} {getattr(model_config, field.name)} differs from model "
                    f"{folder.name} ({getattr(saved, field.name)}); give the same value to "
                    "resume, or --fresh to start a new model")
        previous = folder.training_record()
        for flag in DATA_FLAGS:
            if flag in previous and previous[flag] != record[flag]:
                raise cli.UsageError(
                    f"--{flag} {record[flag]} differs from the run being resumed "
                    f"({previous[flag]}); give the same value, or --fresh to start over")
    os.makedirs(folder.root, exist_ok=True)
    model_config.save(folder.config)
    vocabulary.save(folder.vocabulary)
    folder.save_training_record(record)


def from_flags(config_class, **values):
    """A `TrainingConfig` or `ModelConfig` of the flags named as its fields, and `values`."""
    return config_class(**values, **{field.name: getattr(FLAGS, field.name)
                                     for field in dataclasses.fields(config_class)
                                     if field.name in FLAGS and field.name not in values})


def main(argv: Sequence[str]) -> None:
    apply_defaults()
    validate_flags()
    from lstm_core import checkpoints, distribute

    # Before any other TensorFlow work: MultiWorkerMirroredStrategy configures the process.
    strategy = distribute.build_strategy(distribute.cluster_from_environment(),
                                         FLAGS.cluster_timeout)
    print(distribute.describe(strategy), flush=True)
    is_chief = strategy.extended.should_checkpoint

    from lstm_core.batch import Batch, fitting_batch_size, split_validation
    from lstm_core.corpus import load_corpus, vocabulary_and_ids
    from lstm_core.model import ModelConfig
    from lstm_core.preprocessing import default_vocabulary_path
    from lstm_core.saved import ModelFolder
    from lstm_core.trainer import Interrupted, Trainer, TrainingConfig

    config = from_flags(TrainingConfig)
    folder = ModelFolder(FLAGS.logdir, FLAGS.model_name)  # a bad name fails before the work
    with distribute.failing_together(strategy):
        corpus = load_corpus(FLAGS.training_file, FLAGS.encoding, FLAGS.melody_part,
                             FLAGS.chord_parts, FLAGS.instruments, FLAGS.bpe_vocabulary)
        cli.refuse_flags_not_for(corpus.kind, CORPUS_FLAGS, f"{corpus.source} is text")
        vocabulary_path = FLAGS.vocabulary_file or (
            default_vocabulary_path(corpus.source) if os.path.isfile(corpus.source)
            else os.path.join("data", FLAGS.model_name + ".vocab"))
        if not os.path.exists(vocabulary_path):  # written, never replaced
            cli.require_output_paths(vocabulary_file=vocabulary_path)
        vocabulary, ids, corpus_digest = vocabulary_and_ids(corpus, vocabulary_path,
                                                            FLAGS.allow_unknown)
        train_ids, validation_ids = split_validation(ids, FLAGS.validation_fraction)
        batch_size = fitting_batch_size(len(train_ids), FLAGS.batch_size, FLAGS.sequence_length,
                                        FLAGS.shuffle, strategy.num_replicas_in_sync,
                                        corpus.source)
        train = Batch(train_ids, batch_size, FLAGS.sequence_length, FLAGS.shuffle,
                      FLAGS.random_seed, source=corpus.source)
    if batch_size < FLAGS.batch_size:
        print(f"note: {corpus.source} is too short for batches of {FLAGS.batch_size} x "
              f"{FLAGS.sequence_length}; training with batches of {batch_size} x "
              f"{FLAGS.sequence_length} (--batch_size {batch_size}; a longer corpus allows more)")
        config = dataclasses.replace(config, batch_size=batch_size)
    validation_streams = min(FLAGS.batch_size, len(validation_ids) // (FLAGS.sequence_length + 1))
    validation = (Batch(validation_ids, validation_streams, FLAGS.sequence_length)
                  if validation_streams else None)
    if validation is None and FLAGS.validation_fraction > 0:
        print(f"warning: the validation split ({len(validation_ids)} tokens) is shorter than one "
              "sequence; no validation. Raise --validation_fraction or lower --sequence_length")
    elif validation is not None and len(validation_ids) < MEANINGFUL_VALIDATION:
        print(f"note: the validation split holds only {len(validation_ids)} tokens, too few for "
              "its loss to mean much; raise --validation_fraction for a steadier figure")

    limits.require_training_fits(len(vocabulary), FLAGS.embedding_size, FLAGS.units,
                                 FLAGS.layers, FLAGS.batch_size, FLAGS.sequence_length)
    if not os.path.exists(vocabulary_path):
        vocabulary.save(vocabulary_path)
        print(f"wrote the vocabulary {vocabulary_path}: {len(vocabulary)} tokens")

    model_config = from_flags(ModelConfig, vocabulary_size=len(vocabulary),
                              token_kind=vocabulary.kind)
    source = init_source(folder, model_config, vocabulary)
    record = {"training_file": (os.path.abspath(corpus.source) if os.path.exists(corpus.source)
                                else corpus.source),
              **{flag: getattr(FLAGS, flag) for flag in DATA_FLAGS},
              "preset": FLAGS.preset,
              "greedy": PRESETS.get(FLAGS.preset or "", {}).get("greedy", False),
              "training": dataclasses.asdict(config)}
    if source:
        record["init_from"] = source.record()
    distribute.require_same_run(strategy, json.dumps(
        [dataclasses.asdict(config), dataclasses.asdict(model_config),
         [record[flag] for flag in DATA_FLAGS], corpus_digest, vocabulary.tokens],
        sort_keys=True))
    with distribute.failing_together(strategy):
        if is_chief:  # only the chief locks and writes the model folder
            folder.lock().hold_until_exit()
            checkpoints.tidy(folder.checkpoints)
            prepare_model_folder(folder, model_config, vocabulary, record)
            if vocabulary.family is Family.MUSIC:  # event or note tokens: excerpts for sample.py
                from lstm_core import music

                rng = np.random.default_rng(FLAGS.random_seed)
                folder.save_primers(music.random_excerpts(corpus.tokens, PRIMER_LENGTH, 32, rng))

    trainer = Trainer(model_config, config, train, validation, folder.checkpoints, folder.root,
                      strategy=strategy)
    if FLAGS.sample_every:
        trainer.hooks.append((FLAGS.sample_every, sample_summary(trainer.model, vocabulary, ids)))
    add_internals_summaries(trainer, train, validation, folder.root)
    if trainer.restore():
        print(f"resuming model {folder.name} from step {trainer.current_step}")
    elif source:
        source.copy_into(trainer.model)
        print(f"starting from model {source.name}: {len(source.shared)} of {len(vocabulary)} "
              "tokens keep its embedding and output rows")
    print(f"training {folder.name}: {len(train_ids):,} training and {len(validation_ids):,} "
          f"validation tokens, {train.num_batches} batches per epoch, {trainer.total_steps} "
          "steps in all")
    try:
        metrics = trainer.train()
    except Interrupted as stop:
        cause = "" if stop.here else " (another worker was interrupted)"
        print(f"interrupted at step {stop.step}: saved {stop.checkpoint}{cause}; run the same "
              "command to resume", flush=True)
        raise SystemExit(128 + stop.signal_number)
    summary = ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v:.4g}"
                        for k, v in metrics.items())
    example = "sample.txt" if vocabulary.is_text else "sample.mid"
    print(f"done: {summary}")
    if trainer.is_chief:
        print(f"saved in {folder.root}; sample with: python sample.py --model_name "
              f"{shlex.quote(folder.name)} --output_file {example}")


def init_source(folder, model_config, vocabulary):
    """The model --init_from names, checked against the new one (None without the flag; a run
    that resumes from a checkpoint does not use it)."""
    from lstm_core.transfer import Source

    if not FLAGS.init_from:
        return None
    if os.path.abspath(os.path.join(FLAGS.logdir, FLAGS.init_from)) == os.path.abspath(
            folder.root):
        raise cli.UsageError(f"--init_from {FLAGS.init_from} is the model being trained; name "
                             "another model, or leave the flag out")
    return Source(FLAGS.logdir, FLAGS.init_from, model_config, vocabulary)


# Flags recorded for TensorBoard's HParams dashboard (runs compare side by side).
HPARAM_FLAGS = ("units", "layers", "embedding_size", "dropout", "batch_size",
                "sequence_length", "learning_rate", "learning_rate_decay", "gradient_clip",
                "shuffle", "random_seed", "epochs", "max_steps")


def add_internals_summaries(trainer, train, validation, model_root: str) -> None:
    """HParams of the run, and the internals hook every --histogram_frequency steps."""
    from lstm_core import summaries

    if trainer.is_chief:
        hparams = {flag: getattr(FLAGS, flag) for flag in HPARAM_FLAGS}
        hparams["training_file"] = os.path.basename(os.path.normpath(FLAGS.training_file
                                                                     or "default corpus"))
        summaries.write_hparams(model_root, hparams)
    if FLAGS.histogram_frequency:
        hook = summaries.InternalsSummaries(trainer, *summaries.fixed_batch(validation, train))
        trainer.hooks.append((FLAGS.histogram_frequency, hook))


def sample_summary(model, vocabulary, ids):
    """A hook that writes a short generated sample to TensorBoard, primed by the corpus start:
    text under the Text tab; music as audio and a piano roll."""
    import tensorflow as tf

    from lstm_core.sampler import Sampler

    sampler = Sampler(model, temperature=0.9, chunk_length=200)

    def write(step: int) -> None:
        tokens = vocabulary.decode(
            sampler.generate(np.asarray(ids[None, :20], "int32"), 200, random_seed=step)[0])
        if vocabulary.family is Family.MUSIC:
            from lstm_core.music.summaries import write_sample_summaries

            write_sample_summaries(tokens, vocabulary.metadata, step)
        else:
            text = tokens if vocabulary.is_text else " ".join(tokens)  # jazz: one token a word
            tf.summary.text("sample", "```\n" + text + "\n```")

    return write


if __name__ == "__main__":
    cli.run(main)
