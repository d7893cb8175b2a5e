"""Where training runs: several workers from ``TF_CONFIG``, several local GPUs, or one device.

``TF_CONFIG`` is the JSON convention of Keras, Kubeflow's TFJob and managed TensorFlow trainers;
every worker gets the same cluster and its own task::

    {"cluster": {"worker": ["host1:12345", "host2:12345"]},
     "task": {"type": "worker", "index": 0}}

(an optional ``"chief": ["host0:12345"]`` list names a chief besides the workers; without one,
worker 0 is the chief). With it, training runs under `MultiWorkerMirroredStrategy`, which must
be built before any other TensorFlow work: it configures the collectives of the process.
Without it, `MirroredStrategy` over the GPUs when there are several, else the default strategy
(one device; on the CPU the trainer computes slices of the batch on each core, as the sampler
does with its streams: `cpu_cores`, `batch_slices`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import select
import signal
import socket

import numpy as np
import tensorflow as tf

from lstm_core.errors import UsageError

EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
           '"task": {"type": "worker", "index": 0}}')
TASK_TYPES = ("chief", "worker")


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The workers `TF_CONFIG` names (the chief first) and which one this process is."""
    addresses: tuple[str, ...]
    task_type: str  # chief or worker
    task_index: int
    chiefs: int  # 0 or 1: how many of `addresses` are an explicit chief

    @property
    def address(self) -> str:
        return self.addresses[self.task_index + (self.chiefs if self.task_type == "worker" else 0)]


def cluster_from_environment(environ=os.environ) -> Cluster | None:
    """The cluster of ``TF_CONFIG``, or None when it is unset; a `UsageError` naming the fix
    when it is malformed."""
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    fix = f"set it as in {EXAMPLE}, or unset it to train on this machine alone"
    try:
        config = json.loads(text)
    except ValueError as e:
        raise UsageError(f"TF_CONFIG is not valid JSON ({e}); {fix}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster.get("worker") and not cluster.get("chief"):
        raise UsageError(f"TF_CONFIG has no worker list (\"cluster\": {{\"worker\": [...]}}); "
                         f"{fix}")
    lists = {kind: cluster.get(kind) or [] for kind in TASK_TYPES}
    for kind, addresses in lists.items():
        if not isinstance(addresses, list) or not all(
                isinstance(a, str) and _port(a) is not None for a in addresses):
            raise UsageError(f"TF_CONFIG's \"{kind}\" list must hold \"host:port\" strings, not "
                             f"{json.dumps(addresses)}; {fix}")
    if len(lists["chief"]) > 1:
        raise UsageError(f"TF_CONFIG names {len(lists['chief'])} chiefs; give one at most")
    others = sorted(set(cluster) - set(TASK_TYPES))
    if others:
        raise UsageError(f"TF_CONFIG's cluster has {', '.join(others)} tasks: lstm-core trains "
                         "with workers (and an optional chief) only; remove them")
    task = config.get("task")
    if not isinstance(task, dict) or task.get("type") not in TASK_TYPES:
        raise UsageError(f"TF_CONFIG's \"task\" must say which worker this is, as in "
                         f"\"task\": {{\"type\": \"worker\", \"index\": 0}}; {fix}")
    kind, index = task["type"], task.get("index", 0)
    if not isinstance(index, int) or not 0 <= index < len(lists[kind]):
        raise UsageError(f"TF_CONFIG's task index {index!r} is out of range: the cluster has "
                         f"{len(lists[kind])} {kind} task(s) (indices 0 to "
                         f"{len(lists[kind]) - 1}); give each worker its own index")
    return Cluster(tuple(lists["chief"] + lists["worker"]), kind, index, len(lists["chief"]))


def local_cluster_config(ports: list[int], index: int) -> str:
    """The TF_CONFIG of worker `index` of a cluster on this machine (tests, benchmarks)."""
    return json.dumps({"cluster": {"worker": [f"localhost:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def free_local_ports(count: int) -> list[int]:
    """`count` loopback ports free now (chosen by the system)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _port(address: str) -> int | None:
    host, _, port = address.rpartition(":")
    return int(port) if host and port.isdigit() and 0 < int(port) < 65536 else None


def require_free_port(cluster: Cluster) -> None:
    """A `UsageError` when this worker's port is taken (TensorFlow would abort on it)."""
    port = _port(cluster.address)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            raise UsageError(f"port {port} of this worker ({cluster.address}, TF_CONFIG task "
                             f"{cluster.task_type} {cluster.task_index}) is in use; stop what "
                             "holds it or give this worker another port in every worker's "
                             "TF_CONFIG") from None


def build_strategy(cluster: Cluster | None, timeout: float) -> tf.distribute.Strategy:
    """`MultiWorkerMirroredStrategy` for a cluster (waiting at most `timeout` seconds for every
    worker to come up), else `local_strategy()`."""
    if cluster is None:
        return local_strategy()
    require_free_port(cluster)
    with deadline(timeout, f"not every worker of TF_CONFIG ({', '.join(cluster.addresses)}) "
                           f"came up within {timeout:g} s; start the same command with its "
                           "own TF_CONFIG task on each of them, check the addresses and "
                           "firewalls, or raise --cluster_timeout"):
        return tf.distribute.MultiWorkerMirroredStrategy()


def local_strategy() -> tf.distribute.Strategy:
    """`MirroredStrategy` over every GPU when there are several, else the default strategy."""
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


@contextlib.contextmanager
def deadline(seconds: float, message: str):
    """Ends this process with `message` as a one-line error when the block takes longer than
    `seconds`. A watchdog process does it: TensorFlow waits for missing workers inside a call
    that holds the interpreter's lock (no thread of this process could run) and ignores
    SIGTERM, so the watchdog kills it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(write)
        ready, _, _ = select.select([read], [], [], seconds)
        if not ready:
            os.write(2, f"error: {message}\n".encode())
            os.kill(os.getppid(), signal.SIGKILL)
        os._exit(0)
    os.close(read)
    try:
        yield
    finally:
        os.close(write)  # the watchdog sees the pipe closed and exits
        os.waitpid(pid, 0)


def describe(strategy: tf.distribute.Strategy) -> str:
    """``MultiWorkerMirroredStrategy: 2 workers, 2 replicas``."""
    replicas = strategy.num_replicas_in_sync
    workers = replicas // len(local_replica_ids(strategy))
    kinds = {"MultiWorkerMirroredStrategy": tf.distribute.MultiWorkerMirroredStrategy,
             "MirroredStrategy": tf.distribute.MirroredStrategy}  # TF's class names differ
    name = next((name for name, kind in kinds.items() if isinstance(strategy, kind)),
                "default strategy")
    return (f"{name}: {workers} worker{'s' * (workers != 1)}, "
            f"{replicas} replica{'s' * (replicas != 1)}")


def cpu_cores() -> int:
    """The cores this process may run on side by side: its CPUs, or fewer when TensorFlow's
    inter-op threads are set lower (a CPU-second budget's one thread runs slices one after the
    other, where the whole batch at once is 3% faster: 2x192, batch 50)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    threads = tf.config.threading.get_inter_op_parallelism_threads()
    return min(cores, threads) if threads else cores


def batch_slices(value, parts: int) -> list:
    """`value` (a tensor or a nest of them) cut along the batch axis into `parts` equal slices,
    one nest like `value` per slice (one split per tensor)."""
    pieces = [tf.split(v, parts) for v in tf.nest.flatten(value)]
    return [tf.nest.pack_sequence_as(value, [p[k] for p in pieces]) for k in range(parts)]


def local_replica_ids(strategy: tf.distribute.Strategy) -> tuple[int, ...]:
    """The ids in the sync group of this worker's replicas (consecutive: worker k of W with R
    replicas each holds k*R ... k*R + R - 1)."""
    ids = strategy.experimental_distribute_values_from_function(
        lambda context: context.replica_id_in_sync_group)
    return tuple(strategy.experimental_local_results(ids))


def _sum(strategy, per_replica):
    return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)


def copy_from_chief(strategy: tf.distribute.Strategy, variables) -> None:
    """Sets `variables` on every worker to the chief's values: an all-reduce to which every
    replica but the chief's first adds zeros."""
    for variable in variables:
        value = variable.read_value()
        chief = strategy.experimental_distribute_values_from_function(
            lambda context: value if context.replica_id_in_sync_group == 0
            else tf.zeros_like(value))
        variable.assign(_sum(strategy, chief))


def chief_says(strategy: tf.distribute.Strategy, value: bool) -> bool:
    """The chief's `value`, on every worker."""
    chief = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(int(value and context.replica_id_in_sync_group == 0)))
    return bool(int(_sum(strategy, chief)))


@contextlib.contextmanager
def failing_together(strategy: tf.distribute.Strategy):
    """Every worker leaves the block with a `UsageError` when one of them raises one in it:
    the others would otherwise wait for it at the next collective until they time out."""
    try:
        yield
    except UsageError:
        _failures(strategy, 1)
        raise
    if _failures(strategy, 0):
        raise UsageError("another worker of the cluster stopped with an error (see its output); "
                         "fix that and start every worker again")


def _failures(strategy: tf.distribute.Strategy, failed: int) -> int:
    """How many workers report a failure (each through its first replica)."""
    first = local_replica_ids(strategy)[0]
    values = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(failed if context.replica_id_in_sync_group == first else 0))
    return int(_sum(strategy, values))


def require_same_run(strategy: tf.distribute.Strategy, fingerprint: str) -> None:
    """A `UsageError` on every worker when their `fingerprint`s (flags and corpus) differ: the
    first collective of a run, so it also waits for every worker to be ready."""
    digest = int.from_bytes(hashlib.sha256(fingerprint.encode()).digest()[:7], "big")
    values = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant([digest], tf.int64))
    replicas = strategy.gather(values, axis=0).numpy() if strategy.num_replicas_in_sync > 1 \
        else np.array([digest])
    by_worker = replicas[::len(local_replica_ids(strategy))]
    differing = [str(k) for k, d in enumerate(by_worker) if d != by_worker[0]]
    if differing:
        raise UsageError(f"worker(s) {', '.join(differing)} of the cluster run with other flags "
                         "or another corpus than the chief; give every worker the same "
                         "command, corpus and vocabulary")
