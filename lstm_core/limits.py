"""What fits: the memory a model needs, estimated from its sizes before anything is built, and
the bounds beyond which a size or a number is a mistake rather than a choice.

Training a model of `P` parameters holds, in float32, the weights, their gradients and Adam's
two moments (`4 P`), plus for backpropagation through time every layer's gates and states at
every step of the batch (`batch × time × layers × 7 units`: four gates, the cell state, its
tanh and the hidden state), the embedded inputs and the logits with their softmax and gradient
(`3 × batch × time × vocabulary`). The estimate leaves out TensorFlow's own workspace, so a
model it passes may still be too large; one it refuses cannot fit.
"""

from __future__ import annotations

import os

from lstm_core.errors import UsageError
from lstm_core.files import format_bytes

FLOAT = 4  # bytes of a float32
MAX_LAYERS = 64  # deeper stacks of LSTMs do not train; a larger count is a typing mistake
TEMPERATURE_RANGE = (0.01, 100.0)  # below: --greedy; above: uniform noise
MAX_LEARNING_RATE = 1.0  # Adam's steps are about this large: beyond it the loss diverges

# Sizes of a sample: beyond these, sampling cannot finish within a day on this machine, so a
# larger value is a mistake rather than a choice.
DAY = 86_400  # seconds
# Generation of the default 2x128 model (docs/performance.md): 24,131 tokens/s for one stream,
# 129,745 tokens/s for 64 streams side by side; smaller models are not much faster per token.
MAX_SAMPLE_LENGTH = 24_131 * DAY  # tokens of one sample (about 2.1e9)
MAX_TOKENS = 129_745 * DAY  # tokens of all the samples together (about 1.1e10)
# Without --sample_length, a sample has at least this many tokens (sample.py: 1,500 characters
# of text, 1,000 music tokens, a jazz solo's progression of several bars).
DEFAULT_LENGTH_AT_LEAST = 1000
# A jazz solo is realised over its chords in Python at about 450 bars a second (measured: 8,000
# bars over a 4-bar chorus in 16 s, tests/test_jazz_realize.py's tokens); a music piece takes
# at least a token a bar.
MAX_BARS = 450 * DAY  # bars of a piece or a solo (about 3.9e7)
# A 4/4 bar at the fastest tempo (400 beats a minute) lasts 0.6 s.
MAX_SECONDS = MAX_BARS * 0.6


def parameters(vocabulary_size: int, embedding_size: int, units: int, layers: int) -> int:
    """Weights of the language model: embedding, each layer's kernels and bias, the output."""
    lstm = sum(((embedding_size if n == 0 else units) + units + 1) * 4 * units
               for n in range(layers))
    return vocabulary_size * embedding_size + lstm + (units + 1) * vocabulary_size


def training_bytes(vocabulary_size: int, embedding_size: int, units: int, layers: int,
                   batch_size: int, sequence_length: int) -> int:
    """Bytes that training holds at once (see the module docstring)."""
    weights = 4 * parameters(vocabulary_size, embedding_size, units, layers)
    tokens = batch_size * sequence_length
    activations = tokens * (layers * 7 * units + embedding_size + 3 * vocabulary_size)
    return FLOAT * (weights + activations)


def sampling_bytes(vocabulary_size: int, embedding_size: int, units: int, layers: int,
                   streams: int, length: int) -> int:
    """Bytes that sampling holds: the weights, each stream's state and logits, and the tokens
    generated (an id, and a reference to its token while decoding: 12 bytes each)."""
    weights = FLOAT * parameters(vocabulary_size, embedding_size, units, layers)
    return weights + FLOAT * streams * (layers * 2 * units + vocabulary_size) + \
        12 * streams * length


def available_bytes() -> int:
    """Memory this process may still take: what the system has available, within the
    container's (cgroup) limit when there is one."""
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    meminfo = _read("/proc/meminfo")
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            available = int(line.split()[1]) * 1024
    limit, used = _read("/sys/fs/cgroup/memory.max").strip(), _read(
        "/sys/fs/cgroup/memory.current").strip()
    if limit.isdigit() and used.isdigit():
        available = min(available, int(limit) - int(used))
    return available


def require_sample_bounds(sample_length: int | None, num_samples: int, bars: int | None,
                          seconds: float | None, choruses: int) -> None:
    """A `UsageError` for the first size of a sample beyond what a day of work makes here
    (the bounds above), naming the flag and its bound; None: the flag is not given."""
    sample_length, bars, seconds = sample_length or 0, bars or 0, seconds or 0
    length = sample_length or DEFAULT_LENGTH_AT_LEAST
    for flag, value, bound, asked in (
            ("sample_length", sample_length, MAX_SAMPLE_LENGTH, f"{sample_length:,} tokens"),
            ("num_samples", num_samples * length, MAX_TOKENS,
             f"{num_samples:,} samples of {length:,} tokens, {num_samples * length:,} in all"),
            ("bars", bars, MAX_BARS, f"{bars:,} bars"),
            ("choruses", choruses, MAX_BARS, f"{choruses:,} choruses of a bar or more"),
            ("seconds", seconds, MAX_SECONDS, f"{seconds:,g} seconds")):
        if value > bound:
            raise UsageError(f"--{flag} asks for {asked}; at most {bound:,.0f} can be made in a "
                             "day on this machine (lstm_core.limits); ask for less")


def require_primer_bars(bars: int) -> None:
    """A `UsageError` when ``--primer_bars`` is negative or beyond `MAX_BARS` (more bars than
    any piece holds: a typing mistake)."""
    if not 0 <= bars <= MAX_BARS:
        raise UsageError(f"--primer_bars is {bars:,}; give a count of bars from 1 to "
                         f"{MAX_BARS:,} (lstm_core.limits), or 0 for all of --primer_midi")


def require_solo_bars(bars: int) -> None:
    """A `UsageError` when a solo of `bars` (``--choruses`` times its progression) is beyond
    `MAX_BARS`."""
    if bars > MAX_BARS:
        raise UsageError(f"--choruses asks for a solo of {bars:,} bars; at most {MAX_BARS:,} can "
                         "be realised in a day on this machine (lstm_core.limits); ask for fewer")


def require_fits(what: str, needed: int, lower: str) -> None:
    """A `UsageError` when `needed` bytes exceed the memory available: `what` is the job and
    its sizes, `lower` the flags that shrink it."""
    available = available_bytes()
    if needed > available:
        raise UsageError(f"{what} needs about {format_bytes(needed)} of memory and "
                         f"{format_bytes(available)} are available; lower {lower}")


def require_training_fits(vocabulary_size: int, embedding_size: int, units: int, layers: int,
                          batch_size: int, sequence_length: int) -> None:
    """Refuses, in one line, a model deeper than `MAX_LAYERS` or one whose training cannot fit
    in memory (`vocabulary_size` 1 when it is not known yet: a lower bound)."""
    if layers > MAX_LAYERS:
        raise UsageError(f"--layers_number {layers}: at most {MAX_LAYERS} layers; stacks that "
                         "deep do not train")
    require_fits(f"training {layers} layers of {units} units (embedding {embedding_size}, "
                 f"vocabulary {vocabulary_size}, batches of {batch_size} x {sequence_length})",
                 training_bytes(vocabulary_size, embedding_size, units, layers, batch_size,
                                sequence_length),
                 "--units_number, --layers_number, --embedding_size, --batch_size or "
                 "--sequence_length")


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except OSError:
        return ""
