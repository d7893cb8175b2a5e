"""A model's checkpoints as files: the newest readable one even when the index is lost, saving
with a full disk reported as such, and what interrupted saves leave behind.

    checkpoints/
        checkpoint                          the index (`tf.train.CheckpointManager` writes it last)
        ckpt-20.index, ckpt-20.data-00000-of-00001
        ckpt-30_temp/                       a save that never finished (deleted by `tidy`)
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil

import tensorflow as tf

from lstm_core.errors import UsageError
from lstm_core.files import atomic_write, writing
from lstm_core.progress import Report, silent_report

PREFIX = "ckpt"
INDEX = "checkpoint"  # the index's file name
_DATA = re.compile(r"\.data-\d+-of-(\d+)$")


def readable(directory: str) -> list[str]:
    """The checkpoints in `directory` whose index and data files are all there and readable,
    oldest first (by step)."""
    found = []
    for index in glob.glob(os.path.join(glob.escape(directory), f"{PREFIX}-*.index")):
        path = index[:-len(".index")]
        step = path.rsplit("-", 1)[1]
        if step.isdigit() and _complete(path):
            found.append((int(step), path))
    return [path for _, path in sorted(found)]


def _complete(path: str) -> bool:
    shards = glob.glob(glob.escape(path) + ".data-*")
    counts = {int(m.group(1)) for m in map(_DATA.search, shards) if m}
    if len(counts) != 1 or len(shards) != counts.pop():
        return False
    try:
        tf.train.load_checkpoint(path).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError):
        return False
    return True


def latest(directory: str, report: Report = silent_report) -> str | None:
    """The newest checkpoint: the index's, or when the index is lost, the newest readable one
    found among the files (said in one line to `report`)."""
    indexed = tf.train.latest_checkpoint(directory)
    if indexed is not None:
        return indexed
    found = readable(directory)
    if not found:
        return None
    report(f"note: the checkpoint index {os.path.join(directory, INDEX)} is missing; "
           f"using the newest readable checkpoint, {found[-1]}")
    return found[-1]


def tidy(directory: str, report: Report = silent_report) -> None:
    """Before training: deletes the folders of saves that never finished, and rewrites a lost
    index from the readable checkpoints, so that training resumes from the newest of them
    (each said in one line to `report`)."""
    for temporary in glob.glob(os.path.join(glob.escape(directory), "**", f"{PREFIX}-*_temp*"),
                               recursive=True):  # the best checkpoint's folder too
        if os.path.isdir(temporary):
            shutil.rmtree(temporary)
            report(f"removed {temporary}, left by a save that was interrupted")
    if not os.path.isdir(directory) or tf.train.latest_checkpoint(directory) is not None:
        return
    found = readable(directory)
    if found:
        write_index(directory, found)
        report(f"the checkpoint index of {directory} was missing; rebuilt it from the files, "
               f"resuming from {os.path.basename(found[-1])}")


def write_index(directory: str, paths: list[str]) -> None:
    """Writes the index of `directory` naming `paths` (oldest first; the last is the newest),
    as `tf.train.CheckpointManager` writes it: a text `CheckpointState` of relative paths, with
    the times they were written, by which the manager deletes the oldest beyond its count."""
    names = [os.path.relpath(path, directory) for path in paths]
    lines = [f"model_checkpoint_path: {json.dumps(names[-1])}"]
    for path, name in zip(paths, names):
        lines += [f"all_model_checkpoint_paths: {json.dumps(name)}",
                  f"all_model_checkpoint_timestamps: {os.path.getmtime(path + '.index')}"]
    atomic_write(os.path.join(directory, INDEX), ("\n".join(lines) + "\n").encode())


def save(manager: tf.train.CheckpointManager, step: int) -> str:
    """`manager.save` as checkpoint `step`; a full disk is a `UsageError` naming the folder and
    the bytes a checkpoint needs (`lstm_core.files.writing`), and leaves the previous
    checkpoints as they were."""
    try:
        with writing(os.path.join(manager.directory, f"{PREFIX}-{step}"),
                     size(manager.checkpoint)):
            return manager.save(checkpoint_number=step)
    except UsageError as full:
        for partial in glob.glob(os.path.join(glob.escape(manager.directory),
                                              f"{PREFIX}-{step}_temp*")):
            shutil.rmtree(partial, ignore_errors=True)
        kept = (f"the checkpoint {manager.latest_checkpoint} is kept" if manager.latest_checkpoint
                else "no checkpoint was saved")
        raise UsageError(f"{full}; {kept}") from None


def size(checkpoint: tf.train.Checkpoint) -> int:
    """Bytes of the variables `checkpoint` saves."""
    return sum(v.shape.num_elements() * v.dtype.size
               for v in tf.train.TrackableView(checkpoint).descendants()
               if isinstance(v, tf.Variable))


def model_sizes(path: str) -> dict[str, int]:
    """The sizes of the `ModelConfig` that the model in checkpoint `path` was built with, read
    from its variables' shapes: vocabulary_size, embedding_size, units and layers."""
    shapes = {name.split("/.ATTRIBUTES")[0]: shape
              for name, shape in tf.train.list_variables(path)}
    vocabulary_size, embedding_size = shapes["model/embedding"]
    layers = sum(1 for name in shapes if re.fullmatch(r"model/lstm/cells/\d+/kernel", name))
    return {"vocabulary_size": vocabulary_size, "embedding_size": embedding_size,
            "units": shapes["model/lstm/cells/0/recurrent_kernel"][0], "layers": layers}


def attention_length(path: str) -> int:
    """The ``attention_length`` of the model in checkpoint `path` (0: it has no attention)."""
    shapes = dict(tf.train.list_variables(path))
    return shapes.get("model/attention/lag_bias/.ATTRIBUTES/VARIABLE_VALUE", [0])[0]


def has_lookback(path: str) -> bool:
    """Whether the model in checkpoint `path` has lookback inputs (`lstm_core.lookback`)."""
    return any(name.startswith("model/lookback/") for name, _ in tf.train.list_variables(path))
