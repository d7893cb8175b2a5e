"""A text corpus larger than memory: train.py's peak RSS, its time to the first step and per
validation, and how soon it stops when asked.

    python benchmarks/large_corpus.py                 # a 1 GB corpus generated in /tmp
    python benchmarks/large_corpus.py --megabytes 200

Generates the corpus (tinyshakespeare repeated with variation: each copy's lines rotated, some
upper-cased and numbered, so that it is text with a real character distribution) in a temporary
folder that is deleted at the end, then runs `train.py` on it with a small model and the
default validation split (the last 5%: 50 million tokens of 1 GB):

- first (``--max_steps 2``, validating at steps 1 and 2): counts the characters (the
  vocabulary) and encodes the corpus into the cache beside the vocabulary, in chunks, then
  memory-maps it;
- later (resumed to 4, validating at step 4): hashes the corpus, finds the cache valid and
  memory-maps it;
- stop: a new model that validates the whole split (``--validation_tokens 0``, minutes of work)
  is sent SIGTERM when its first validation starts.

For the first two it prints the peak resident memory (VmHWM), the seconds until the first
training step, each validation's seconds (from its step's log line to its own line; the first
includes compiling the evaluation) and the whole run's seconds; for the last, the seconds from
SIGTERM to the exit and the exit status. The last line is one JSON object. The targets: peak RSS
under 1.5 GB, the first run under 3 minutes and the later one under 60 seconds on 2 cores, and
the stop within 10 seconds with status 143 and the checkpoint of step 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, log, measured_train_py  # noqa: E402

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


def validation_seconds(timeline: list[tuple[float, str]]) -> list[float]:
    """Each validation's seconds: from the log line of its step to its own line."""
    logged, seconds = {}, []
    for at, line in timeline:
        if match := re.match(r"step (\d+)/", line):
            logged[match[1]] = at
        elif match := re.match(r"step (\d+) validation", line):
            seconds.append(at - logged[match[1]])
    return seconds


def seconds_to_stop(flags: list[str]) -> tuple[float, int, str]:
    """Runs `train.py` with `flags` and sends it SIGTERM at the log line of step 1 (its
    validation starts); returns the seconds from the signal to the exit, the exit status and the
    output."""
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), *flags],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines, sent = [], None
    for line in process.stdout:
        lines.append(line)
        if line.startswith("step 1/"):
            process.send_signal(signal.SIGTERM)
            sent = time.perf_counter()
            break
    lines.append(process.communicate()[0])
    return time.perf_counter() - (sent or time.perf_counter()), process.returncode, "".join(lines)


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
                 "--sample_every", "0", "--histogram_frequency", "0", "--log_frequency", "1"]
        for run, steps in (("first", 2), ("later", 4)):
            command = [*flags, "--model_name", "large", "--max_steps", str(steps)]
            log(f"{run} run: train.py {' '.join(command)}")
            measured = measured_train_py(command, workdir)
            if measured["status"]:
                print(measured["output"][-3000:])
                return 1
            validations = validation_seconds(measured["timeline"])
            for key in ("rss_mb", "first_step", "seconds"):
                results[f"{run}_{key}"] = measured[key]
            results[f"{run}_validation_seconds"] = validations
            results["validation_tokens"] = int(re.search(
                r"validation_tokens ([\d,]+)", measured["output"])[1].replace(",", ""))
            print(f"{run} run: peak RSS {measured['rss_mb']:,.0f} MB, first step after "
                  f"{measured['first_step']:.1f} s, validations of "
                  f"{results['validation_tokens']:,} tokens "
                  f"{', '.join(f'{s:.1f}' for s in validations)} s, "
                  f"{measured['seconds']:.1f} s in all", flush=True)
        command = [*flags, "--model_name", "stop", "--validation_tokens", "0",
                   "--validation_every", "1", "--max_steps", "2"]
        log(f"stop run: train.py {' '.join(command)}, SIGTERM as step 1 validates")
        seconds, status, output = seconds_to_stop(command)
        saved = re.search(r"interrupted at step (\d+): saved", output)
        results.update(stop_seconds=seconds, stop_status=status,
                       stop_saved_step=int(saved[1]) if saved else None)
        print(f"stop run: exited {seconds:.1f} s after SIGTERM with status {status}, "
              f"{saved[0] if saved else 'no checkpoint saved'}", flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
