"""`lstm_core.training.train` in the pytest process: the model folder and metrics it returns,
the callbacks in the order training runs, resuming, and the options it refuses."""

import json
import os
import signal

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from lstm_core import training_options
from lstm_core.callbacks import TrainingCallbacks
from lstm_core.errors import UsageError
from lstm_core.training_options import TrainOptions

VERSE = "Yeah, oho, the night is young and the song goes on,\nsing it loud until the dawn.\n"
TINY = dict(training_file="lyrics.txt", model_name="tiny", units=16, layers=1, embedding_size=8,
            batch_size=4, sequence_length=20, log_frequency=5, checkpoint_every=5,
            validation_every=4, histogram_frequency=0, sample_every=0)


class Events(TrainingCallbacks):
    """Every call, as (method, arguments)."""

    def __init__(self):
        self.calls = []

    def on_start(self, step, total_steps):
        self.calls.append(("start", step, total_steps))

    def on_step(self, step, metrics):
        self.calls.append(("step", step, sorted(metrics)))

    def on_log(self, step, metrics):
        self.calls.append(("log", step, metrics["loss"]))

    def on_validation(self, step, metrics):
        self.calls.append(("validation", step, metrics["validation_loss"]))

    def on_checkpoint(self, step, path):
        self.calls.append(("checkpoint", step, path))

    def on_message(self, line):
        self.calls.append(("message", line))

    def on_end(self):
        self.calls.append(("end",))

    def steps_of(self, kind):
        return [call[1] for call in self.calls if call[0] == kind]


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lyrics.txt").write_text(VERSE * 40, encoding="utf-8")  # about 3 KB
    return tmp_path


def test_train_returns_the_folder_and_metrics_calls_back_in_order_and_resumes(corpus):
    from lstm_core.training import train

    events, lines = Events(), []
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    draws, parsed = np.random.get_state()[1].copy(), flags.FLAGS.is_parsed()
    result = train(report=lines.append, callbacks=events, max_steps=10, **TINY)
    # Nothing left behind for the next test in this process: the signal handlers, the numpy
    # global generator's state, a distribution strategy entered, absl's flags.
    assert handlers == {signum: signal.getsignal(signum) for signum in handlers}
    assert (np.random.get_state()[1] == draws).all()
    assert not tf.distribute.has_strategy() and flags.FLAGS.is_parsed() == parsed
    assert result.folder == os.path.join("logs", "tiny") and result.steps == 10
    assert result.stopped == "max_steps"
    assert {"loss", "accuracy", "validation_loss", "best_step"} <= set(result.metrics)
    assert os.path.exists(os.path.join(result.folder, "config.json"))
    assert (corpus / "lyrics.vocab").exists()
    assert any(line.startswith("training tiny: ") for line in lines)
    assert lines[-2].startswith("done: ") and "sample.py --model_name tiny" in lines[-1]

    kinds = [call[0] for call in events.calls]
    assert events.calls[0] == ("start", 0, 10) and kinds[-1] == "end"
    assert events.steps_of("step") == list(range(1, 11))
    assert events.calls[1] == ("step", 1, ["accuracy", "gradient_norm", "loss"])
    assert events.steps_of("log") == [5, 10] and events.steps_of("validation") == [4, 8, 10]
    assert events.steps_of("checkpoint") == [5, 10, 10]  # every 5 steps, and at the end
    assert events.calls[-2][2].endswith("ckpt-10")
    # Each event follows the step it belongs to, a line after its log or validation.
    log = kinds.index("log")
    assert events.calls[log - 1] == ("step", 5, ["accuracy", "gradient_norm", "loss"])
    assert events.calls[log + 1][1].startswith("step 5/10 epoch 1: loss ")
    validation = kinds.index("validation")
    assert events.calls[validation - 1][1].startswith("step 4 validation: loss ")

    again, lines = Events(), []
    resumed = train(report=lines.append, callbacks=again, max_steps=13, **TINY)
    assert "resuming model tiny from step 10" in lines
    assert again.calls[0] == ("start", 10, 13) and again.steps_of("step") == [11, 12, 13]
    assert resumed.steps == 13 and resumed.folder == result.folder

    with pytest.raises(UsageError, match="--units 32 differs from model tiny.*--fresh"):
        train(max_steps=14, **{**TINY, "units": 32})

    # fresh: the old folder is renamed beside the new one, with its checkpoints.
    old_checkpoints = sorted(os.listdir(os.path.join(result.folder, "checkpoints")))
    lines = []
    train(report=lines.append, max_steps=3, fresh=True, **{**TINY, "units": 32})
    [kept] = [p for p in (corpus / "logs").iterdir() if p.name.startswith("tiny.previous-")]
    assert f"--fresh: the previous model is kept in {os.path.join('logs', kept.name)}" in lines
    assert sorted(os.listdir(kept / "checkpoints")) == old_checkpoints
    assert json.loads((kept / "config.json").read_text())["units"] == 16
    assert not any(line.startswith("resuming") for line in lines)
    assert json.loads((corpus / "logs" / "tiny" / "config.json").read_text())["units"] == 32
    new_checkpoints = os.listdir(corpus / "logs" / "tiny" / "checkpoints")
    assert "ckpt-3.index" in new_checkpoints and "ckpt-13.index" not in new_checkpoints


@pytest.mark.parametrize("values, message, option", [
    (dict(unit=16), "unit: not an option of TrainOptions", None),
    (dict(units=0), "^units is 0", "units"),
    (dict(encoding="mp3"), "^encoding 'mp3' is not one of remi", "encoding"),
    (dict(preset="deepjazz"), "^preset 'deepjazz' is not one of djmodel", "preset"),
    (dict(learning_rate=5.0), "^learning_rate 5.0 is too large", "learning_rate"),
    (dict(dropout=1.0), "^dropout is 1.0", "dropout"),
    (dict(max_steps=-1), "--max_steps, --validation_every", None),
    (dict(early_stopping=-1), "--early_stopping must be 0 \\(off\\)", None),
    (dict(batch_size=0), "^batch_size is 0", "batch_size"),
    (dict(units=-3), "^units is -3", "units"),
    (dict(learning_rate=0.0), "^learning_rate is 0.0", "learning_rate"),
    (dict(validation_fraction=1.0), "^validation_fraction is 1.0", "validation_fraction"),
])
def test_bad_options_are_usage_errors_naming_the_option(corpus, values, message, option):
    from lstm_core.training import train

    with pytest.raises(UsageError, match=message) as raised:
        train(training_file="lyrics.txt", **values)
    assert raised.value.option == option
    if option is not None:  # the apps name it as its flag
        assert raised.value.flag_wording() == "--" + str(raised.value)
    assert not (corpus / "logs").exists() and not (corpus / "lyrics.vocab").exists()


def test_a_preset_and_the_jazz_encoding_set_only_the_options_not_given():
    dj = training_options.with_defaults(TrainOptions(preset="djmodel", units=256), {"units"})
    assert (dj.units, dj.layers, dj.sequence_length, dj.shuffle) == (256, 1, 30, True)
    jazz = training_options.with_defaults(TrainOptions(encoding="jazz", epochs=3), {"epochs"})
    assert (jazz.epochs, jazz.batch_size, jazz.sequence_length) == (3, 8, 32)
    assert training_options.with_defaults(TrainOptions(), ()) == TrainOptions()


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"), (b"", "is empty"), (b"\x00\x01binary", "looks binary"),
    (b"caf\xe9 au lait", "is not UTF-8")])
def test_bad_training_files(corpus, content, message):
    from lstm_core.training import train

    if content is not None:
        (corpus / "corpus.txt").write_bytes(content)
    with pytest.raises(UsageError, match=f"training_file corpus.txt .*{message}"):
        train(training_file="corpus.txt")


def test_a_corpus_too_short_for_a_batch_leaves_no_vocabulary_behind(corpus):
    from lstm_core.training import train

    (corpus / "short.txt").write_text(VERSE, encoding="utf-8")
    with pytest.raises(UsageError, match="--sequence_length 500 is too long.*short.txt"):
        train(training_file="short.txt", sequence_length=500, model_name="short")
    assert not (corpus / "short.vocab").exists() and not (corpus / "logs").exists()


def test_early_stopping_needs_a_validation_split(corpus):
    from lstm_core.training import train

    with pytest.raises(UsageError, match="--early_stopping needs a validation split.*"
                                         "--validation_fraction"):
        train(validation_fraction=0.0, early_stopping=2, **TINY)


@pytest.fixture
def chorale_folder(corpus):
    """A folder of one Bach chorale as MIDI (soprano, alto, tenor, bass: four piano tracks)."""
    from music21 import corpus as music21_corpus

    (corpus / "songs").mkdir()
    music21_corpus.parse("bach/bwv66.6").write("midi", fp=str(corpus / "songs" / "c.mid"))
    return corpus / "songs"


@pytest.mark.parametrize("instruments", ["kazoo", "200"])
def test_unknown_instruments_are_usage_errors(chorale_folder, instruments):
    from lstm_core.training import train

    with pytest.raises(UsageError, match=f"--instruments.*'{instruments}' is no General MIDI "
                                         "instrument"):
        train(training_file="songs", instruments=instruments, model_name="picky")


def test_instruments_that_select_nothing_in_the_corpus_are_a_usage_error(chorale_folder):
    from lstm_core.training import train

    lines = []
    with pytest.raises(UsageError, match="--training_file songs: none of its 1 file.s. has the "
                                         "instruments --instruments names"):
        train(training_file="songs", instruments="tuba,drums", model_name="picky",
              report=lines.append)
    assert any(line.startswith("warning: skipping") and "is in --instruments" in line
               for line in lines)
    assert not (chorale_folder.parent / "logs").exists()


def test_a_folder_without_usable_midi_is_a_usage_error(corpus):
    from lstm_core.training import train

    (corpus / "songs").mkdir()
    (corpus / "songs" / "broken.mid").write_bytes(b"MThd\x00\x00")
    with pytest.raises(UsageError, match="^--training_file songs"):
        train(training_file="songs", model_name="m")


def test_music_options_on_text_and_jazz_without_chords_are_usage_errors(corpus):
    from music21 import note, stream

    from lstm_core.training import train

    with pytest.raises(UsageError, match="--encoding notes needs music .*, but lyrics.txt is text"):
        train(training_file="lyrics.txt", encoding="notes")
    melody = stream.Part([note.Note(60 + i % 5, quarterLength=1.0) for i in range(32)])
    stream.Score([melody]).write("midi", fp=str(corpus / "lonely.mid"))
    with pytest.raises(UsageError, match="lonely.mid"):
        train(training_file="lonely.mid", encoding="jazz", model_name="lonely")
