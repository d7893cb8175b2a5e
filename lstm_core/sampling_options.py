"""`SampleOptions`: every option of sampling (``sample.py``'s flags, the keyword arguments of
`TrainedModel.generate`, `compose`, `improvise`), and the checks of their values that need no
model. Imports nothing heavy: ``sample.py`` reads it before TensorFlow loads.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from typing import Collection

from lstm_core import limits
from lstm_core.cli import require_positive
from lstm_core.errors import UsageError
from lstm_core.kinds import Family
from lstm_core.files import STDOUT, check_output
from lstm_core.music.constants import (DEFAULT_SOLO_INSTRUMENT, MIDI_SUFFIXES, SOLO_PROGRAMS,
                                        TEMPO_RANGE)
from lstm_core.options import option

TEXT_SAMPLE_LENGTH = 1500  # characters, when --sample_length is not given for a text model
MUSIC_SAMPLE_LENGTH = 1000  # tokens, when neither --sample_length nor --bars/--seconds is given
EXTRA_SUFFIXES = {"audio": ".wav", "piano_roll": ".png"}  # files written besides the sample


@dataclasses.dataclass(frozen=True, kw_only=True)
class SampleOptions:
    model_name: str = option("lyrics", "The model to sample from (logs/<model_name>/).")
    logdir: str = option("logs", "Folder of the models.")
    vocabulary_file: str | None = option(None, "Optional: must be the model's own vocabulary.")
    checkpoint: str | None = option(None, "Which weights: best (the lowest validation loss), "
                                    "latest (the newest), or a step that has a checkpoint "
                                    "(default: best when the model was validated, else "
                                    "latest).")
    output_file: str | None = option(None, "Where to write the sample; with --num_samples N > 1, "
                                     "NAME-1.EXT ... NAME-N.EXT; - writes a text sample to "
                                     "standard output (default: a text sample to standard "
                                     "output, more texts or music to MODEL-SEED.txt or "
                                     "MODEL-SEED.mid, a file that does not exist yet).")
    overwrite: bool = option(False, "Replace output files that exist already.")
    seed: str | None = option(None, "Text that starts the sample (text models; default: the "
                              "training corpus's first line).")
    sample_length: int | None = option(None, "Tokens to generate after the seed or primer "
                                       "(default: 1500 characters for text models, 1000 tokens "
                                       "for music models; a jazz solo lasts its chord "
                                       "progression).")
    log_frequency: int = option(100, "Report progress every N tokens.")
    temperature: float = option(1.0, "Below 1: safer and more repetitive; above 1: wilder.")
    top_k: int = option(0, "Draw only among the K likeliest tokens (0: all).")
    top_p: float = option(1.0, "Draw only among the likeliest tokens whose probabilities add up "
                          "to P (1.0: all).")
    greedy: bool = option(False, "Always take the likeliest token (argmax); it repeats itself "
                          "more than sampling does.")
    num_samples: int = option(1, "Independent samples generated in parallel.")
    beam_size: int = option(1, "Beam search (as Magenta's): the likeliest streams kept per "
                            "sample every --steps_per_iteration tokens (1 with --branch_factor "
                            "1: plain sampling). See docs/export.md.")
    branch_factor: int = option(1, "Beam search: copies of each kept stream, each drawing its "
                                "own continuation.")
    steps_per_iteration: int = option(1, "Beam search: tokens drawn between two prunings.")
    random_seed: int | None = option(None, "Seed of the draws: the same seed gives the same "
                                     "sample (default: a new one each run, printed).")
    chords: str | None = option(None, "Jazz models: the progression to improvise over, bars "
                                "separated by |, e.g. \"Dm7 G7 | Cmaj7 | A7\" (default: the "
                                "first 32 bars of the training solo's).")
    chords_from: str | None = option(None, "Jazz models: take the progression from a MIDI "
                                     "file's accompaniment or a lead sheet's chord symbols.")
    choruses: int = option(1, "Jazz models: times the progression is played through.")
    bars: int | None = option(None, "Music: the piece's length in bars of new music (instead of "
                              "--sample_length in tokens); the MIDI file lasts exactly that "
                              "long, trailing rests included. Jazz: bars of the solo, the "
                              "progression repeated as often as it takes and cut there "
                              "(default: --choruses times its length).")
    chord_parts: list[str] | None = option(None, "Jazz, with --chords_from: the parts that hold "
                                           "the accompaniment, by index or name (default: "
                                           "guessed).")
    solo_instrument: str = option(DEFAULT_SOLO_INSTRUMENT, "Jazz: the General MIDI instrument "
                                  "of the solo part.", choices=SOLO_PROGRAMS)
    tempo: float | None = option(None, "Music: beats per minute of the written MIDI (default: "
                                 "the tempos the model writes).")
    instruments: str | None = option(None, "Music: the instruments the piece may use, comma-"
                                     "separated General MIDI names, families (piano, bass, "
                                     "guitar...), programs 0-127 or drums (default: all the "
                                     "model knows; with --primer_midi, the primer's).")
    key: str | None = option(None, "Music: keep every pitched note in this key, e.g. \"D "
                             "minor\", \"Bb major\", \"A dorian\" (drums are never masked).")
    scale: str | None = option(None, "Music: keep every pitched note in the scale of these "
                               "notes, e.g. \"C D Eb G A\".")
    seconds: float | None = option(None, "Music: the piece's length in seconds of new music; "
                                   "the MIDI file lasts exactly that long.")
    primer_notes: str | None = option(None, "Music: start from this melody, note names or MIDI "
                                      "numbers, one quarter note each, - a rest: \"C4 E4 G4\" "
                                      "or \"60 64 67\".")
    primer_midi: str | None = option(None, "Music: start from this MIDI file instead of an "
                                     "excerpt of the training data.")
    primer_bars: int = option(4, "Music, with --primer_midi: start from the file's first N "
                              "bars (0, or more bars than it has: all of it); --bars and "
                              "--seconds count the music after them.")
    audio: str | None = option(None, "Music: also render the piece as a WAV file (FluidSynth "
                               "when installed, else a built-in synthesiser).")
    piano_roll: str | None = option(None, "Music: also draw the piece's piano roll as a PNG "
                                    "file.")

    @property
    def is_beam_search(self) -> bool:
        return self.beam_size * self.branch_factor > 1

    def length(self, family: Family) -> int:
        """Tokens to generate: --sample_length, else the default of the model's `family`."""
        return self.sample_length or (TEXT_SAMPLE_LENGTH if family is Family.TEXT
                                      else MUSIC_SAMPLE_LENGTH)

    def drawn_seed(self) -> int:
        """--random_seed, else a new one."""
        return self.random_seed if self.random_seed is not None else secrets.randbits(31)

    def default_output(self, family: Family, random_seed: int) -> str:
        """The --output_file of a sample that names none: standard output for one text, else a
        file named after the model and the sample's `random_seed` (--random_seed, or the one
        `drawn_seed` drew), in the current folder, numbered past the files that exist
        already."""
        if family is Family.TEXT and self.num_samples == 1:
            return STDOUT
        stem = f"{os.path.basename(os.path.normpath(self.model_name))}-{random_seed}"
        suffix = ".txt" if family is Family.TEXT else ".mid"
        taken = lambda path: any(os.path.lexists(p) for p in numbered_paths(
            path, self.num_samples))
        path, n = stem + suffix, 1
        while taken(path):
            n += 1
            path = f"{stem}.{n}{suffix}"
        return path

    def check_outputs(self) -> None:
        """A `UsageError` for an output file that cannot be written (`files.check_output`), or
        whose suffix is not its kind's; before the model loads."""
        if self.output_file == STDOUT and self.num_samples > 1:
            raise UsageError("--output_file - writes one sample to standard output; give a file "
                             "name for --num_samples > 1")
        for flag in ("output_file", "audio", "piano_roll"):
            for path in numbered_paths(getattr(self, flag), self.num_samples):
                check_output(flag, path, self.overwrite)
        for flag, suffix in EXTRA_SUFFIXES.items():
            path = getattr(self, flag)
            if path and not path.lower().endswith(suffix):
                raise UsageError(f"--{flag} {path}: it writes a {suffix} file; give a name "
                                 f"ending in {suffix}")

    def check_output_kind(self, family: Family) -> None:
        """A `UsageError` for an --output_file whose suffix says another kind of file than a
        model of `family` writes (text in a .mid, MIDI in a .txt or on standard output)."""
        path, model = self.output_file, self.model_name
        if path == STDOUT and family is not Family.TEXT:
            raise UsageError(f"--output_file -: model {model} writes MIDI, which standard "
                             "output does not take; give a .mid file name")
        suffix = os.path.splitext(path)[1].lower()
        if family is Family.TEXT and suffix in MIDI_SUFFIXES + tuple(EXTRA_SUFFIXES.values()):
            raise UsageError(f"--output_file {path}: model {model} writes text, not {suffix}; "
                             "give a .txt file name (MIDI comes from music models)")
        if family is not Family.TEXT and suffix not in MIDI_SUFFIXES:
            raise UsageError(f"--output_file {path}: model {model} writes MIDI; give a .mid "
                             "file name (--audio adds a .wav, --piano_roll a .png)")

    def validate(self, given: Collection[str] = ()) -> None:
        """A `UsageError` for a value no model takes, or for two options that exclude each
        other, among those the user `given` (names; the others keep their defaults)."""
        require_positive(sample_length=self.sample_length, log_frequency=self.log_frequency,
                          temperature=self.temperature, num_samples=self.num_samples,
                          top_p=self.top_p, choruses=self.choruses, bars=self.bars,
                          seconds=self.seconds)
        limits.require_sample_bounds(self.sample_length, self.num_samples, self.bars,
                                     self.seconds, self.choruses)
        if "primer_bars" in given and not self.primer_midi:
            raise UsageError(f"--primer_bars {self.primer_bars} takes the first bars of "
                             "--primer_midi; give --primer_midi FILE too, or leave --primer_bars "
                             "out")
        limits.require_primer_bars(self.primer_bars)
        lengths = [f"--{name}" for name in ("sample_length", "bars", "seconds")
                   if getattr(self, name) is not None]
        if len(lengths) > 1:
            raise UsageError(f"{' and '.join(lengths)} each set the length; give one of them")
        for first, second, both in (("chords", "chords_from", "give the progression"),
                                    ("bars", "choruses", "set the solo's length"),
                                    ("primer_midi", "primer_notes", "start the piece")):
            if first in given and second in given:
                raise UsageError(f"--{first} and --{second} both {both}; give one of them")
        low, high = limits.TEMPERATURE_RANGE
        if not low <= self.temperature <= high:
            raise UsageError(f"temperature {self.temperature} is outside [{low:g}, {high:g}]; "
                             "below it use greedy (always the likeliest token), above it "
                             "every token is as likely as any other", option="temperature")
        if self.top_k < 0:
            raise UsageError(f"top_k is {self.top_k}; give 0 (off) or a positive count",
                             option="top_k")
        if self.tempo is not None and not TEMPO_RANGE[0] <= self.tempo <= TEMPO_RANGE[1]:
            raise UsageError(f"tempo {self.tempo} is not a playable tempo; give beats per "
                             f"minute between {TEMPO_RANGE[0]:g} and {TEMPO_RANGE[1]:g}",
                             option="tempo")
        if self.top_p > 1.0:
            raise UsageError(f"top_p is {self.top_p}; give a share in (0, 1]", option="top_p")
        self._validate_beam(given)

    def _validate_beam(self, given: Collection[str]) -> None:
        require_positive(beam_size=self.beam_size, branch_factor=self.branch_factor,
                          steps_per_iteration=self.steps_per_iteration)
        if not self.is_beam_search:
            if "steps_per_iteration" in given:
                raise UsageError("--steps_per_iteration is for beam search; give --beam_size "
                                 "or --branch_factor above 1 too, or leave it out")
            return
        for name, plain in (("top_p", 1.0), ("greedy", False)):
            if name in given and getattr(self, name) != plain:
                raise UsageError(f"--{name} does not combine with beam search (--beam_size "
                                 f"{self.beam_size} --branch_factor {self.branch_factor}): "
                                 "beams rank streams drawn from the whole distribution; leave "
                                 f"out --{name} or the beam flags")



def numbered_paths(path: str | None, count: int) -> list[str]:
    """The files of `count` samples asked to be written to `path`: `path` itself for one,
    ``NAME-1.EXT`` ... ``NAME-N.EXT`` for more (none for None)."""
    if path is None:
        return []
    if count == 1:
        return [path]
    stem, extension = os.path.splitext(path)
    return [f"{stem}-{n}{extension}" for n in range(1, count + 1)]
