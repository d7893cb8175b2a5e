"""Benchmarks lstm-core against keras.layers.LSTM and torch.nn.LSTM on this machine.

    python benchmarks/bench.py            # the full run (about 4 minutes on 2 cores)
    python benchmarks/bench.py --quick    # a smoke test (CI, under a minute): tiny step counts, 5 MB corpus

In one run, interleaving the contenders round by round (so a noisy machine slows them all alike),
it measures:

- training tokens/s of one full optimizer step (forward, backward, Adam) of embedding 64 →
  2 LSTM layers → dense softmax, for lstm-core's own `Trainer` step, a `keras.layers.LSTM` model
  (`train_on_batch`, Adam) and `torch.nn.LSTM` (Adam, as many threads as cores), config small
  (units 128, batch 50, sequence 50, vocabulary 65) and large (units 512, batch 64, sequence 100,
  vocabulary 300); the achieved GFLOP/s and its fraction of a measured sgemm peak (numpy
  matmul of large float32 matrices);
- generation tokens/s of a 2×128 model, 1 and 64 streams: lstm-core's `Sampler`, a PyTorch
  stateful Python loop, and the tutorial generators' sliding-window Keras `predict` over 100 tokens;
- the peak resident memory of `train.py` on a generated text corpus (100 MB; 5 MB with
  --quick), in a subprocess, through the whole pipeline (vocabulary, encoding, batches, trainer).

Peers that are not installed (torch: `pip install -r benchmarks/requirements.txt`) are skipped
with a note. A table goes to stdout, and the last line is one JSON object with every figure and
ratio. The exit status is non-zero when lstm-core itself fails, and with --quick (the CI smoke
test) also when any contender that ran fails; a peer that is not installed never runs, so it is
a note, not a failure.
"""

from __future__ import annotations

import argparse
import json
import re
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))  # torch_lstm, in a worker process too
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CONFIGS = {  # units, batch, sequence, vocabulary
    "small": dict(units=128, batch=50, sequence=50, vocabulary=65),
    "large": dict(units=512, batch=64, sequence=100, vocabulary=300),
}
EMBEDDING, LAYERS = 64, 2
# The cores this process may run on, as lstm-core's trainer counts them (a container or taskset
# may allow fewer than the machine has); torch gets as many threads.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def training_flops_per_token(units: int, vocabulary: int, **_) -> float:
    """Matmul FLOPs of one training step per token: forward, and twice that backward."""
    forward = 0.0
    for layer in range(LAYERS):
        inputs = EMBEDDING if layer == 0 else units
        forward += 2.0 * (inputs + units) * 4 * units
    forward += 2.0 * units * vocabulary
    return 3.0 * forward


def sgemm_peak(n: int, repeats: int) -> float:
    """GFLOP/s of numpy's float32 matmul of two n×n matrices (the best of `repeats`)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2.0 * n ** 3 / best / 1e9


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def random_tokens(rng, vocabulary, *shape):
    return rng.integers(0, vocabulary, size=shape).astype(np.int32)


# ---- training contenders: each returns a `step()` that runs one synchronous optimizer step --
def lstm_core_trainer(units, batch, sequence, vocabulary, workdir):
    """lstm-core's own `Trainer` and its compiled train step, as `train.py` runs it."""
    from lstm_core.batch import Batch
    from lstm_core.model import ModelConfig
    from lstm_core.trainer import Trainer, TrainingConfig

    rng = np.random.default_rng(0)
    ids = random_tokens(rng, vocabulary, batch * (sequence * 4 + 1)).astype(np.uint16)
    config = TrainingConfig(batch_size=batch, sequence_length=sequence)
    trainer = Trainer(ModelConfig(vocabulary, units=units, layers=LAYERS,
                                  embedding_size=EMBEDDING), config,
                      Batch(ids, batch, sequence), None,
                      os.path.join(workdir, "checkpoints"), os.path.join(workdir, "logs"))
    inputs, targets = next(iter(trainer.train_batches.dataset()))
    state = [trainer.carried()]

    def step():
        result = trainer.step(inputs, targets, state[0])
        state[0] = result.state
        # What the training loop reads every step.
        float(result.loss), float(result.accuracy), float(result.gradient_norm)
        result.stop_votes.numpy()

    return step


def keras_lstm(units, batch, sequence, vocabulary, workdir):
    import keras

    model = keras.Sequential([
        keras.Input((sequence,), batch_size=batch, dtype="int32"),
        keras.layers.Embedding(vocabulary, EMBEDDING),
        *[keras.layers.LSTM(units, return_sequences=True) for _ in range(LAYERS)],
        keras.layers.Dense(vocabulary)])
    model.compile(keras.optimizers.Adam(0.002),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    inputs, targets = (random_tokens(rng, vocabulary, batch, sequence) for _ in range(2))
    return lambda: model.train_on_batch(inputs, targets)


def torch_lstm(units, batch, sequence, vocabulary, workdir):
    import torch
    from torch_lstm import TorchLanguageModel

    torch.set_num_threads(CORES)
    torch.manual_seed(0)
    model = TorchLanguageModel(vocabulary, units, LAYERS, EMBEDDING)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
    loss_function = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    inputs, targets = (torch.from_numpy(random_tokens(rng, vocabulary, sequence, batch).astype(
        np.int64)) for _ in range(2))
    state = [tuple(torch.zeros(LAYERS, batch, units) for _ in range(2))]

    def step():
        optimizer.zero_grad()
        logits, new_state = model(inputs, state[0])
        loss = loss_function(logits.reshape(-1, vocabulary), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        state[0] = tuple(s.detach() for s in new_state)  # carried, as truncated BPTT does
        loss.item()

    return step


# ---- generation contenders: each returns `generate(length)` for a fixed number of streams -----
def lstm_core_sampler(streams, vocabulary=65, units=128):
    import tensorflow as tf

    from lstm_core.model import LanguageModel, ModelConfig
    from lstm_core.sampler import Sampler

    tf.random.set_seed(0)
    model = LanguageModel(ModelConfig(vocabulary, units=units, layers=LAYERS))
    samplers = {}
    primer = random_tokens(np.random.default_rng(0), vocabulary, streams, 10)

    def generate(length):
        if length not in samplers:  # sample.py reports progress every 100 tokens by default;
            samplers[length] = Sampler(model, chunk_length=min(length, 1000))  # chunk: ≤ 1000
        return samplers[length].generate(primer, length, random_seed=1)

    return generate


def torch_sampler(streams, vocabulary=65, units=128):
    import torch

    torch.set_num_threads(CORES)
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(vocabulary, EMBEDDING)
    lstm = torch.nn.LSTM(EMBEDDING, units, LAYERS)
    output = torch.nn.Linear(units, vocabulary)
    primer = torch.from_numpy(random_tokens(np.random.default_rng(0), vocabulary, 10, streams)
                              .astype(np.int64))

    @torch.no_grad()
    def generate(length):
        _, state = lstm(embedding(primer[:-1]))
        token, generated = primer[-1], []
        for _ in range(length):
            hidden, state = lstm(embedding(token[None]), state)
            probabilities = torch.softmax(output(hidden[0]), dim=-1)
            token = torch.multinomial(probabilities, 1)[:, 0]
            generated.append(token)
        return torch.stack(generated, 1)

    return generate


def window_sampler(streams, vocabulary=65, units=128, window=100):
    """The tutorial generators' way: a Keras model re-run over the last 100 tokens per new token."""
    import keras

    model = keras.Sequential([
        keras.Input((window,), dtype="int32"),
        keras.layers.Embedding(vocabulary, EMBEDDING),
        keras.layers.LSTM(units, return_sequences=True), keras.layers.LSTM(units),
        keras.layers.Dense(vocabulary, activation="softmax")])
    rng = np.random.default_rng(0)
    tokens = random_tokens(rng, vocabulary, streams, window)

    def generate(length):
        nonlocal tokens
        for _ in range(length):
            probabilities = model.predict(tokens[:, -window:], verbose=0).astype(np.float64)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            chosen = [rng.choice(vocabulary, p=p) for p in probabilities]
            tokens = np.concatenate([tokens[:, 1:], np.array(chosen, np.int32)[:, None]], 1)
        return tokens

    return generate


def lstm_core_generation(streams, length):
    generate = lstm_core_sampler(streams)
    return lambda: generate(length)


def torch_generation(streams, length):
    generate = torch_sampler(streams)
    return lambda: generate(length)


def window_generation(streams, length):
    generate = window_sampler(streams)
    return lambda: generate(length)


# ---- running them --------------------------------------------------------------------------
def timed_calls(function):
    """`function` → `run(n)`: the seconds that n calls take."""
    def run(n):
        start = time.perf_counter()
        for _ in range(n):
            function()
        return time.perf_counter() - start
    return run


def _worker(connection, builder: str, kwargs: dict):
    """A contender in a process of its own: builds it, then answers `n` with the seconds of n
    calls (or with an error's text)."""
    try:
        run = timed_calls(globals()[builder](**kwargs))
        connection.send("ready")
    except Exception:  # noqa: BLE001
        connection.send(traceback.format_exc())
        return
    while (n := connection.recv()) is not None:
        try:
            connection.send(run(n))
        except Exception:  # noqa: BLE001
            connection.send(traceback.format_exc())


class Remote:
    """A contender run in its own process. PyTorch's OpenMP threads slow down by orders of
    magnitude in a process where TensorFlow has run (measured: 1k instead of 80k tokens/s), so
    each library gets a process of its own, as it would in a user's program."""

    def __init__(self, builder: str, **kwargs):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, builder, kwargs),
                                       daemon=True)
        self.process.start()
        answer = self.connection.recv()
        if answer != "ready":
            self.close()
            raise RuntimeError(answer)

    def __call__(self, n: int) -> float:
        self.connection.send(n)
        answer = self.connection.recv()
        if isinstance(answer, str):
            raise RuntimeError(answer)
        return answer

    def close(self):
        try:
            self.connection.send(None)
        except OSError:
            pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


def interleaved(contenders: dict, rounds: int, work: dict, warmup: int = 2) -> dict:
    """Runs `work[name]` calls of each contender, round-robin; the median seconds per call.

    Each contender is `run(n)` → the seconds of n calls. A contender that fails is dropped
    (and reported); its entry holds the error.
    """
    timings = {name: [] for name in contenders}
    errors = {}
    for name, run in list(contenders.items()):
        try:
            run(warmup)
        except Exception:  # noqa: BLE001 - reported, then the others go on
            errors[name] = traceback.format_exc()
            log(f"{name} failed:\n{errors[name]}")
            del contenders[name]
    for _ in range(rounds):
        for name, run in list(contenders.items()):
            try:
                timings[name].append(run(work[name]) / work[name])
            except Exception:  # noqa: BLE001
                errors[name] = traceback.format_exc()
                log(f"{name} failed:\n{errors[name]}")
                del contenders[name]
    return {name: (statistics.median(times) if times else None) for name, times in
            timings.items()} | {name: None for name in errors}, errors


def peer_available(module: str, notes: list) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        notes.append(f"{module} is not installed: its contenders are skipped "
                     "(pip install -r benchmarks/requirements.txt)")
        return False


def train_benchmark(name, shape, rounds, steps, peers, results, failures):
    tokens = shape["batch"] * shape["sequence"]
    contenders = {}
    with tempfile.TemporaryDirectory() as workdir:
        builders = {"lstm-core": lambda: timed_calls(lstm_core_trainer(**shape, workdir=workdir)),
                    "keras": lambda: timed_calls(keras_lstm(**shape, workdir=workdir)),
                    "torch": lambda: Remote("torch_lstm", **shape, workdir=workdir)}
        for contender, build in builders.items():
            if contender != "lstm-core" and contender not in peers:
                continue
            log(f"building {contender} ({name})")
            try:
                contenders[contender] = build()
            except Exception:  # noqa: BLE001
                failures[f"train_{name}_{contender}"] = traceback.format_exc()
                log(failures[f"train_{name}_{contender}"])
        log(f"timing training ({name}): {rounds} rounds of {steps} steps each")
        seconds, errors = interleaved(dict(contenders), rounds, {c: steps for c in contenders})
        for contender in contenders.values():
            getattr(contender, "close", lambda: None)()
    failures.update({f"train_{name}_{c}": e for c, e in errors.items()})
    flops = training_flops_per_token(**shape)
    for contender, per_step in seconds.items():
        key = contender.replace("-", "_")
        if per_step:
            results[f"train_{name}_{key}_tok_s"] = tokens / per_step
            results[f"train_{name}_{key}_gflop_s"] = tokens / per_step * flops / 1e9


def generation_benchmark(streams, rounds, lengths, peers, results, failures):
    contenders = {}
    for contender in ("lstm-core", "torch", "window"):
        if contender != "lstm-core" and contender not in peers:
            continue
        try:
            if contender == "torch":
                contenders[contender] = Remote("torch_generation", streams=streams,
                                               length=lengths[contender])
            else:
                contenders[contender] = timed_calls(
                    {"lstm-core": lstm_core_generation, "window": window_generation}[contender](
                        streams, lengths[contender]))
        except Exception:  # noqa: BLE001
            failures[f"gen_{streams}_{contender}"] = traceback.format_exc()
            log(failures[f"gen_{streams}_{contender}"])
    log(f"timing generation ({streams} streams): {rounds} rounds")
    seconds, errors = interleaved(dict(contenders), rounds, {c: 1 for c in contenders},
                                  warmup=1)
    for contender in contenders.values():
        getattr(contender, "close", lambda: None)()
    failures.update({f"gen_{streams}_{c}": e for c, e in errors.items()})
    for contender, per_call in seconds.items():
        if per_call:
            key = contender.replace("-", "_")
            results[f"gen_{streams}_{key}_tok_s"] = streams * lengths[contender] / per_call


def write_corpus(path: str, megabytes: float) -> None:
    """Plain text of `megabytes` MB: words of a 60-character alphabet in lines."""
    rng = np.random.default_rng(0)
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?'-", np.uint8)
    size = int(megabytes * 1e6)
    with open(path, "wb") as f:
        block = 1 << 22
        for start in range(0, size, block):
            n = min(block, size - start)
            chars = alphabet[rng.integers(0, len(alphabet), n)]
            chars[rng.random(n) < 0.17] = ord(" ")
            chars[rng.random(n) < 0.02] = ord("\n")
            f.write(chars.tobytes())


def measured_train_py(flags: list[str], workdir: str) -> dict:
    """Runs `train.py` with `flags` in a subprocess; returns its output, exit status, wall time,
    the seconds until it printed its first step (``step N/``; None if it never did), its peak
    resident memory in MB (VmHWM at its exit) and its timeline: each line with the seconds
    when it came."""
    report = os.path.join(workdir, "peak_rss_kb")
    # ru_maxrss of a child started from this (large) process reports this process's peak as
    # well; the high-water mark of the child's own memory (VmHWM) is read at its exit.
    wrapper = ("import atexit, runpy, sys\n"
               "def report():\n"
               "    for line in open('/proc/self/status'):\n"
               "        if line.startswith('VmHWM:'):\n"
               f"            open({report!r}, 'w').write(line.split()[1])\n"
               "atexit.register(report)\n"
               "sys.argv = sys.argv[1:]\n"
               "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    command = [sys.executable, "-c", wrapper, os.path.join(ROOT, "train.py"), *flags]
    start = time.perf_counter()
    first_step, lines, timeline = None, [], []
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        lines.append(line)
        timeline.append((time.perf_counter() - start, line))
        if first_step is None and re.match(r"step \d+/", line):
            first_step = time.perf_counter() - start
    status = process.wait()
    rss = None
    if os.path.exists(report):
        with open(report) as f:
            rss = int(f.read()) / 1024.0  # kB
        os.remove(report)
    return {"output": "".join(lines), "status": status, "rss_mb": rss, "first_step": first_step,
            "seconds": time.perf_counter() - start, "timeline": timeline}


def memory_benchmark(megabytes, results, failures):
    """Peak RSS of `train.py` training a few steps on a generated corpus of `megabytes` MB."""
    with tempfile.TemporaryDirectory() as workdir:
        corpus = os.path.join(workdir, "corpus.txt")
        write_corpus(corpus, megabytes)
        flags = ["--training_file", corpus,
                 "--vocabulary_file", os.path.join(workdir, "corpus.vocab"),
                 "--logdir", os.path.join(workdir, "logs"), "--model_name", "memory",
                 "--max_steps", "5", "--sample_every", "0", "--log_frequency", "5"]
        log(f"training on a {megabytes:g} MB corpus: train.py {' '.join(flags)}")
        run = measured_train_py(flags, workdir)
        if run["status"] or run["rss_mb"] is None:
            failures["rss"] = run["output"][-3000:]
            log(f"train.py failed:\n{failures['rss']}")
            return
        results[f"rss_{megabytes:g}mb_corpus_mb"] = run["rss_mb"]
        results["rss_corpus_mb"] = megabytes
        results["rss_over_corpus"] = run["rss_mb"] / megabytes
        results["rss_train_py_seconds"] = run["seconds"]


def ratio(results, key, numerator, denominator):
    if results.get(numerator) and results.get(denominator):
        results[key] = results[numerator] / results[denominator]


def table(results) -> str:
    def value(key, digits=0):
        v = results.get(key)
        return "—" if v is None else f"{v:,.{digits}f}"

    lines = [f"sgemm peak (numpy, {CORES} cores): {value('sgemm_peak_gflop_s', 1)} GFLOP/s", "",
             "training, tokens/s (GFLOP/s)      lstm-core          keras.LSTM         torch.nn.LSTM"]
    for name in CONFIGS:
        cells = [f"{value(f'train_{name}_{c}_tok_s')} ({value(f'train_{name}_{c}_gflop_s', 1)})"
                 for c in ("lstm_core", "keras", "torch")]
        lines.append(f"  {name:32s}" + "".join(f"{c:19s}" for c in cells))
    lines.append(f"  lstm-core / torch: small {value('train_small_vs_torch', 2)}×, large "
                 f"{value('train_large_vs_torch', 2)}×; / keras: small "
                 f"{value('train_small_vs_keras', 2)}×, large {value('train_large_vs_keras', 2)}×;"
                 f" large at {value('large_fraction_of_sgemm_peak', 2)} of the sgemm peak")
    lines += ["", "generation 2×128, tokens/s          lstm-core          torch loop         "
              "Keras window"]
    for streams in (1, 64):
        cells = [value(f"gen_{streams}_{c}_tok_s") for c in ("lstm_core", "torch", "window")]
        lines.append(f"  {streams} stream{'s' if streams > 1 else ''}".ljust(34)
                     + "".join(f"{c:19s}" for c in cells))
    lines.append(f"  lstm-core / torch loop: 1 stream {value('gen_1_vs_torch', 1)}×, 64 streams "
                 f"{value('gen_64_vs_torch', 1)}×; / window: {value('gen_1_vs_window', 0)}×, "
                 f"{value('gen_64_vs_window', 0)}×")
    corpus = results.get("rss_corpus_mb")
    if corpus:
        lines += ["", f"peak RSS of train.py on a {corpus:g} MB corpus: "
                  f"{value(f'rss_{corpus:g}mb_corpus_mb')} MB "
                  f"({value('rss_over_corpus', 1)}× the corpus)"]
    return "\n".join(lines)


def ours_among(failures: dict) -> list[str]:
    """The failures of lstm-core itself (its contenders and train.py's memory run)."""
    return [key for key in failures if "lstm-core" in key or key == "rss"]


def exit_status(failures: dict, quick: bool) -> int:
    """1 when lstm-core failed; with --quick (the CI smoke test) also when any contender that
    ran failed, so that a broken peer harness cannot rot unnoticed. `failures` only holds
    contenders that ran: peers that are not installed are skipped with a note."""
    return 1 if ours_among(failures) or (quick and failures) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke test (CI)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: "
                        "train_small,train_large,gen,rss, and window (the sliding-window peer "
                        "of generation, the slowest part on a busy machine)")
    parser.add_argument("--corpus_mb", type=float, default=None,
                        help="size of the generated corpus (default 100; 5 with --quick)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    notes: list[str] = []
    peers = {"keras"} | ({"torch"} if peer_available("torch", notes) else set()) | (
        set() if "window" in skip else {"window"})
    # Other jobs on the machine slow every contender alike; the load says how much noise to expect.
    results: dict = {"cores": CORES, "quick": args.quick, "load_average": os.getloadavg()[0]}
    failures: dict = {}

    quick = args.quick
    results["sgemm_peak_gflop_s"] = sgemm_peak(1024 if quick else 3072, 3 if quick else 10)
    import tensorflow as tf

    results["tensorflow"] = tf.__version__
    if "torch" in peers:
        import torch

        results["torch"] = torch.__version__
    for name, shape in CONFIGS.items():
        if f"train_{name}" in skip:
            continue
        steps = {"small": 20, "large": 3}[name] if not quick else 2
        train_benchmark(name, shape, rounds=2 if quick else 7, steps=steps, peers=peers,
                        results=results, failures=failures)
    if "gen" not in skip:
        for streams in (1, 64):
            lengths = ({"lstm-core": 200, "torch": 50, "window": 2} if quick else
                       {"lstm-core": 5000 if streams == 1 else 1000, "torch": 500,
                        "window": 50 if streams == 1 else 10})
            generation_benchmark(streams, 2 if quick else 5, lengths, peers, results, failures)
    if "rss" not in skip:
        memory_benchmark(args.corpus_mb or (5 if quick else 100), results, failures)

    for name in CONFIGS:
        for peer in ("torch", "keras"):
            ratio(results, f"train_{name}_vs_{peer}", f"train_{name}_lstm_core_tok_s",
                  f"train_{name}_{peer}_tok_s")
    if results.get("train_large_lstm_core_gflop_s"):
        results["large_fraction_of_sgemm_peak"] = (results["train_large_lstm_core_gflop_s"]
                                                   / results["sgemm_peak_gflop_s"])
    if results.get("train_large_torch_gflop_s"):
        results["large_torch_fraction_of_sgemm_peak"] = (results["train_large_torch_gflop_s"]
                                                         / results["sgemm_peak_gflop_s"])
    for streams in (1, 64):
        results[f"gen_{streams}_tok_s"] = results.get(f"gen_{streams}_lstm_core_tok_s")
        for peer in ("torch", "window"):
            ratio(results, f"gen_{streams}_vs_{peer}", f"gen_{streams}_lstm_core_tok_s",
                  f"gen_{streams}_{peer}_tok_s")

    print(table(results))
    for note in notes:
        print(f"note: {note}")
    ours = ours_among(failures)
    for key in failures:
        print(f"FAILED: {key}" + (" (lstm-core)" if key in ours else " (a peer)"))
    results["failures"] = sorted(failures)
    results["notes"] = notes
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                      for k, v in results.items()}))
    return exit_status(failures, args.quick)


if __name__ == "__main__":
    sys.exit(main())
