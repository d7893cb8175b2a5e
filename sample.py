"""Generate text (or music) with a trained model.

    python sample.py --model_name lyrics --output_file new_lyrics.txt --seed "Yeah, oho "
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
from typing import Sequence

from lstm_core import cli, limits
from lstm_core.files import STDOUT
from lstm_core.kinds import Family
from lstm_core.music.constants import (DEFAULT_SOLO_INSTRUMENT, MIDI_SUFFIXES, SOLO_PROGRAMS,
                                        TEMPO_RANGE)

import numpy as np
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model_name", "lyrics", "The model to sample from (logs/<model_name>/).")
flags.DEFINE_string("logdir", "logs", "Folder of the models.")
flags.DEFINE_string("vocabulary_file", None, "Optional: must be the model's own vocabulary.")
flags.DEFINE_string("checkpoint", "latest", "Which weights: latest, best (the lowest validation "
                    "loss), or a step that has a checkpoint.")
flags.DEFINE_string("output_file", None, "Where to write the sample; with --num_samples N > 1, "
                    "NAME-1.EXT ... NAME-N.EXT; - writes a text sample to standard output.")
flags.DEFINE_bool("overwrite", False, "Replace output files that exist already.")
flags.DEFINE_string("seed", "Yeah, oho ", "Text that starts the sample (text models).")
flags.DEFINE_integer("sample_length", None, "Tokens to generate after the seed or primer "
                     "(default: 1500 characters for text models, 1000 tokens for music models; "
                     "a jazz solo lasts its chord progression).")
flags.DEFINE_integer("log_frequency", 100, "Report progress every N tokens.")
flags.DEFINE_float("temperature", 1.0, "Below 1: safer and more repetitive; above 1: wilder.")
flags.DEFINE_integer("top_k", 0, "Draw only among the K likeliest tokens (0: all).")
flags.DEFINE_float("top_p", 1.0, "Draw only among the likeliest tokens whose probabilities add "
                   "up to P (1.0: all).")
flags.DEFINE_bool("greedy", False, "Always take the likeliest token (argmax); it repeats "
                  "itself more than sampling does.")
flags.DEFINE_integer("num_samples", 1, "Independent samples generated in parallel.")
flags.DEFINE_integer("beam_size", 1, "Beam search (as Magenta's): the likeliest streams kept per "
                     "sample every --steps_per_iteration tokens (1 with --branch_factor 1: plain "
                     "sampling). See docs/export.md.")
flags.DEFINE_integer("branch_factor", 1, "Beam search: copies of each kept stream, each drawing "
                     "its own continuation.")
flags.DEFINE_integer("steps_per_iteration", 1, "Beam search: tokens drawn between two prunings.")
flags.DEFINE_integer("random_seed", None, "Seed of the draws: the same seed gives the same "
                     "sample (default: a new one each run, printed).")
flags.DEFINE_string("chords", None, "Jazz models: the progression to improvise over, bars "
                    "separated by |, e.g. \"Dm7 G7 | Cmaj7 | A7\" (default: the first 32 bars of "
                    "the training solo's).")
flags.DEFINE_string("chords_from", None, "Jazz models: take the progression from a MIDI file's "
                    "accompaniment or a lead sheet's chord symbols.")
flags.DEFINE_integer("choruses", 1, "Jazz models: times the progression is played through.")
flags.DEFINE_integer("bars", None, "Music: the piece's length in bars of new music (instead of "
                     "--sample_length in tokens). Jazz: bars of the solo, the progression repeated "
                     "as often as it takes and cut there (default: --choruses times its length).")
flags.DEFINE_list("chord_parts", None, "Jazz, with --chords_from: the parts that hold the "
                  "accompaniment, by index or name (default: guessed).")
flags.DEFINE_enum("solo_instrument", DEFAULT_SOLO_INSTRUMENT, list(SOLO_PROGRAMS), "Jazz: "
                  "the General MIDI instrument of the solo part.")
flags.DEFINE_float("tempo", None, "Music: beats per minute of the written MIDI (default: the "
                   "tempos the model writes).")
flags.DEFINE_string("instruments", None, "Music: the instruments the piece may use, comma-"
                    "separated General MIDI names, families (piano, bass, guitar...), programs "
                    "0-127 or drums (default: all the model knows; with --primer_midi, the "
                    "primer's).")
flags.DEFINE_string("key", None, "Music: keep every pitched note in this key, e.g. \"D minor\", "
                    "\"Bb major\", \"A dorian\" (drums are never masked).")
flags.DEFINE_string("scale", None, "Music: keep every pitched note in the scale of these notes, "
                    "e.g. \"C D Eb G A\".")
flags.DEFINE_float("seconds", None, "Music: the piece's length in seconds of new music.")
flags.DEFINE_string("primer_notes", None, "Music: start from this melody, note names or MIDI "
                    "numbers, one quarter note each, - a rest: \"C4 E4 G4\" or \"60 64 67\".")
flags.DEFINE_string("primer_midi", None, "Music: start from this MIDI file instead of an "
                    "excerpt of the training data.")
flags.DEFINE_string("audio", None, "Music: also render the piece as a WAV file (FluidSynth when "
                    "installed, else a built-in synthesiser).")
flags.DEFINE_string("piano_roll", None, "Music: also draw the piece's piano roll as a PNG file.")
flags.mark_flag_as_required("output_file")

TEXT_SAMPLE_LENGTH = 1500  # characters, when --sample_length is not given for a text model
MUSIC_SAMPLE_LENGTH = 1000  # tokens, when neither --sample_length nor --bars/--seconds is given
MAX_MUSIC_LENGTH = 100_000  # tokens, however many --bars or --seconds ask for
SHOWN_BARS = 8  # of a jazz progression, in the line that names what was written
WRITES = {Family.TEXT: "text", Family.MUSIC: "music", Family.JAZZ: "jazz solos"}
# Flags only some families of model take (`Vocabulary.family`): those, and what the flag
# needs, for the message.
MODEL_KIND_FLAGS = {
    "primer_midi": ((Family.MUSIC,), "a music model (a jazz solo starts from the progression: "
                                      "--chords or --chords_from)"),
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
# Files written besides the sample, and the suffix each must have.
EXTRA_SUFFIXES = {"audio": ".wav", "piano_roll": ".png"}
# Set when Ctrl-C stopped the generation: the tokens each sample got (written, then status 130).
INTERRUPTED: list[int] = []


def validate_flags() -> None:
    cli.require_positive(sample_length=FLAGS.sample_length, log_frequency=FLAGS.log_frequency,
                         temperature=FLAGS.temperature, num_samples=FLAGS.num_samples,
                         top_p=FLAGS.top_p, choruses=FLAGS.choruses, bars=FLAGS.bars,
                         seconds=FLAGS.seconds)
    limits.require_sample_bounds(FLAGS.sample_length, FLAGS.num_samples, FLAGS.bars,
                                 FLAGS.seconds, FLAGS.choruses)
    lengths = [f"--{flag}" for flag in ("sample_length", "bars", "seconds")
               if FLAGS[flag].value is not None]
    if len(lengths) > 1:
        raise cli.UsageError(f"{' and '.join(lengths)} each set the length; give one of them")
    for first, second, both in (("chords", "chords_from", "give the progression"),
                                ("bars", "choruses", "set the solo's length"),
                                ("primer_midi", "primer_notes", "start the piece")):
        if FLAGS[first].present and FLAGS[second].present:
            raise cli.UsageError(f"--{first} and --{second} both {both}; give one of them")
    low, high = limits.TEMPERATURE_RANGE
    if not low <= FLAGS.temperature <= high:
        raise cli.UsageError(f"--temperature {FLAGS.temperature} is outside [{low:g}, {high:g}]; "
                             "below it use --greedy (always the likeliest token), above it every "
                             "token is as likely as any other")
    if FLAGS.top_k < 0:
        raise cli.UsageError(f"--top_k is {FLAGS.top_k}; give 0 (off) or a positive count")
    if FLAGS.tempo is not None:
        if not TEMPO_RANGE[0] <= FLAGS.tempo <= TEMPO_RANGE[1]:
            raise cli.UsageError(f"--tempo {FLAGS.tempo} is not a playable tempo; give beats "
                                 f"per minute between {TEMPO_RANGE[0]:g} and {TEMPO_RANGE[1]:g}")
    if FLAGS.top_p > 1.0:
        raise cli.UsageError(f"--top_p is {FLAGS.top_p}; give a share in (0, 1]")
    validate_beam_flags()
    if FLAGS.output_file == STDOUT and FLAGS.num_samples > 1:
        raise cli.UsageError("--output_file - writes one sample to standard output; give a file "
                             "name for --num_samples > 1")
    for flag in ("output_file", "audio", "piano_roll"):
        for path in output_paths(getattr(FLAGS, flag), FLAGS.num_samples):
            cli.require_output_paths(FLAGS.overwrite, **{flag: path})
    for flag, suffix in EXTRA_SUFFIXES.items():
        path = getattr(FLAGS, flag)
        if path and not path.lower().endswith(suffix):
            raise cli.UsageError(f"--{flag} {path}: it writes a {suffix} file; give a name "
                                 f"ending in {suffix}")


def validate_beam_flags() -> None:
    cli.require_positive(beam_size=FLAGS.beam_size, branch_factor=FLAGS.branch_factor,
                         steps_per_iteration=FLAGS.steps_per_iteration)
    if FLAGS.beam_size * FLAGS.branch_factor == 1:
        if FLAGS["steps_per_iteration"].present:
            raise cli.UsageError("--steps_per_iteration is for beam search; give --beam_size "
                                 "or --branch_factor above 1 too, or leave it out")
        return
    for flag, plain in (("top_p", 1.0), ("greedy", False)):
        if FLAGS[flag].present and FLAGS[flag].value != plain:
            raise cli.UsageError(f"--{flag} does not combine with beam search (--beam_size "
                                 f"{FLAGS.beam_size} --branch_factor {FLAGS.branch_factor}): "
                                 "beams rank streams drawn from the whole distribution; leave "
                                 f"out --{flag} or the beam flags")


def check_flags_fit(family: Family) -> None:
    """A `UsageError` for a flag the model's `family` (`Vocabulary.family`) does not take, or an --output_file whose
    suffix says another kind of file than the model writes (text in a .mid, MIDI in a .txt)."""
    for flag, (families, needs) in MODEL_KIND_FLAGS.items():
        if FLAGS[flag].present and family not in families:
            raise cli.UsageError(f"--{flag} needs {needs}; model {FLAGS.model_name} writes "
                                 f"{WRITES[family]}; leave the flag out")
    path = FLAGS.output_file
    if path == STDOUT and family is not Family.TEXT:
        raise cli.UsageError(f"--output_file -: model {FLAGS.model_name} writes MIDI, which "
                             "standard output does not take; give a .mid file name")
    suffix = os.path.splitext(path)[1].lower()
    if family is Family.TEXT and suffix in MIDI_SUFFIXES + tuple(EXTRA_SUFFIXES.values()):
        raise cli.UsageError(f"--output_file {path}: model {FLAGS.model_name} writes text, not "
                             f"{suffix}; give a .txt file name (MIDI comes from music models)")
    if family is not Family.TEXT and suffix not in MIDI_SUFFIXES:
        raise cli.UsageError(f"--output_file {path}: model {FLAGS.model_name} writes MIDI; give "
                             "a .mid file name (--audio adds a .wav, --piano_roll a .png)")


def text_primer(vocabulary, seed: str) -> list[str]:
    """The seed's characters; ones the vocabulary lacks become a space (or are dropped when it
    has no space), with a message naming them."""
    from lstm_core.preprocessing import describe_tokens

    lacking = vocabulary.missing(seed)
    if lacking:
        replacement = " " if " " in vocabulary.ids else ""
        print(f"warning: the vocabulary lacks {describe_tokens(lacking)} of --seed; "
              f"{'replaced by spaces' if replacement else 'dropped'}", file=sys.stderr)
        seed = "".join(c if c in vocabulary.ids else replacement for c in seed)
    if not seed:
        raise cli.UsageError("--seed is empty (or has no character the model knows); give a "
                             "few words to start from")
    return list(seed)


def sample_text(sampler, vocabulary, random_seed: int) -> None:
    from lstm_core.files import atomic_write

    primer = text_primer(vocabulary, FLAGS.seed)
    generated = generate(sampler, vocabulary.encode(primer),
                         FLAGS.sample_length or TEXT_SAMPLE_LENGTH, random_seed)
    for path, tokens, score in zip(output_paths(FLAGS.output_file, FLAGS.num_samples),
                                   *generated):
        text = "".join(primer) + vocabulary.decode(tokens)
        atomic_write(path, text.encode("utf-8"))
        if path == STDOUT:  # the sample alone on standard output, what was done on stderr
            print(f"wrote {len(tokens)} characters (--random_seed {random_seed}, "
                  f"{likelihood(score, len(tokens))})", file=sys.stderr)
        else:
            print(f"wrote {path} ({len(tokens)} characters, --random_seed {random_seed}, "
                  f"{likelihood(score, len(tokens))})")
    if FLAGS.num_samples == 1 and path != STDOUT:
        print(text[:600])


def sample_music(make_sampler, vocabulary, random_seed: int, folder) -> None:
    """A piece continuing --primer_midi, --primer_notes or an excerpt of the training data, kept
    to the chosen instruments, key and tempo: MIDI, and optionally WAV and a piano roll."""
    from lstm_core.files import atomic_write
    from lstm_core.music import constraints, generation, scores
    from lstm_core.music.constants import BOUNDARY, program_name
    from lstm_core.music.tokenizer import check_vocabulary

    tokens, metadata = vocabulary.tokens, vocabulary.metadata
    check_vocabulary(tokens, metadata, f"the vocabulary of model {FLAGS.model_name}")
    chosen = generation.controls(tokens, metadata, FLAGS.instruments, FLAGS.key, FLAGS.scale,
                                 FLAGS.tempo)
    if FLAGS.primer_midi:
        primer = generation.primer_from_midi(FLAGS.primer_midi, tokens, metadata)
        if chosen.programs is None:  # the piece goes on with its own instruments
            chosen = generation.Controls(generation.primer_programs(primer) or None,
                                         chosen.pitch_classes, chosen.tempo)
    elif FLAGS.primer_notes:
        primer = generation.primer_from_notes(FLAGS.primer_notes, tokens, metadata, chosen)
    else:
        excerpts = folder.load_primers() or [[BOUNDARY]]
        primer = excerpts[np.random.default_rng(random_seed).integers(len(excerpts))]
        primer = [BOUNDARY] + primer if primer[0] != BOUNDARY else primer
    keep_primer = bool(FLAGS.primer_midi or FLAGS.primer_notes)
    sampler = make_sampler(grammar=chosen.grammar(tokens, metadata))

    def piece(written):
        return generation.piece(primer, written, metadata, keep_primer, FLAGS.tempo)

    runs = []  # each run's ids and log-likelihoods; the pieces come from the last

    def sample(length: int) -> np.ndarray:
        runs.append(generate(sampler, vocabulary.encode(primer), length, random_seed))
        return runs[-1].ids

    measure = generation.bars if FLAGS.bars else generation.seconds if FLAGS.seconds else None
    if measure is None:
        generated = sample(FLAGS.sample_length or MUSIC_SAMPLE_LENGTH)
        target = None
    else:
        primed = measure(generation.piece(primer, [], metadata, True)) if keep_primer else 0
        target = primed + (FLAGS.bars or FLAGS.seconds)
        generated = generation.long_enough(
            sample, lambda ids: measure(piece(vocabulary.decode(ids))), target,
            MUSIC_SAMPLE_LENGTH, MAX_MUSIC_LENGTH)
    primer_errors = constraints.count_errors(primer, metadata)
    for n, (path, ids, log_likelihood) in enumerate(zip(
            output_paths(FLAGS.output_file, FLAGS.num_samples), generated,
            runs[-1].log_likelihood)):
        written = vocabulary.decode(ids)
        score = piece(written)
        if target is not None:
            score = generation.clipped(score, target if FLAGS.bars else None,
                                       None if FLAGS.bars else target)
        atomic_write(path, score.dumps_midi())
        invalid = constraints.count_errors(list(primer) + written, metadata) - primer_errors
        names = ", ".join(program_name(scores.program_of(t)) for t in score.tracks)
        print(f"wrote {path}: {len(score.tracks)} track(s) ({names}), {generation.bars(score)} "
              f"bars, {generation.seconds(score):.0f} s, {len(written)} tokens, {invalid} "
              f"invalid (--random_seed {random_seed}, {likelihood(log_likelihood, len(written))})")
        render_extras(path, n)


def render_extras(midi_path: str, n: int) -> None:
    """--audio and --piano_roll of sample `n`, from its MIDI file as written."""
    from lstm_core.music import render, scores

    if FLAGS.audio:
        audio = output_paths(FLAGS.audio, FLAGS.num_samples)[n]
        renderer = render.render_audio(midi_path, audio)
        print(f"wrote {audio} ({renderer} synthesiser)")
    if FLAGS.piano_roll:
        picture = output_paths(FLAGS.piano_roll, FLAGS.num_samples)[n]
        render.draw_piano_roll(scores.read_score(midi_path), picture)
        print(f"wrote {picture}")


def sample_jazz(sampler, vocabulary, random_seed: int) -> None:
    """A solo over the progression: tokens sampled, then realised as pitches over each chord."""
    from lstm_core.music import jazz

    metadata = vocabulary.metadata
    if FLAGS.chords_from:
        chorus = jazz.read_progression(FLAGS.chords_from, FLAGS.chord_parts)
    elif FLAGS.chords is not None:
        chorus = jazz.parse_progression(FLAGS.chords, metadata["measure_length"])
    else:
        chorus = jazz.parse_progression(metadata["progression"],
                                        metadata["measure_length"])[:jazz.CHORUS_BARS]
    progression = jazz.solo_form(chorus, FLAGS.bars, FLAGS.choruses)
    length = jazz.tokens_needed(progression, metadata["mean_duration"])
    primer = np.zeros([1], np.int32)  # the most frequent token
    generated = generate(sampler, primer, length, random_seed)
    for n, (path, ids, score) in enumerate(zip(output_paths(FLAGS.output_file,
                                                            FLAGS.num_samples), *generated)):
        solo = jazz.realize_solo(vocabulary.decode(ids), progression,
                                 np.random.default_rng([random_seed, n]),
                                 pitch_range=tuple(metadata["pitch_range"]),
                                 dynamics=metadata.get("dynamics"))
        jazz.write_jazz_midi(solo, progression, path, tempo=FLAGS.tempo or metadata["tempo"],
                             solo_program=SOLO_PROGRAMS[FLAGS.solo_instrument])
        opening = jazz.format_progression(progression[:SHOWN_BARS])
        more = " | ..." if len(progression) > SHOWN_BARS else ""
        print(f"wrote {path}: a solo over {len(progression)} bars of {opening}{more} "
              f"(--random_seed {random_seed}, {likelihood(score, len(ids))})")
        render_extras(path, n)


def generate(sampler, primer, length: int, random_seed: int):
    """`length` ids `[num_samples, length]` continuing `primer` (ids `[time]`, the same for
    every sample) and their log-likelihoods `[num_samples]` (`lstm_core.sampler.Generated`),
    with a progress bar of `length`. Ctrl-C returns what the finished chunks hold (the caller
    writes it, then `main` exits with status 130); with nothing yet, it says so and stops."""
    from lstm_core.progress import ProgressBar
    from lstm_core.sampler import GenerationInterrupted

    primer_ids = np.tile(np.asarray(primer, np.int32), [FLAGS.num_samples, 1])
    bar = ProgressBar(length, lines=True)
    try:
        generated = sampler.generate_scored(primer_ids, length, random_seed,
                                            lambda done, total: bar.update(done, "tokens"))
    except GenerationInterrupted as stop:
        generated = stop.generated
        done = generated.ids.shape[1]
        bar.close()
        if not done:
            print("interrupted before the first chunk of --log_frequency "
                  f"{FLAGS.log_frequency} tokens was generated: nothing was written",
                  file=sys.stderr)
            sys.exit(130)
        print(f"interrupted after {done} of {length} tokens: writing what was generated",
              file=sys.stderr)
        INTERRUPTED.append(done)
    bar.close()
    return generated


def likelihood(log_likelihood: float, tokens: int) -> str:
    """The log-likelihood of a sample, in all and per token, for comparing samples."""
    return (f"log-likelihood {log_likelihood:.1f}, {log_likelihood / max(tokens, 1):.3f} per "
            "token")


def output_paths(path: str | None, count: int) -> list[str]:
    if path is None:
        return []
    if count == 1:
        return [path]
    stem, extension = os.path.splitext(path)
    return [f"{stem}-{n}{extension}" for n in range(1, count + 1)]


def main(argv: Sequence[str]) -> None:
    validate_flags()
    from lstm_core.sampler import Sampler
    from lstm_core.saved import ModelFolder

    folder = ModelFolder(FLAGS.logdir, FLAGS.model_name)
    model, vocabulary, config = folder.load(FLAGS.vocabulary_file, FLAGS.checkpoint)
    if FLAGS.checkpoint != "latest":
        # On stderr: standard output may be the sample itself.
        print(f"sampling from {folder.checkpoint_path(FLAGS.checkpoint)}", file=sys.stderr)
    family = vocabulary.family
    check_flags_fit(family)
    length = FLAGS.sample_length or (TEXT_SAMPLE_LENGTH if family is Family.TEXT
                                     else MUSIC_SAMPLE_LENGTH)
    limits.require_fits(
        f"sampling {FLAGS.num_samples} x {length} tokens",
        limits.sampling_bytes(config.vocabulary_size, config.embedding_size, config.units,
                              config.layers, FLAGS.num_samples, length),
        "--sample_length or --num_samples")
    random_seed = FLAGS.random_seed if FLAGS.random_seed is not None else secrets.randbits(31)
    # A preset (deepjazz's model) may ask for greedy decoding unless told otherwise
    # (beam search draws its branches).
    greedy = FLAGS.greedy or (not FLAGS["greedy"].present and FLAGS.beam_size
                              * FLAGS.branch_factor == 1
                              and folder.training_record().get("greedy", False))
    make_sampler = functools.partial(Sampler, model, FLAGS.temperature, FLAGS.top_k, FLAGS.top_p,
                                     greedy, chunk_length=FLAGS.log_frequency,
                                     beam_size=FLAGS.beam_size, branch_factor=FLAGS.branch_factor,
                                     steps_per_iteration=FLAGS.steps_per_iteration)
    if family is Family.JAZZ:
        sample_jazz(make_sampler(), vocabulary, random_seed)
    elif family is Family.TEXT:
        sample_text(make_sampler(), vocabulary, random_seed)
    else:
        sample_music(make_sampler, vocabulary, random_seed, folder)
    if INTERRUPTED:
        sys.exit(130)


if __name__ == "__main__":
    cli.run(main, interrupted="interrupted: nothing more was written (a sample does not "
                              "resume; run the command again for a new one)")
