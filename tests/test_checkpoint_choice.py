"""Which weights `lstm_core.load` and sampling use: the best checkpoint (the lowest validation
loss) when the model was validated, the newest with ``checkpoint="latest"`` or without
validation, and the line that says which."""

import json
import os

import lstm_core
from lstm_core.sampling_options import SampleOptions

VERSE = "Yeah, oho, the night is young and the song goes on,\nsing it loud until the dawn.\n"
TINY = dict(units=16, layers=1, embedding_size=8, batch_size=4, sequence_length=20,
            log_frequency=5, checkpoint_every=5, histogram_frequency=0, sample_every=0,
            max_steps=12)


def test_the_best_checkpoint_by_default_the_newest_when_asked_or_never_validated(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lyrics.txt").write_text(VERSE * 40, encoding="utf-8")
    lstm_core.train("lyrics.txt", model_name="validated", validation_every=4, **TINY)
    record = json.loads((tmp_path / "logs" / "validated" / "checkpoints" / "best"
                         / "validations.json").read_text())
    best_step = min(record["validations"], key=lambda v: v[1])[0]  # the first lowest loss
    best = lstm_core.load("validated")
    assert os.path.basename(best.checkpoint_path) == f"ckpt-{best_step}"
    assert best.checkpoint_line.startswith(f"the best checkpoint (step {best_step}, the "
                                           "lowest validation loss)")
    latest = lstm_core.load("validated", checkpoint="latest")
    assert latest.checkpoint_path.endswith("ckpt-12") and "best" not in latest.checkpoint_line
    assert latest.checkpoint_line.startswith("checkpoint (step 12)")
    assert SampleOptions().checkpoint is None  # sample.py passes it to load: the same default

    lstm_core.train("lyrics.txt", model_name="unvalidated", validation_fraction=0.0, **TINY)
    assert lstm_core.load("unvalidated").checkpoint_path.endswith("ckpt-12")
