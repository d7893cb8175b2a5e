"""The best model a time budget can buy: ``--minutes`` (wall clock) and ``--cpu_seconds``.

A `Budget` is a number of seconds on a clock: the wall clock, or this process's CPU clock
(`time.process_time`, every thread's time: other jobs on the machine do not count). `recipe`
chooses the model and its training for it from the corpus size and a short measured matmul
throughput on this machine:

- the tokens the budget can train: the measured FLOP rate times `STEP_EFFICIENCY` (the share of
  it a training step reaches, measured for the 2x128...2x512 models of benchmarks/bench.py),
  over the training FLOPs per token of each candidate width, for the time left once the corpus
  is read less `OVERHEAD` (startup, compilation, validations). A model with attention or
  lookback inputs costs more than its FLOPs say (the attention's window is read at every step):
  how many times more is timed (`measured_cost_ratio`; on 92 piano files, 8.5x at 2x64 and
  7.7x at 2x128), and the tokens divided by it;
- the width: the widest of `WIDTHS` whose parameters see at least `TOKENS_PER_PARAMETER`
  tokens each (wider models learn more per token; below that they have not seen enough);
- batches of `BATCH_SIZE` x `SEQUENCE_LENGTH` (more steps rather than larger matmuls);
- Adam at `PEAK_LEARNING_RATE` (lower for the widest), a linear warm-up and a cosine decay that
  ends with the budget (`optimizer.Cosine`, following the share of the time spent);
- dropout by how many passes the budget allows (`DROPOUT_BY_EPOCHS`): a corpus small enough to
  be read many times is one the model could memorise;
- about `VALIDATIONS` validations over the run, the best checkpoint kept, and a stop after
  `EARLY_STOPPING` validations in a row without a better one.

The trainer stops when the time left would not hold one more step and the last validation
(`Deadline.left`). On the CPU clock TensorFlow runs on one thread (`one_thread`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time

import tensorflow as tf

from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.optimizer import Cosine
from lstm_core.train_step import summed_loss_and_correct

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
WIDTHS = (64, 128, 192, 256, 384, 512, 768, 1024)
LAYERS, EMBEDDING_SIZE = 2, 64
# At 300 CPU seconds on tinyshakespeare, 2x128 with batches of 50 x 50 reached 2.42 bits per
# character, with 64 x 100 2.51: fewer, larger steps lose more than their speed gains.
BATCH_SIZE, SEQUENCE_LENGTH = 50, 50
# Chinchilla's ratio: on tinyshakespeare at 300 CPU seconds a 2x192 model that saw 5 tokens a
# weight ended 0.07 bits per character behind a 2x128 one that saw 17.
TOKENS_PER_PARAMETER = 20
STEP_EFFICIENCY = 0.6  # a training step's FLOP/s over the measured matmul's (2x128: 0.61)
OVERHEAD = 0.15  # the share of the budget not spent in training steps
PEAK_LEARNING_RATE = 0.003  # 0.002 above 512 units
DROPOUT_BY_EPOCHS = ((16, 0.2), (8, 0.1))  # at least this many passes: this dropout
VALIDATIONS = 12
EARLY_STOPPING = 3
SCHEDULE = Cosine(warmup=0.03, final=0.05)


@dataclasses.dataclass(frozen=True)
class Budget:
    """`seconds` on `clock` ("wall" or "cpu"), and the learning-rate schedule over them."""
    seconds: float
    clock: str = "wall"
    schedule: Cosine = SCHEDULE

    def start(self) -> Deadline:
        """The clock starts; on the CPU clock TensorFlow keeps to one thread (`one_thread`)."""
        if self.clock == "cpu":
            one_thread()
        return Deadline(self)


def one_thread() -> bool:
    """Runs TensorFlow's ops on one thread, when its runtime has not started yet (whether it
    did). On the CPU clock a thread that waits for another spins, and the spinning is CPU time:
    on this 2-core machine, shared, a 2x128 step took 111 CPU ms on one thread against 115-132
    on two; a CPU-second budget buys the most steps on one."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # the runtime runs already (the Python API after other work)
        return False
    return True


class Deadline:
    """A budget's clock, started now, and the seconds the end of the run needs: one more step
    and a last validation, as long as the last step and the quickest validation timed (`lap`;
    the first of each also compiles, and is not counted)."""

    def __init__(self, budget: Budget):
        self.budget, self.clock = budget, CLOCKS[budget.clock]
        self.started = self.clock()
        self.seconds = {"step": 0.0, "validation": math.inf}

    def elapsed(self) -> float:
        return self.clock() - self.started

    def left(self) -> float:
        return self.budget.seconds - self.elapsed()

    @contextlib.contextmanager
    def lap(self, what: str, counted: bool = True):
        """Times the `what` ("step" or "validation") that runs inside the ``with`` block."""
        started = self.clock()
        yield
        if counted:
            seconds = self.clock() - started
            self.seconds[what] = seconds if what == "step" else min(self.seconds[what], seconds)

    def reserve(self) -> float:
        """The seconds kept for the end of the run."""
        validation = self.seconds["validation"]
        return self.seconds["step"] + (0.0 if math.isinf(validation) else validation)

    def spent(self) -> bool:
        """Whether the time left would not hold the end of the run."""
        return self.left() <= self.reserve()

    def progress(self) -> float:
        """The share spent of the budget less the reserve, in [0, 1]: the schedule's."""
        return min(1.0, self.elapsed() / max(self.budget.seconds - self.reserve(), 1e-9))


def parameters(units: int, vocabulary_size: int, layers: int = LAYERS,
               embedding_size: int = EMBEDDING_SIZE) -> int:
    """The trainable weights of a model of that shape."""
    total = vocabulary_size * embedding_size + units * vocabulary_size + vocabulary_size
    for layer in range(layers):
        inputs = embedding_size if layer == 0 else units
        total += 4 * units * (inputs + units + 1)
    return total


def training_flops_per_token(units: int, vocabulary_size: int, layers: int = LAYERS,
                             embedding_size: int = EMBEDDING_SIZE) -> float:
    """Matmul FLOPs of a training step per token: the forward, and twice that backward."""
    forward = 2.0 * units * vocabulary_size
    for layer in range(layers):
        inputs = embedding_size if layer == 0 else units
        forward += 2.0 * (inputs + units) * 4 * units
    return 3.0 * forward


def measured_flops(clock: str, seconds: float = 0.5) -> float:
    """FLOP/s on `clock` of TensorFlow float32 matmuls the size of a recurrent step's (`[batch,
    2 x 256] x [2 x 256, 4 x 256]`, a whole sequence of them at once), over about `seconds`, on
    the threads training will use (one on the CPU clock: numpy's two BLAS threads spinning on a
    busy machine measured a third of one thread's FLOPs per CPU second)."""
    a = tf.random.stateless_normal([BATCH_SIZE * SEQUENCE_LENGTH // 4, 512], seed=[0, 0])
    b = tf.random.stateless_normal([512, 1024], seed=[0, 1])
    tf.matmul(a, b).numpy()  # the threads start
    read, flops = CLOCKS[clock], 2.0 * a.shape[0] * 512 * 1024
    start, done = read(), 0
    while read() - start < seconds or done < 3:
        tf.matmul(a, b).numpy()
        done += 1
    return done * flops / max(read() - start, 1e-9)


def seconds_per_token(config: ModelConfig, clock: str, batch_size: int = BATCH_SIZE,
                      sequence_length: int = SEQUENCE_LENGTH, passes: int = 3) -> float:
    """Seconds on `clock` per token of a forward and backward pass, XLA-compiled, of a model of
    `config` over a batch `[batch_size, sequence_length]`: the quickest of `passes` after the
    first, which compiles."""
    model = LanguageModel(config, seed=0)
    tokens = tf.random.stateless_uniform([batch_size, sequence_length + 1], [0, 2], 0,
                                         config.vocabulary_size, tf.int32)

    @tf.function(jit_compile=True)
    def forward_and_backward(tokens):
        with tf.GradientTape() as tape:
            logits, _ = model(tokens[:, :-1], model.initial_state(batch_size))
            loss, _ = summed_loss_and_correct(logits, tokens[:, 1:])
        return [tf.convert_to_tensor(gradient)
                for gradient in tape.gradient(loss, model.trainable_variables)]

    def run() -> list:
        return [gradient.numpy() for gradient in forward_and_backward(tokens)]

    run()  # compiles
    read, quickest = CLOCKS[clock], math.inf
    for _ in range(passes):
        start = read()
        run()
        quickest = min(quickest, read() - start)
    return quickest / (batch_size * sequence_length)


def measured_cost_ratio(config: ModelConfig, clock: str, units: int = 128,
                        batch_size: int = BATCH_SIZE,
                        sequence_length: int = SEQUENCE_LENGTH) -> float:
    """How many times a token of a model like `config`, with its attention and lookback inputs,
    costs one of the same model without them, timed for `LAYERS` x `units` on batches of
    `batch_size` x `sequence_length` (1 for a model with neither: nothing is timed)."""
    if not config.attention_length and not config.lookback:
        return 1.0
    probe = dataclasses.replace(config, units=units, layers=LAYERS, dropout=0.0)
    plain = dataclasses.replace(probe, attention_length=0, bar_grid=())
    return max(1.0, seconds_per_token(probe, clock, batch_size, sequence_length)
               / seconds_per_token(plain, clock, batch_size, sequence_length))


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What `recipe` chose, the options it sets, and why."""
    units: int
    layers: int
    batch_size: int
    sequence_length: int
    learning_rate: float
    dropout: float
    validation_every: int
    early_stopping: int
    epochs: int  # a bound: the budget stops the run first
    planned_tokens: int  # the tokens the budget should train
    tokens_per_second: float  # the estimate they come from
    why: str

    def options(self) -> dict:
        """The training options it sets (those the user gave win over them)."""
        return {name: getattr(self, name) for name in (
            "units", "layers", "batch_size", "sequence_length", "learning_rate", "dropout",
            "validation_every", "early_stopping", "epochs")}


def recipe(budget: Budget, corpus_tokens: int, vocabulary_size: int,
           flops_per_second: float, cost_ratio: float = 1.0,
           seconds_left: float | None = None) -> Recipe:
    """The model and training for `budget` on a training split of `corpus_tokens` tokens of a
    vocabulary of `vocabulary_size`, on a machine doing `flops_per_second` matmul FLOPs on the
    budget's clock (`measured_flops`), for a model whose tokens cost `cost_ratio` times their
    FLOPs' share (its attention and lookback inputs: `measured_cost_ratio`), with
    `seconds_left` of the budget (None: all of it; reading a folder of MIDI files and the timing
    can take a minute of it)."""
    seconds = budget.seconds if seconds_left is None else max(seconds_left, 0.0)
    training_seconds = max(seconds * (1.0 - OVERHEAD), 1e-9)

    def tokens(units: int) -> float:
        return (training_seconds * flops_per_second * STEP_EFFICIENCY
                / training_flops_per_token(units, vocabulary_size) / cost_ratio)

    fitting = [units for units in WIDTHS
               if tokens(units) >= TOKENS_PER_PARAMETER * parameters(units, vocabulary_size)]
    units = fitting[-1] if fitting else WIDTHS[0]
    planned = tokens(units)
    epochs = planned / max(corpus_tokens, 1)
    dropout = next((rate for passes, rate in DROPOUT_BY_EPOCHS if epochs >= passes), 0.0)
    tokens_per_step = BATCH_SIZE * SEQUENCE_LENGTH
    steps = max(1, int(planned // tokens_per_step))
    learning_rate = PEAK_LEARNING_RATE if units <= 512 else 2 * PEAK_LEARNING_RATE / 3
    extras = (f" (attention and lookback timed at {cost_ratio:.1f}x a token's cost)"
              if cost_ratio > 1.0 else "")
    clock = "CPU" if budget.clock == "cpu" else "wall-clock"
    left = "" if seconds_left is None else f"{seconds:.0f} left of "
    why = (f"{left}{budget.seconds:g} {clock} seconds at about "
           f"{planned / training_seconds:,.0f} tokens/s{extras} train about {planned:,.0f} tokens "
           f"({epochs:.1f} passes over {corpus_tokens:,}): {LAYERS}x{units} is the widest whose "
           f"{parameters(units, vocabulary_size):,} weights see {TOKENS_PER_PARAMETER}+ tokens "
           f"each; dropout {dropout:g} for {epochs:.1f} passes; Adam {learning_rate:g} with "
           f"warm-up and cosine decay to the end of the budget")
    return Recipe(units=units, layers=LAYERS, batch_size=BATCH_SIZE,
                  sequence_length=SEQUENCE_LENGTH, learning_rate=learning_rate, dropout=dropout,
                  validation_every=max(1, steps // VALIDATIONS), early_stopping=EARLY_STOPPING,
                  epochs=max(1, math.ceil(2 * epochs)), planned_tokens=int(planned),
                  tokens_per_second=planned / training_seconds, why=why)
