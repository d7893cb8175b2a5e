"""Training a model, start to finish: `train(options) -> TrainingResult`.

The corpus is read and tokenised (its vocabulary written beside it, or reused), split into
training and validation streams, the model folder is created or checked for resuming
(`lstm_core.resume`), and the trainer runs until the epochs, the step limit, the time budget or
early stopping end it. Under ``minutes`` or ``cpu_seconds`` the options the user did not give
are chosen for the budget (`lstm_core.budget.recipe`) once the corpus is read. Lines for the user go to `report`; the trainer's steps, validations and checkpoints to
`callbacks` (`lstm_core.callbacks`). Errors are raised: a `UsageError` for options or files
that cannot be used, `Diverged`, and `Interrupted` (Ctrl-C or SIGTERM, with a checkpoint saved).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shlex
from typing import Callable, Iterable

import numpy as np

from lstm_core import budget as budgets
from lstm_core import checkpoints, cli, distribute, limits, options as option_tools
from lstm_core.batch import Batch, fitting_batch_size, split_validation
from lstm_core.callbacks import TrainingCallbacks
from lstm_core.corpus import load_corpus, refuse_options_not_for, vocabulary_and_ids
from lstm_core.kinds import Family, TokenKind
from lstm_core.lookback import bar_grid
from lstm_core.model import ModelConfig
from lstm_core.preprocessing import default_vocabulary_path
from lstm_core.progress import Report, TaskProgress, silent_progress, silent_report
from lstm_core.resume import DATA_OPTIONS, init_source, prepare_model_folder
from lstm_core.saved import ModelFolder
from lstm_core.trainer import Trainer, TrainingConfig
from lstm_core.training_options import (PRESETS, TrainOptions, check, with_defaults,
                                        with_music_defaults)
from lstm_core.training_summaries import add_internals_summaries, sample_summary

MEANINGFUL_VALIDATION = 1000  # tokens: below this, a validation loss is mostly noise
PRIMER_LENGTH = 64  # tokens of each training excerpt kept to start a music sample from


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    folder: str  # the model folder (`lstm_core.saved.ModelFolder`'s root)
    metrics: dict[str, float]  # the last training and validation metrics, and the best
    steps: int  # the steps trained in all, this run and those it resumed
    stopped: str  # why training ended: "epochs", "max_steps", "budget" or "early_stopping"


def train(options: TrainOptions | None = None, given: Iterable[str] = frozenset(),
          report: Report = silent_report, callbacks: TrainingCallbacks | None = None,
          progress: TaskProgress = silent_progress, **values) -> TrainingResult:
    """Trains (or resumes) the model `options` describe.

    Args:
      options: the training options (default: `TrainOptions()`), with `values` for some of them
        (the flags' names: ``units=256``; an unknown name is a `UsageError`).
      given: the names of the options the user set (with `values`' names): the others take the
        preset's or the jazz encoding's values.
      report: takes each line for the user (as `train.py` prints them; warnings start with
        ``warning:``).
      callbacks: hear of each step, log, validation and checkpoint, and take the trainer's lines.
      progress: hears ``(done, total, what)`` as the corpus is read and encoded.
    """
    options = option_tools.replace(options or TrainOptions(), **values)
    given = {*given, *values}
    options = with_defaults(options, given)
    check(options)
    budget = (budgets.Budget(options.minutes * 60.0, "wall") if options.minutes else
              budgets.Budget(options.cpu_seconds, "cpu") if options.cpu_seconds else None)
    deadline = budget.start() if budget else None  # reading the corpus counts
    refuse_options_not_for(TokenKind(options.encoding), given, options,
                           f"the encoding is {options.encoding}")
    # Before any other TensorFlow work: MultiWorkerMirroredStrategy configures the process.
    strategy = distribute.build_strategy(distribute.cluster_from_environment(),
                                         options.cluster_timeout)
    report(distribute.describe(strategy))
    folder = ModelFolder(options.logdir, options.model_name)  # a bad name fails before the work
    with distribute.failing_together(strategy):
        corpus = load_corpus(options.training_file, options.encoding, options.melody_part,
                             options.chord_parts, options.instruments, options.bpe_vocabulary,
                             report, progress)
        refuse_options_not_for(corpus.kind, given, options, f"{corpus.source} is text")
        saved = folder.model_config() if folder.exists() and not options.fresh else None
        options = with_music_defaults(options, corpus.kind, given, None if saved is None else {
            **dataclasses.asdict(saved), "lookback": saved.lookback})
        vocabulary_path = options.vocabulary_file or (
            default_vocabulary_path(corpus.source) if os.path.isfile(corpus.source)
            else os.path.join("data", options.model_name + ".vocab"))
        if not os.path.exists(vocabulary_path):  # written, never replaced
            cli.require_output_paths(vocabulary_file=vocabulary_path)
        vocabulary, ids, corpus_digest = vocabulary_and_ids(corpus, vocabulary_path,
                                                            options.allow_unknown, report,
                                                            progress)
        train_ids, validation_ids = split_validation(ids, options.validation_fraction)
        grid = lookback_grid(options, given, vocabulary)
        options = dataclasses.replace(options, lookback=bool(grid))  # as the model has it
        recipe = None
        if deadline:
            model = from_options(ModelConfig, options, vocabulary_size=len(vocabulary),
                                 token_kind=vocabulary.kind, bar_grid=grid)
            options, recipe = _budget_options(options, given, deadline, len(train_ids), model,
                                              report)
        batch_size = fitting_batch_size(len(train_ids), options.batch_size,
                                        options.sequence_length, options.shuffle,
                                        strategy.num_replicas_in_sync, corpus.source)
        train_batches = Batch(train_ids, batch_size, options.sequence_length,
                              options.shuffle, options.random_seed, source=corpus.source)
    if batch_size < options.batch_size:
        report(f"note: {corpus.source} is too short for batches of {options.batch_size} x "
               f"{options.sequence_length}; training with batches of {batch_size} x "
               f"{options.sequence_length} (--batch_size {batch_size}; a longer corpus allows "
               "more)")
        options = dataclasses.replace(options, batch_size=batch_size)
    validation = _validation_batches(options, validation_ids, report)

    limits.require_training_fits(len(vocabulary), options.embedding_size, options.units,
                                 options.layers, options.batch_size, options.sequence_length)
    if not os.path.exists(vocabulary_path):
        vocabulary.save(vocabulary_path)
        report(f"wrote the vocabulary {vocabulary_path}: {len(vocabulary)} tokens")

    config = from_options(TrainingConfig, options, budget=budget)
    model_config = from_options(ModelConfig, options, vocabulary_size=len(vocabulary),
                                token_kind=vocabulary.kind, bar_grid=grid)
    source = init_source(options, folder, model_config, vocabulary)
    record = {"training_file": (os.path.abspath(corpus.source) if os.path.exists(corpus.source)
                                else corpus.source),
              **{name: getattr(options, name) for name in DATA_OPTIONS},
              "preset": options.preset,
              "first_line": corpus.first_line(),
              "greedy": PRESETS.get(options.preset or "", {}).get("greedy", False),
              "training": dataclasses.asdict(config)}
    if source:
        record["init_from"] = source.record()
    if recipe:
        record["budget"] = dataclasses.asdict(recipe)
    distribute.require_same_run(strategy, json.dumps(
        [dataclasses.asdict(config), dataclasses.asdict(model_config),
         [record[name] for name in DATA_OPTIONS], corpus_digest, vocabulary.tokens],
        sort_keys=True))
    with contextlib.ExitStack() as held:
        with distribute.failing_together(strategy):
            if strategy.extended.should_checkpoint:  # only the chief locks and writes the folder
                held.callback(folder.lock().acquire(report).release)
                checkpoints.tidy(folder.checkpoints, report)
                prepare_model_folder(folder, options, model_config, vocabulary, record, report)
                if vocabulary.family is Family.MUSIC:  # event or note tokens: sample.py's primers
                    from lstm_core import music

                    rng = np.random.default_rng(options.random_seed)
                    folder.save_primers(music.random_excerpts(corpus.tokens, PRIMER_LENGTH, 32,
                                                              rng))

        trainer = Trainer(model_config, config, train_batches, validation, folder.checkpoints,
                          folder.root, strategy=strategy)
        if options.sample_every:
            trainer.hooks.append((options.sample_every,
                                  sample_summary(trainer.model, vocabulary, ids)))
        add_internals_summaries(trainer, options, train_batches, validation, folder.root)
        if trainer.restore():
            report(f"resuming model {folder.name} from step {trainer.current_step}")
        elif source:
            source.copy_into(trainer.model)
            report(f"starting from model {source.name}: {len(source.shared)} of "
                   f"{len(vocabulary)} tokens keep its embedding and output rows")
        report(f"training {folder.name}: {len(train_ids):,} training and "
               f"{len(validation_ids):,} validation tokens, {train_batches.num_batches} batches "
               f"per epoch, {trainer.total_steps} steps in all")
        metrics = trainer.train(callbacks, deadline)
    report("done: " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v:.4g}"
                                for k, v in metrics.items()))
    if trainer.is_chief:
        example = "sample.txt" if vocabulary.is_text else "sample.mid"
        report(f"saved in {folder.root}; sample with: python sample.py --model_name "
               f"{shlex.quote(folder.name)} --output_file {example}")
    step = trainer.current_step
    stopped = ("budget" if trainer.out_of_time
               else "early_stopping" if step < trainer.total_steps
               else "max_steps" if options.max_steps and step >= options.max_steps else "epochs")
    return TrainingResult(folder.root, metrics, step, stopped)


def _budget_options(options: TrainOptions, given: set, deadline: budgets.Deadline,
                    corpus_tokens: int, model: ModelConfig, report: Report
                    ) -> tuple[TrainOptions, budgets.Recipe]:
    """`options` with the recipe's values for the `deadline`'s budget where the user gave none,
    and the recipe for a model like `model` (its vocabulary, attention, lookback) in the time
    left; its choice and why, in one line to `report`."""
    budget = deadline.budget
    flops = budgets.measured_flops(budget.clock)
    cost_ratio = budgets.measured_cost_ratio(model, budget.clock)
    recipe = budgets.recipe(budget, corpus_tokens, model.vocabulary_size, flops, cost_ratio,
                            deadline.left())
    chosen = {name: value for name, value in recipe.options().items() if name not in given}
    kept = sorted(set(recipe.options()) - set(chosen))
    report(f"budget: {recipe.why}" + (f"; given: {', '.join('--' + name for name in kept)}"
                                      if kept else ""))
    return dataclasses.replace(options, **chosen), recipe


def _validation_batches(options: TrainOptions, validation_ids: np.ndarray,
                        report: Callable[[str], None]) -> Batch | None:
    """The held-out split's batches (None when it is shorter than one sequence), and a line
    when it is too short to mean much."""
    streams = min(options.batch_size, len(validation_ids) // (options.sequence_length + 1))
    validation = Batch(validation_ids, streams, options.sequence_length) if streams else None
    if validation is None and options.validation_fraction > 0:
        report(f"warning: the validation split ({len(validation_ids)} tokens) is shorter than "
               "one sequence; no validation. Raise --validation_fraction or lower "
               "--sequence_length")
    elif validation is not None and len(validation_ids) < MEANINGFUL_VALIDATION:
        report(f"note: the validation split holds only {len(validation_ids)} tokens, too few for "
               "its loss to mean much; raise --validation_fraction for a steadier figure")
    return validation


def lookback_grid(options: TrainOptions, given: Iterable[str], vocabulary) -> tuple[int, ...]:
    """The model's `lookback.bar_grid`: empty without ``lookback``, or where the tokens mark no
    bars (TSD, MIDI-Like, notes, BPE tokens), which a ``lookback`` the user gave refuses."""
    if not options.lookback:
        return ()
    grid = bar_grid(vocabulary.tokens)
    if not grid and "lookback" in given:
        raise cli.UsageError(f"--lookback needs tokens that mark bars and positions (--encoding "
                             f"remi without --bpe_vocabulary), but this corpus is "
                             f"{vocabulary.kind}; leave the flag out", option="lookback")
    return grid


def from_options(config_class, options: TrainOptions, **values):
    """A `TrainingConfig` or `ModelConfig` of the options named as its fields, and `values`."""
    return config_class(**values, **{field.name: getattr(options, field.name)
                                     for field in dataclasses.fields(config_class)
                                     if hasattr(options, field.name) and field.name not in values})
