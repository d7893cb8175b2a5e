"""Training tokens/s of one train.py process against two workers on localhost (TF_CONFIG).

    python benchmarks/distributed.py --training_file ../shared/data/text/tinyshakespeare.txt

Runs the same command (same global batch, same steps) as one process and as a cluster of two
`MultiWorkerMirroredStrategy` workers on this machine, alternating `--repeats` times, and reports
the tokens/s of each (the mean of the log lines after the first, which includes compiling) and
their ratio. On one machine the two workers share its cores and add an all-reduce over loopback
gRPC to every step: expect overhead, not a speed-up. The point is that the cluster runs and
equals one process (tests/test_distributed.py checks the weights); on separate machines each
worker brings its own cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from lstm_core.distribute import free_local_ports, local_cluster_config  # noqa: E402


def environment(config: str | None = None) -> dict:
    """This environment on the CPU, with `config` as TF_CONFIG (None: none)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    return {**env, "CUDA_VISIBLE_DEVICES": "", **({"TF_CONFIG": config} if config else {})}


def tokens_per_second(output: str) -> float:
    rates = [float(r.replace(",", "")) for r in re.findall(r"([\d,.]+) tokens/s", output)]
    return statistics.mean(rates[1:] or rates)


def run(flags: list[str], workers: int, folder: str) -> float:
    command = [sys.executable, os.path.join(ROOT, "train.py"), *flags, "--logdir", folder]
    if workers == 1:
        return tokens_per_second(subprocess.run(command, env=environment(), check=True,
                                                capture_output=True, text=True).stdout)
    ports = free_local_ports(workers)
    processes = [subprocess.Popen(command, env=environment(local_cluster_config(ports, i)),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for i in range(workers)]
    outputs = [p.communicate()[0] for p in processes]
    if any(p.returncode for p in processes):
        raise SystemExit(f"a worker failed:\n{outputs}")
    return tokens_per_second(outputs[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--training_file", required=True)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"one process": [], "two workers": []}
    for _ in range(args.repeats):
        for label, workers in (("one process", 1), ("two workers", 2)):
            with tempfile.TemporaryDirectory() as folder:
                flags = ["--training_file", args.training_file, "--vocabulary_file",
                         os.path.join(folder, "v.vocab"), "--model_name", "bench",
                         "--max_steps", str(args.steps), "--log_frequency", "10",
                         "--sample_every", "0", "--histogram_frequency", "0",
                         "--validation_fraction", "0"]
                rate = run(flags, workers, folder)
            results[label].append(rate)
            print(f"{label}: {rate:,.0f} tokens/s", flush=True)
    one, two = (statistics.median(results[k]) for k in ("one process", "two workers"))
    print(f"two workers on this machine: {two:,.0f} tokens/s, {two / one:.2f}x one process "
          f"({one:,.0f} tokens/s)")
    print(json.dumps({"one_process_tok_s": one, "two_workers_tok_s": two, "ratio": two / one}))


if __name__ == "__main__":
    main()
