"""Time to quality: validation bits per character after a budget of CPU seconds, lstm-core
against PyTorch.

    python benchmarks/quality.py                      # tinyshakespeare, 1,200 CPU seconds each
    python benchmarks/quality.py --text FILE --cpu_seconds 300 --jobs 2
    python benchmarks/quality.py --quick              # CI: an 8 KB verse, 20 CPU s each

Four trainers learn the same text, each in a process of its own, for the same budget of CPU
seconds counted by that process's clock (`time.process_time`: every thread's time, so other jobs
on the machine do not decide the result; the clock starts when training starts, after the
imports):

- ``lstm-core default``: ``train.py`` with every default (2x128, batches of 50 x 50, Adam 0.002
  decayed 0.97 per epoch, 10 epochs), cut when the budget is spent;
- ``lstm-core --cpu_seconds``: ``train.py --cpu_seconds BUDGET`` (`lstm_core.budget`);
- ``torch char-rnn``: `torch.nn.LSTM` (benchmarks/torch_lstm.py) at char-rnn's defaults, which
  are lstm-core's: 2x128, sequence 50, batch 50, Adam 2e-3 decayed 0.97 per epoch, clip 5;
- ``torch --cpu_seconds``: `torch.nn.LSTM` at the recipe lstm-core chose (width, batch,
  sequence, peak rate, warm-up and cosine over the budget's time, dropout, validations, one
  thread).

Both sides read the same token ids (lstm-core's vocabulary and split: the last 5% held out), in
the same contiguous streams, and validate over the same held-out batches (`lstm_core.batch`'s
layout, mirrored for PyTorch), at the same steps. Each reports its best validation bits per
character. The table goes to stdout, the curve (bits against CPU seconds) to
``OUT/quality.png``, and the last line is one JSON object with every figure. PyTorch, when not
installed (``pip install -r benchmarks/requirements.txt``), is skipped with a note. The exit
status is 1 when a trainer fails, never validates, measures a loss that is not a positive number
or overruns its budget by half (`failed`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TEXT = os.path.join(ROOT, "..", "shared", "data", "text", "tinyshakespeare.txt")
CONTENDERS = ("lstm-core default", "lstm-core --cpu_seconds", "torch char-rnn",
              "torch --cpu_seconds")
CHAR_RNN = dict(units=128, layers=2, batch_size=50, sequence_length=50, learning_rate=0.002,
                learning_rate_decay=0.97, dropout=0.0, embedding_size=64)
VALIDATION_FRACTION = 0.05  # lstm-core's default split
QUICK_VERSE = "Yeah, oho, the night is young and the song goes on,\nsing it loud until the dawn.\n"
# PyTorch's OpenMP threads spin while one waits for another, thousands of times a step; on a
# busy machine a peer thread is often descheduled and the spinning becomes most of the CPU time
# (measured: under a load of 10 on 2 cores, a 2x128 step took over 5 times its CPU seconds).
# Waiting passively keeps the clock counting work.
PASSIVE_WAIT = {"OMP_WAIT_POLICY": "PASSIVE"}
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def slug(contender: str) -> str:
    return contender.replace(" ", "_").replace("-", "")


# ---- lstm-core --------------------------------------------------------------------------------
class BudgetSpent(Exception):
    """The default command's run is cut: its budget of CPU seconds is spent."""


def run_lstm_core(contender: str, text: str, out: str, cpu_seconds: float,
                  validation_tokens: int) -> dict:
    """lstm-core's `train` with every default, or with ``cpu_seconds``; its curve and best."""
    from lstm_core.callbacks import TrainingCallbacks
    from lstm_core.training import train

    curve, started = [], time.process_time()
    budgeted = contender == "lstm-core --cpu_seconds"

    class Curve(TrainingCallbacks):
        def on_validation(self, step, metrics):
            curve.append((time.process_time() - started, metrics["validation_bits_per_token"]))
            log(f"{contender}: step {step}, {curve[-1][0]:.0f} CPU s: validation bits "
                f"{curve[-1][1]:.3f}")

        def on_step(self, step, metrics):
            if not budgeted and time.process_time() - started > cpu_seconds:
                raise BudgetSpent()

    values = dict(training_file=text, vocabulary_file=os.path.join(out, "text.vocab"),
                  logdir=os.path.join(out, "logs"), model_name=slug(contender), fresh=True,
                  histogram_frequency=0, sample_every=0, validation_tokens=validation_tokens)
    if budgeted:
        values["cpu_seconds"] = cpu_seconds
    try:
        result = train(report=log, callbacks=Curve(), **values)
        stopped = result.stopped
    except BudgetSpent:
        stopped = "cut by the budget"
    return {"curve": curve, "stopped": stopped}


# ---- PyTorch ----------------------------------------------------------------------------------
def streams(ids: np.ndarray, batch_size: int, sequence_length: int) -> tuple[np.ndarray, int]:
    """`lstm_core.batch.Batch`'s contiguous streams `[batch, length]` and its batch count."""
    length = len(ids) // batch_size
    return ids[:batch_size * length].reshape(batch_size, length), (length - 1) // sequence_length


def validation_streams(ids: np.ndarray, batch_size: int, sequence_length: int,
                       tokens: int) -> tuple[np.ndarray, int]:
    """The held-out batches lstm-core validates on: `training._validation_batches` then
    `Batch.sample(tokens, seed=0)` (the default random seed)."""
    rows, count = streams(ids, min(batch_size, len(ids) // (sequence_length + 1)),
                          sequence_length)
    batches = max(1, tokens // (rows.shape[0] * sequence_length)) if tokens else count
    if batches >= count:
        return rows, count
    length = batches * sequence_length + 1
    offset = np.random.default_rng(0).integers(rows.shape[1] - length + 1)
    return rows[:, offset:offset + length], batches


def cosine(progress: float, warmup: float, final: float) -> float:
    """`lstm_core.optimizer.Cosine.factor`, in Python."""
    progress = min(max(progress, 0.0), 1.0)
    warm = min(1.0, progress / warmup) if warmup > 0 else 1.0
    decay = min(max((progress - warmup) / (1.0 - warmup), 0.0), 1.0)
    return warm * (final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * decay)))


def run_torch(contender: str, out: str, cpu_seconds: float, validation_tokens: int) -> dict:
    """`torch.nn.LSTM` trained as lstm-core trains: contiguous streams whose state carries,
    zero state each epoch, clip 5, validations at lstm-core's steps."""
    import torch
    from torch_lstm import TorchLanguageModel

    # The recipe's one thread on the CPU clock (`lstm_core.budget.one_thread`); char-rnn's
    # reference keeps PyTorch's default, a thread per core.
    torch.set_num_threads(1 if contender == "torch --cpu_seconds" else CORES)
    torch.manual_seed(0)
    train_ids, validation_ids = (np.load(os.path.join(out, f"{split}.npy"))
                                 for split in ("train", "validation"))
    vocabulary = int(open(os.path.join(out, "vocabulary_size")).read())
    if contender == "torch --cpu_seconds":
        recipe = lstm_core_recipe(out)
        settings, schedule = recipe, recipe["schedule"]
    else:
        settings, schedule = CHAR_RNN, None
    batch, sequence = settings["batch_size"], settings["sequence_length"]
    rows, batches = streams(train_ids, batch, sequence)
    held_out, held_out_batches = validation_streams(validation_ids, batch, sequence,
                                                    validation_tokens)
    every = settings.get("validation_every") or batches  # lstm-core's default: once an epoch
    model = TorchLanguageModel(vocabulary, settings["units"], settings["layers"],
                               settings["embedding_size"], settings["dropout"])
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"], eps=1e-7)
    loss_function = torch.nn.CrossEntropyLoss()

    def window(tokens: np.ndarray, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        part = torch.from_numpy(tokens[:, k * sequence:(k + 1) * sequence + 1].T.astype(np.int64))
        return part[:-1], part[1:]  # time-major

    @torch.no_grad()
    def validate() -> float:
        model.eval()
        state, total = None, 0.0
        for k in range(held_out_batches):
            inputs, targets = window(held_out, k)
            logits, state = model(inputs, state)
            total += float(loss_function(logits.reshape(-1, vocabulary), targets.reshape(-1)))
        model.train()
        return total / held_out_batches / math.log(2)

    curve, started, step, seconds = [], time.process_time(), 0, {"step": 0.0, "validation": 0.0}
    elapsed = lambda: time.process_time() - started
    spent = lambda: elapsed() >= cpu_seconds - seconds["step"] - seconds["validation"]
    epoch = 0
    while not spent():
        state = None  # each pass starts from zero state
        for k in range(batches):
            if spent():
                break
            if schedule:
                reserve = seconds["step"] + seconds["validation"]
                rate = settings["learning_rate"] * cosine(
                    elapsed() / (cpu_seconds - reserve), schedule["warmup"], schedule["final"])
            else:  # lstm-core's exponential decay, continuous over the steps
                rate = settings["learning_rate"] * settings["learning_rate_decay"] ** (
                    step / batches)
            for group in optimizer.param_groups:
                group["lr"] = rate
            lap = elapsed()
            inputs, targets = window(rows, k)
            optimizer.zero_grad()
            logits, state = model(inputs, state)
            loss = loss_function(logits.reshape(-1, vocabulary), targets.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            state = tuple(s.detach() for s in state)
            step += 1
            seconds["step"] = elapsed() - lap
            if step % every == 0:
                lap = elapsed()
                curve.append((elapsed(), validate()))
                seconds["validation"] = elapsed() - lap
                log(f"{contender}: step {step}, {curve[-1][0]:.0f} CPU s: validation bits "
                    f"{curve[-1][1]:.3f}")
        epoch += 1
    if not curve or curve[-1][0] < elapsed() - seconds["validation"] - 1:
        curve.append((elapsed(), validate()))
    return {"curve": curve, "stopped": "budget", "steps": step}


def lstm_core_recipe(out: str) -> dict:
    """The training lstm-core's ``--cpu_seconds`` run chose (its training.json and
    config.json), once it has written them."""
    folder = os.path.join(out, "logs", slug("lstm-core --cpu_seconds"))
    while not os.path.exists(os.path.join(folder, "training.json")):
        time.sleep(1)
    with open(os.path.join(folder, "training.json"), encoding="utf-8") as f:
        training = json.load(f)["training"]
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    return {**{name: training[name] for name in (
        "batch_size", "sequence_length", "learning_rate", "validation_every")},
        **{name: config[name] for name in ("units", "layers", "embedding_size", "dropout")},
        "schedule": training["budget"]["schedule"]}


# ---- the run ----------------------------------------------------------------------------------
def prepare(text: str, out: str) -> None:
    """lstm-core's token ids of `text` and its split, for the PyTorch trainers."""
    from lstm_core.batch import split_validation
    from lstm_core.corpus import load_corpus, vocabulary_and_ids

    vocabulary_path = os.path.join(out, "text.vocab")
    vocabulary, ids, _ = vocabulary_and_ids(load_corpus(text), vocabulary_path)
    if not os.path.exists(vocabulary_path):
        vocabulary.save(vocabulary_path)
    train_ids, validation_ids = split_validation(np.asarray(ids), VALIDATION_FRACTION)
    np.save(os.path.join(out, "train.npy"), train_ids)
    np.save(os.path.join(out, "validation.npy"), validation_ids)
    with open(os.path.join(out, "vocabulary_size"), "w") as f:
        f.write(str(len(vocabulary)))


def run_contender(contender: str, text: str, out: str, cpu_seconds: float,
                  validation_tokens: int) -> None:
    """One trainer, in this process (``--contender``): its result to OUT/<contender>.json."""
    if contender.startswith("torch"):
        result = run_torch(contender, out, cpu_seconds, validation_tokens)
    else:
        result = run_lstm_core(contender, text, out, cpu_seconds, validation_tokens)
    result["best"] = min(bits for _, bits in result["curve"]) if result["curve"] else None
    with open(os.path.join(out, slug(contender) + ".json"), "w") as f:
        json.dump({"contender": contender, **result}, f)


def run_all(contenders: list[str], args, out: str) -> dict:
    """Each contender in a process of its own (PyTorch's threads slow down by orders of
    magnitude in a process where TensorFlow has run; and each clock is its own), `--jobs` at
    a time; their results by contender (None: it failed)."""
    waiting, running, results = list(contenders), {}, {}
    while waiting or running:
        while waiting and len(running) < args.jobs:
            contender = waiting.pop(0)
            log(f"training: {contender}")
            running[contender] = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--contender", contender,
                 "--text", args.text, "--out", out, "--cpu_seconds", str(args.cpu_seconds),
                 "--validation_tokens", str(args.validation_tokens)],
                env={**os.environ, **PASSIVE_WAIT})
        for contender, process in list(running.items()):
            if process.poll() is not None:
                del running[contender]
                path = os.path.join(out, slug(contender) + ".json")
                results[contender] = (json.load(open(path)) if process.returncode == 0
                                      and os.path.exists(path) else None)
        time.sleep(1)
    return results


def plot(results: dict, path: str, cpu_seconds: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.2))
    for contender, result in results.items():
        if result and result["curve"]:
            seconds, bits = zip(*result["curve"])
            axes.plot(seconds, bits, marker="o", markersize=3, label=contender)
    axes.set_xlabel("CPU seconds (this process's clock)")
    axes.set_ylabel("validation bits per character")
    axes.set_xlim(0, cpu_seconds * 1.02)
    axes.grid(alpha=0.3)
    if axes.lines:
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", default=None, help="the text to learn (tinyshakespeare; with "
                        "--quick, an 8 KB verse)")
    parser.add_argument("--cpu_seconds", type=float, default=1200.0,
                        help="each trainer's budget of CPU seconds")
    parser.add_argument("--validation_tokens", type=int, default=262_144,
                        help="tokens of each validation (lstm-core's --validation_tokens)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: 20 CPU seconds each, 4,096 validation tokens")
    parser.add_argument("--only", default=",".join(CONTENDERS),
                        help="the contenders to run, comma-separated")
    parser.add_argument("--jobs", type=int, default=1, help="trainers run at the same time")
    parser.add_argument("--out", default=None, help="folder of the models, results and PNG "
                        "(default: a new temporary folder)")
    parser.add_argument("--contender", help=argparse.SUPPRESS)  # one trainer, in this process
    args = parser.parse_args(argv)
    if args.quick:
        args.cpu_seconds, args.validation_tokens = 20.0, 4096
    if args.contender:
        run_contender(args.contender, args.text, args.out, args.cpu_seconds,
                      args.validation_tokens)
        return 0
    verse = args.text is None and args.quick  # 3 steps an epoch: every trainer soon validates
    args.text = args.text or (None if verse else TEXT)
    if not verse and not os.path.isfile(args.text):
        problem = (f"{TEXT} is missing (../shared/data is not checked out beside the project); "
                   "give --text FILE" if args.text == TEXT else
                   f"--text {args.text}: no such file; give a UTF-8 text file")
        print(problem, file=sys.stderr)
        return 2
    out = args.out or tempfile.mkdtemp(prefix="quality-")
    os.makedirs(out, exist_ok=True)
    if verse:
        args.text = os.path.join(out, "verse.txt")
        with open(args.text, "w", encoding="utf-8") as f:
            f.write(QUICK_VERSE * 100)
    contenders = [name for name in CONTENDERS if name in args.only.split(",")]
    notes = []
    if importlib.util.find_spec("torch") is None:
        notes.append("torch is not installed: the PyTorch trainers are skipped "
                     "(pip install -r benchmarks/requirements.txt)")
        contenders = [name for name in contenders if not name.startswith("torch")]
    prepare(args.text, out)
    results = run_all(contenders, args, out)
    plot(results, os.path.join(out, "quality.png"), args.cpu_seconds)
    print(f"validation bits per character after {args.cpu_seconds:g} CPU seconds each, "
          f"{os.path.basename(args.text)}:")
    for contender, result in results.items():
        best = "FAILED" if result is None else (
            f"{result['best']:.3f}" if result["best"] is not None else "no validation")
        print(f"  {contender:26s} {best}")
    for note in notes:
        print(f"note: {note}")
    print(f"curve: {os.path.join(out, 'quality.png')}")
    failures = failed(results, args.cpu_seconds)
    for failure in failures:
        print(f"failed: {failure}")
    print(json.dumps({"text": os.path.basename(args.text), "cpu_seconds": args.cpu_seconds,
                      "results": results, "notes": notes, "failures": failures}))
    return 1 if failures else 0


def failed(results: dict, cpu_seconds: float) -> list[str]:
    """What went wrong, a line per contender: it failed, never validated, measured a loss that is
    not a positive number, or validated out of order or past half again its budget (its clock
    or the budget's stop is broken)."""
    failures = []
    for contender, result in results.items():
        if result is None:
            failures.append(f"{contender}: the trainer failed (its output is above)")
            continue
        seconds = [point[0] for point in result["curve"]]
        if not seconds:
            failures.append(f"{contender}: no validation within {cpu_seconds:g} CPU seconds")
        elif not all(math.isfinite(bits) and bits > 0 for _, bits in result["curve"]):
            failures.append(f"{contender}: validation bits {[b for _, b in result['curve']]}")
        elif seconds != sorted(seconds) or seconds[-1] > 1.5 * cpu_seconds:
            failures.append(f"{contender}: validated at {seconds} CPU seconds, out of order or "
                            f"past 1.5 times its budget of {cpu_seconds:g}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
