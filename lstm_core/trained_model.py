"""A trained model as a Python object: `load` one, then write with it.

    model = load("songs")                                      # logs/songs, or a folder path
    model.generate(seed="Yeah, oho ", length=500, temperature=0.8)       # text models: a str
    model.generate_many(8, length=200, top_p=0.9)                        # a list of str
    load("band").compose(bars=16, instruments=["piano", "bass"], key="D minor")  # a symusic.Score
    load("jazz").improvise("Dm7 G7 | Cmaj7 | A7", choruses=2)            # a symusic.Score

The keyword arguments are ``sample.py``'s flags (`SampleOptions`; ``length`` is
``--sample_length``). `TrainedModel.sample` is the whole of what ``sample.py`` does but writing
the files: it returns `Samples`, with each sample's ids, log-likelihood and random seed. Bad
input is a `UsageError` whose message names the option as its flag. This module loads
TensorFlow only when a model is loaded.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import warnings
from typing import Collection

from lstm_core import options as options_module
from lstm_core.errors import UsageError
from lstm_core.kinds import Family
from lstm_core.sampling import Progress, Report, Samples
from lstm_core.sampling_options import SampleOptions

WRITES = {Family.TEXT: "text", Family.MUSIC: "music", Family.JAZZ: "jazz solos"}
METHODS = {Family.TEXT: "generate or generate_many", Family.MUSIC: "compose",
           Family.JAZZ: "improvise"}
# Options only some families of model take (`Vocabulary.family`): those, and what the option
# needs, for the message.
MODEL_KIND_FLAGS = {
    "primer_midi": ((Family.MUSIC,), "a music model (a jazz solo starts from the progression: "
                                      "--chords or --chords_from)"),
    "primer_bars": ((Family.MUSIC,), "a music model and --primer_midi (a jazz solo starts from "
                                      "the progression: --chords or --chords_from)"),
    "primer_notes": ((Family.MUSIC,), "a music model (a jazz solo starts from the progression: "
                                       "--chords or --chords_from)"),
    "instruments": ((Family.MUSIC,), "a music model"),
    "key": ((Family.MUSIC,), "a music model (a jazz solo follows its chords)"),
    "scale": ((Family.MUSIC,), "a music model (a jazz solo follows its chords)"),
    "bars": ((Family.MUSIC, Family.JAZZ), "a music model"),
    "seconds": ((Family.MUSIC,), "a music model (a jazz solo lasts its progression)"),
    "audio": ((Family.MUSIC, Family.JAZZ), "a music model"),
    "piano_roll": ((Family.MUSIC, Family.JAZZ), "a music model"),
    "tempo": ((Family.MUSIC, Family.JAZZ), "a music model"),
    "chords": ((Family.JAZZ,), "a model trained with --encoding jazz"),
    "chords_from": ((Family.JAZZ,), "a model trained with --encoding jazz"),
    "chord_parts": ((Family.JAZZ,), "a model trained with --encoding jazz"),
    "choruses": ((Family.JAZZ,), "a model trained with --encoding jazz"),
    "sample_length": ((Family.TEXT, Family.MUSIC), "a text or music model (a jazz solo lasts "
                                                   "as long as its progression: give --bars or "
                                                   "--choruses)"),
    "solo_instrument": ((Family.JAZZ,), "a model trained with --encoding jazz"),
    "seed": ((Family.TEXT,), "a text model (a piece starts from --primer_midi, --primer_notes "
                             "or an excerpt of the training data)"),
}
# Options of sample.py's files and of which model to load: not keywords of the methods.
APP_OPTIONS = frozenset({"model_name", "logdir", "vocabulary_file", "checkpoint", "output_file",
                         "overwrite", "num_samples", "audio", "piano_roll"})
# Samplers kept per model, each with its traced and compiled chunk: the settings of the last few
# calls (a new setting of temperature, top-k, top-p, beams or grammar traces anew).
KEPT_SAMPLERS = 8


def check_fits(given: Collection[str], family: Family, model_name: str) -> None:
    """A `UsageError` for an option among `given` that a model of `family` does not take."""
    for name, (families, needs) in MODEL_KIND_FLAGS.items():
        if name in given and family not in families:
            raise UsageError(f"--{name} needs {needs}; model {model_name} writes "
                             f"{WRITES[family]}; leave the flag out")


def load(name_or_folder: str | os.PathLike, checkpoint: str | int | None = None,
         logdir: str = "logs", vocabulary_file: str | None = None,
         report: Report | None = None) -> TrainedModel:
    """The model `name_or_folder`: a model name in `logdir`, else a model folder's path, with
    the weights of `checkpoint` (``latest``, ``best`` or a step that has a checkpoint; None:
    the best when the model was validated, else the latest). A lost checkpoint index is said
    through `report` (default: `warnings.warn` of the line)."""
    from lstm_core.saved import ModelFolder

    name = os.fspath(name_or_folder)
    folder = ModelFolder(logdir, name) if not os.path.isabs(name) else None
    if folder is None or (not folder.exists()
                          and os.path.isfile(os.path.join(name, "config.json"))):
        folder = ModelFolder(logdir, name if os.path.isabs(name) else os.path.join(".", name))
    checkpoint = None if checkpoint is None else str(checkpoint)
    model, vocabulary, config = folder.load(vocabulary_file, checkpoint, report or _warn)
    return TrainedModel(folder, model, vocabulary, config, folder.checkpoint_path(checkpoint),
                        logdir)


class TrainedModel:
    """A model loaded with its vocabulary (see the module docstring)."""

    def __init__(self, folder, model, vocabulary, config, checkpoint_path: str, logdir: str):
        """`folder`: its `lstm_core.saved.ModelFolder` (in `logdir`); `model`, `vocabulary`,
        `config`: what `ModelFolder.load` gives; `checkpoint_path`: its weights'."""
        self.folder, self.model, self.vocabulary, self.config = folder, model, vocabulary, config
        self.checkpoint_path, self.logdir = checkpoint_path, logdir
        self._samplers = {}  # see `_sampler`

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def family(self) -> Family:
        return self.vocabulary.family

    @property
    def checkpoint_line(self) -> str:
        """Which weights the model has, for the user: ``the best checkpoint (step 222, the
        lowest validation loss), logs/band/checkpoints/best/ckpt-222``."""
        from lstm_core.best_checkpoint import BEST_FOLDER

        step = self.checkpoint_path.rsplit("-", 1)[1]
        best = os.path.basename(os.path.dirname(self.checkpoint_path)) == BEST_FOLDER
        kind = "the best checkpoint" if best else "checkpoint"
        why = ", the lowest validation loss" if best else ""
        return f"{kind} (step {step}{why}), {self.checkpoint_path}"

    def __repr__(self) -> str:
        return (f"TrainedModel({self.name!r}: {WRITES[self.family]}, {self.config.layers} x "
                f"{self.config.units} units, {self.checkpoint_path})")

    # ---- the whole workflow -----------------------------------------------------------------
    def sample(self, options: SampleOptions | None = None, given: Collection[str] | None = None,
               progress: Progress | None = None, report: Report | None = None,
               **keywords) -> Samples:
        """The samples `options` (or its defaults) with `keywords` ask for, of whichever kind
        the model writes; nothing is written to a file.

        Args:
          given: the options the user set (default: the `keywords`): an option a model of this
            kind does not take is a `UsageError` only when given.
          progress: called as ``progress(done, total)`` with the tokens generated so far.
          report: called with a line for the user (the seed's characters the vocabulary lacks,
            a primer's tokens it never saw, a --chords_from score skipped);
            default: `warnings.warn` of the line.
        Raises:
          UsageError: bad options. GenerationInterrupted: Ctrl-C before the first chunk of
          ``log_frequency`` tokens (after it, `Samples.interrupted_after` says where it stopped).
        """
        from lstm_core import limits

        options = options_module.replace(options or SampleOptions(), **keywords)
        given = frozenset(keywords) | frozenset(given or ())
        options.validate(given)
        check_fits(given, self.family, self.name)
        config = self.config
        limits.require_fits(
            f"sampling {options.num_samples} x {options.length(self.family)} tokens",
            limits.sampling_bytes(config.vocabulary_size, config.embedding_size, config.units,
                                  config.layers, options.num_samples,
                                  options.length(self.family)),
            "--sample_length or --num_samples")
        random_seed = options.drawn_seed()
        # A preset (deepjazz's model) may ask for greedy decoding unless told otherwise
        # (beam search draws its branches).
        greedy = options.greedy or ("greedy" not in given and not options.is_beam_search
                                    and self.folder.training_record().get("greedy", False))
        make_sampler = functools.partial(
            self._sampler, options.temperature, options.top_k, options.top_p, greedy,
            chunk_length=options.log_frequency, beam_size=options.beam_size,
            branch_factor=options.branch_factor, steps_per_iteration=options.steps_per_iteration)
        if self.family is Family.JAZZ:
            from lstm_core.music.jazz.improvise import improvise

            return improvise(make_sampler(), self.vocabulary, options, random_seed, progress,
                             report or _warn)
        if self.family is Family.TEXT:
            from lstm_core.text_sampling import sample_text

            if options.seed is None:
                options = dataclasses.replace(options, seed=self.default_seed())

            return sample_text(make_sampler(), self.vocabulary, options, random_seed, progress,
                               report or _warn)
        from lstm_core.music.compose import compose

        return compose(make_sampler, self.vocabulary, options, random_seed,
                       self.folder.load_primers, self.name, progress, report or _warn)

    def _sampler(self, *settings, grammar=None, groups=None, **keywords):
        """The `Sampler` of the model with these settings (its arguments), built once: a later
        call with the same settings reuses its traced and compiled chunk, which takes seconds to
        build on a CPU, where a short sample takes less."""
        from lstm_core.grammar import array_digest
        from lstm_core.sampler import Sampler

        key = (settings, tuple(sorted(keywords.items())),
               None if grammar is None else grammar.digest(),
               None if groups is None else array_digest(groups))
        if key not in self._samplers:
            if len(self._samplers) == KEPT_SAMPLERS:
                del self._samplers[next(iter(self._samplers))]  # the oldest
            self._samplers[key] = Sampler(self.model, *settings, grammar=grammar, groups=groups,
                                          **keywords)
        return self._samplers[key]

    def default_seed(self) -> str:
        """What a text sample starts from without a seed: the training corpus's first line (as
        `train.py` recorded it), else a line break, else the vocabulary's first character."""
        first_line = self.folder.training_record().get("first_line")
        if first_line:
            return first_line
        return "\n" if "\n" in self.vocabulary.ids else self.vocabulary.tokens[0]

    # ---- by kind of model -------------------------------------------------------------------
    def generate(self, seed: str | None = None, **keywords) -> str:
        """Text models: the seed and ``length`` characters after it (keywords: `SampleOptions`'
        of text: ``length``, ``temperature``, ``top_k``, ``top_p``, ``greedy``,
        ``random_seed``, ``beam_size``, ``branch_factor``, ``steps_per_iteration``,
        ``log_frequency``, and ``progress``, ``report`` as for `sample`)."""
        return self._sample("generate", Family.TEXT, seed=seed, **keywords).samples[0].text

    def generate_many(self, n: int, seed: str | None = None, **keywords) -> list[str]:
        """`generate`, `n` samples at once (streams side by side)."""
        samples = self._sample("generate_many", Family.TEXT, n, seed=seed, **keywords).samples
        return [sample.text for sample in samples]

    def compose(self, **keywords):
        """Music models: a piece, a `symusic.Score` (keywords: `SampleOptions`' of music:
        ``bars``, ``seconds`` or ``length`` in tokens, ``instruments`` (a list or a comma-
        separated string), ``key``, ``scale``, ``tempo``, ``primer_midi``, ``primer_notes``,
        the token choice's as for `generate`)."""
        return self._sample("compose", Family.MUSIC, **keywords).samples[0].score

    def improvise(self, chords: str | None = None, **keywords):
        """Jazz models: a solo over `chords` ("Dm7 G7 | Cmaj7", bars separated by |; default:
        a chorus of the training solo's), a `symusic.Score` of two tracks, ``Solo`` and
        ``Chords`` (keywords: ``chords_from``, ``chord_parts``, ``choruses``, ``bars``,
        ``solo_instrument``, ``tempo``, the token choice's as for `generate`)."""
        return self._sample("improvise", Family.JAZZ, chords=chords, **keywords).samples[0].score

    def _sample(self, method: str, family: Family, samples: int = 1,
                progress: Progress | None = None, report: Report | None = None,
                **keywords) -> Samples:
        if self.family is not family:
            raise UsageError(f"{method} writes {WRITES[family]}; model {self.name} writes "
                             f"{WRITES[self.family]}: call {METHODS[self.family]}")
        app_only = sorted(APP_OPTIONS & set(keywords))
        if app_only:
            raise UsageError(f"{', '.join(app_only)}: options of sample.py's files and model, "
                             f"not of {method}")
        if "length" in keywords:
            keywords["sample_length"] = keywords.pop("length")
        if isinstance(keywords.get("instruments"), (list, tuple)):
            keywords["instruments"] = ",".join(map(str, keywords["instruments"]))
        given = {name: value for name, value in keywords.items() if value is not None}
        return self.sample(SampleOptions(num_samples=samples), progress=progress,
                           report=report, **given)

    # ---- beyond sampling --------------------------------------------------------------------
    def export(self, output_dir: str, overwrite: bool = False) -> None:
        """The SavedModel and TensorFlow Lite step in `output_dir` (`lstm_core.export.export`)."""
        from lstm_core.export import export

        export(self.model, self.vocabulary, self.folder.vocabulary, output_dir, overwrite)

    def inspect(self, text: str | None = None, output_file: str = "cells.html",
                overwrite: bool = False, **keywords):
        """The cell-inspection page of the model (its latest checkpoint) run over `text` (or
        ``text_file=``, ``midi=``), written to `output_file`; returns the `Inspection` (its
        ranked units).
        Keywords: ``layer``, ``unit``, ``state``, ``top``, ``report``
        (`lstm_core.inspection.inspect`)."""
        from lstm_core.files import atomic_write, check_output
        from lstm_core.inspection import inspection

        check_output("output_file", output_file, overwrite)
        found = inspection.inspect(self.name, self.logdir, text=text, **keywords)
        atomic_write(output_file, found.page.encode("utf-8"))
        return found


def _warn(line: str) -> None:
    warnings.warn(line.removeprefix("warning: "), stacklevel=4)
