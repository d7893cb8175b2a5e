"""A text corpus larger than memory: peak RSS of train.py and its time to the first step.

    python benchmarks/large_corpus.py                 # a 1 GB corpus generated in /tmp
    python benchmarks/large_corpus.py --megabytes 200

Generates the corpus (tinyshakespeare repeated with variation: each copy's lines rotated, some
upper-cased and numbered, so that it is text with a real character distribution) in a temporary
folder that is deleted at the end, then runs `train.py` on it twice with a small model
(``--max_steps 2``, then resumed to 4):

- the first run counts the characters (the vocabulary) and encodes the corpus into the cache
  beside the vocabulary, in chunks, then memory-maps it;
- the second hashes the corpus, finds the cache valid and memory-maps it.

For each it prints the peak resident memory (VmHWM), the seconds until the first training step
and the whole run's seconds; the last line is one JSON object. The targets: peak RSS under
1.5 GB on both runs, the second reaching its first step within a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import log, measured_train_py  # noqa: E402

SHAKESPEARE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                           "shared", "data", "text", "tinyshakespeare.txt")


def write_varied_corpus(path: str, megabytes: float, source: str) -> None:
    """`megabytes` MB of the text of `source`, each copy varied so that no two are equal."""
    with open(source, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    size, written, copy = int(megabytes * 1e6), 0, 0
    with open(path, "w", encoding="utf-8") as f:
        while written < size:
            shift = (copy * 7919) % len(lines)
            varied = lines[shift:] + lines[:shift]
            every = 3 + copy % 11
            text = "".join(line.upper() if k % every == 0 else line
                           for k, line in enumerate(varied))
            text = f"{copy}\n" + text[:size - written]
            f.write(text)
            written += len(text.encode("utf-8"))
            copy += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1000)
    parser.add_argument("--source", default=SHAKESPEARE)
    args = parser.parse_args()
    results = {"corpus_mb": args.megabytes}
    with tempfile.TemporaryDirectory() as workdir:
        corpus = os.path.join(workdir, "corpus.txt")
        log(f"writing a {args.megabytes:g} MB corpus")
        write_varied_corpus(corpus, args.megabytes, args.source)
        flags = ["--training_file", corpus, "--vocabulary_file",
                 os.path.join(workdir, "corpus.vocab"), "--logdir", os.path.join(workdir, "logs"),
                 "--model_name", "large", "--sample_every", "0", "--histogram_frequency", "0",
                 "--log_frequency", "1", "--validation_fraction", "0.0001"]
        for run, steps in (("first", 2), ("later", 4)):
            log(f"{run} run: train.py {' '.join(flags)} --max_steps {steps}")
            measured = measured_train_py([*flags, "--max_steps", str(steps)], workdir)
            if measured["status"]:
                print(measured["output"][-3000:])
                return 1
            for key in ("rss_mb", "first_step", "seconds"):
                results[f"{run}_{key}"] = measured[key]
            print(f"{run} run: peak RSS {measured['rss_mb']:,.0f} MB, first step after "
                  f"{measured['first_step']:.1f} s, {measured['seconds']:.1f} s in all",
                  flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
