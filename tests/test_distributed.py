"""Training on several workers (`MultiWorkerMirroredStrategy` from TF_CONFIG), on localhost: two
`train.py` processes equal one process with the same global batch, stop together on SIGTERM,
resume, and leave a model sample.py uses; every bad cluster is a `UsageError` (which the apps
turn into one line and exit status 2), and workers that disagree both exit so."""

import json
import os
import re
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from apps import sample_py, train_py
from lstm_core import distribute
from lstm_core.errors import UsageError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSE = ("Sing a song of the open road,\nof the river and the hill;\n"
         "\"Carry on,\" the wanderer said, (and so he carries still).\n")
OPTIONS = dict(training_file="song.txt", vocabulary_file="song.vocab", units=16, embedding_size=8,
               batch_size=4, sequence_length=16, log_frequency=1, checkpoint_every=100000,
               sample_every=0, histogram_frequency=0, cluster_timeout=120)
FLAGS = [word for name, value in OPTIONS.items() for word in (f"--{name}", str(value))]


free_ports, tf_config = distribute.free_local_ports, distribute.local_cluster_config


def environment(config=None):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    return {**env, "TF_CONFIG": config} if config else env


class Cluster:
    """Worker processes of `train.py` on localhost, killed when the block ends."""

    def __init__(self, cwd, flags_per_worker):
        ports = free_ports(len(flags_per_worker))
        self.workers = [subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "train.py"), *flags], cwd=cwd,
            env=environment(tf_config(ports, index)), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True) for index, flags in enumerate(flags_per_worker)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
            worker.communicate()

    def results(self, timeout=400):
        outputs = [w.communicate(timeout=timeout) for w in self.workers]
        return [(w.returncode, *output) for w, output in zip(self.workers, outputs)]


def train(cwd, *flags, config=None):
    return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *flags], cwd=cwd,
                          env=environment(config), capture_output=True, text=True, timeout=400)


def model_weights(folder):
    reader = tf.train.load_checkpoint(os.path.join(folder, "checkpoints"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name.startswith("model/") and "OPTIMIZER_SLOT" not in name}


def assert_one_line_error(returncode, stderr, *fragments):
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert returncode == 2 and len(lines) == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_two_workers_equal_one_process_stop_together_and_resume(tmp_path):
    (tmp_path / "song.txt").write_text(VERSE * 40, encoding="utf-8")
    cluster_flags = [*FLAGS, "--model_name", "cluster", "--epochs", "1000"]
    with Cluster(tmp_path, [cluster_flags, cluster_flags]) as cluster:
        chief, other = cluster.workers
        assert chief.stdout.readline().strip() == \
            "MultiWorkerMirroredStrategy: 2 workers, 2 replicas"
        for line in chief.stdout:
            if line.startswith("step 3/"):
                other.send_signal(signal.SIGTERM)  # the worker that is not the chief
                break
        (chief_status, chief_out, _), (other_status, other_out, other_err) = cluster.results()
    assert (chief_status, other_status) == (143, 143), other_out + other_err
    stopped = int(re.search(r"interrupted at step (\d+): saved", other_out).group(1))
    assert f"interrupted at step {stopped}: saved" in chief_out
    assert "another worker was interrupted" in chief_out
    assert (tmp_path / "logs" / "cluster" / "checkpoints" / f"ckpt-{stopped}.index").exists()
    steps = stopped + 2

    with Cluster(tmp_path, [[*cluster_flags, "--max_steps", str(steps)]] * 2) as cluster:
        results = cluster.results()
    for status, out, err in results:
        assert status == 0, out + err
        assert f"resuming model cluster from step {stopped}" in out
    # The same run in one process (this one) with the same global batch.
    single = train_py(tmp_path, **OPTIONS, model_name="single", epochs=1000, max_steps=steps)
    assert single.stdout.startswith("default strategy: 1 worker, 1 replica")
    cluster_weights = model_weights(tmp_path / "logs" / "cluster")
    single_weights = model_weights(tmp_path / "logs" / "single")
    assert cluster_weights.keys() == single_weights.keys() and len(cluster_weights) >= 5
    for name, value in single_weights.items():
        np.testing.assert_allclose(cluster_weights[name], value, rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    # The final loss is the same too, and only the chief wrote the model folder.
    final = [re.findall(r"step \d+ validation: loss ([\d.]+)", r[1]) for r in results]
    assert final[0][-1] == re.findall(r"step \d+ validation: loss ([\d.]+)", single.stdout)[-1]
    assert final[1] == []  # the other worker prints no validation line

    sample_py(tmp_path, model_name="cluster", output_file="out.txt", sample_length=50,
              random_seed=1)
    assert len((tmp_path / "out.txt").read_text(encoding="utf-8")) >= 50


def test_workers_with_other_flags_both_fail_with_one_line(tmp_path):
    (tmp_path / "song.txt").write_text(VERSE * 40, encoding="utf-8")
    flags = [*FLAGS, "--model_name", "differ", "--max_steps", "2"]
    with Cluster(tmp_path, [flags, [*flags, "--learning_rate", "0.01"]]) as cluster:
        results = cluster.results()
    for status, out, err in results:
        assert_one_line_error(status, err, "other flags or another corpus", "same command")
    assert not (tmp_path / "logs" / "differ" / "checkpoints").exists()


def test_a_worker_that_never_comes_up_is_an_error_after_the_timeout(tmp_path):
    (tmp_path / "song.txt").write_text(VERSE * 40, encoding="utf-8")
    alone = train(tmp_path, *FLAGS, "--model_name", "alone", "--cluster_timeout", "2",
                  config=tf_config(free_ports(2), 0))
    assert alone.returncode != 0
    lines = [line for line in alone.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "came up within 2 s" in lines[0], alone.stderr[-2000:]


def test_a_malformed_tf_config_stops_train_py_before_it_writes(tmp_path, monkeypatch):
    (tmp_path / "song.txt").write_text(VERSE * 40, encoding="utf-8")
    monkeypatch.setenv("TF_CONFIG", "{worker: 1")
    with pytest.raises(UsageError, match="TF_CONFIG is not valid JSON"):
        train_py(tmp_path, **OPTIONS, model_name="bad")
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize("config, fragment", [
    ("[1, 2]", "no worker list"),
    ('{"cluster": {}, "task": {"type": "worker", "index": 0}}', "no worker list"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
     "\"host:port\" strings"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
     "task index 2 is out of range: the cluster has 2 worker task(s)"),
    ('{"cluster": {"worker": ["a:1"]}}', "\"task\" must say which worker"),
    ('{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "worker"}}',
     "ps tasks"),
])
def test_malformed_tf_configs_name_what_to_fix(config, fragment):
    with pytest.raises(UsageError, match=re.escape(fragment)):
        distribute.cluster_from_environment({"TF_CONFIG": config})


def test_tf_config_names_this_worker_and_the_chief_first():
    assert distribute.cluster_from_environment({}) is None
    cluster = distribute.cluster_from_environment({"TF_CONFIG": json.dumps(
        {"cluster": {"chief": ["c:1"], "worker": ["a:2", "b:3"]},
         "task": {"type": "worker", "index": 1}})})
    assert cluster.addresses == ("c:1", "a:2", "b:3") and cluster.address == "b:3"


def test_a_port_in_use_is_named():
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cluster = distribute.cluster_from_environment({"TF_CONFIG": tf_config([port, 1], 0)})
        with pytest.raises(UsageError, match=f"port {port} of this worker .* is in use"):
            distribute.require_free_port(cluster)
