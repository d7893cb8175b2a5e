"""Prepares a music corpus once: its token file and its vocabulary file.

    python -m lstm_core.music.prepare --midi_dir DIR \\
        --training_file data/piano.tokens --vocabulary_file data/piano.vocab

``--midi_dir`` takes any music source `train.py` takes (a folder, a score file, a glob, or
``music21:bach``, the default). Files are read in parallel and cached in ``--cache_dir``; the
token file (format in `lstm_core.music.corpus`) then trains without reading any score.
"""

from __future__ import annotations

import time
from typing import Sequence

from absl import flags

from lstm_core.music import corpus, tokenizer
from lstm_core.music.constants import DEFAULT_SOURCE, programs_named
from lstm_core.preprocessing import Vocabulary
from lstm_core.progress import Report, TaskProgress, Terminal, silent_progress, silent_report

FLAGS = flags.FLAGS


def prepare(source: str, training_file: str, vocabulary_file: str, encoding: str,
            instruments: str, cache_dir: str, bpe_vocabulary: int = 0,
            report: Report = silent_report, progress: TaskProgress = silent_progress
            ) -> Vocabulary:
    """Writes the token file and the vocabulary file of `source`; returns the vocabulary.
    `report` and `progress` hear of the files read (`corpus.load_pieces`)."""
    pieces, metadata = corpus.load_pieces(source, encoding, programs_named(instruments),
                                          cache_dir, "--midi_dir", bpe_vocabulary, report,
                                          progress)
    corpus.write_token_file(training_file, pieces, metadata)
    joined = corpus.join_pieces(pieces)
    vocabulary = Vocabulary.build(joined, kind=metadata["encoding"], metadata=metadata)
    vocabulary.save(vocabulary_file)
    return vocabulary


def main(argv: Sequence[str]) -> None:
    from lstm_core.cli import require_output_paths

    require_output_paths(FLAGS.overwrite, training_file=FLAGS.training_file,
                         vocabulary_file=FLAGS.vocabulary_file)
    start, terminal = time.perf_counter(), Terminal()
    vocabulary = prepare(FLAGS.midi_dir, FLAGS.training_file, FLAGS.vocabulary_file,
                         FLAGS.encoding, FLAGS.instruments, FLAGS.cache_dir,
                         FLAGS.bpe_vocabulary, terminal.report, terminal.progress)
    print(f"wrote {FLAGS.training_file} and {FLAGS.vocabulary_file} ({len(vocabulary)} tokens, "
          f"{vocabulary.kind} encoding) in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    from lstm_core.cli import run

    flags.DEFINE_string("midi_dir", DEFAULT_SOURCE,
                        "MIDI folder, MIDI file, glob, or music21:COMPOSER to prepare.")
    flags.DEFINE_string("training_file", None, "Token file to write (e.g. data/piano.tokens).")
    flags.DEFINE_string("vocabulary_file", None, "Vocabulary file to write (data/piano.vocab).")
    flags.DEFINE_enum("encoding", tokenizer.DEFAULT, list(tokenizer.ENCODINGS),
                      "MidiTok's remi, tsd or midilike, or notes (pitch and chord names).")
    flags.DEFINE_string("instruments", "all", "all, or the instruments to keep: General MIDI "
                        "names, families (piano, bass) or programs, and drums, comma-separated.")
    flags.DEFINE_integer("bpe_vocabulary", 0, "Learn MidiTok's BPE up to this many tokens "
                         "(0: none).")
    flags.DEFINE_string("cache_dir", "data/cache", "Where each file's tokens are cached.")
    flags.DEFINE_bool("overwrite", False, "Replace existing output files.")
    flags.mark_flags_as_required(["training_file", "vocabulary_file"])
    run(main)
