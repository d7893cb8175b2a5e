"""Music through the apps (in the pytest process, `apps`): a folder of MIDI files (with bad ones
among them) to a model, and the model to MIDI, WAV and a piano roll; TensorBoard hears and shows
its samples."""

import wave

import pytest

from apps import sample_py, train_py
from lstm_core.errors import UsageError


@pytest.fixture(scope="module")
def music_model(tmp_path_factory):
    from music21 import corpus

    path = tmp_path_factory.mktemp("music")
    songs = path / "midi_songs"
    (songs / "more").mkdir(parents=True)
    for n, name in enumerate(["bach/bwv66.6", "bach/bwv269", "bach/bwv7.7"]):
        folder = songs / "more" if n == 2 else songs
        corpus.parse(name).write("midi", fp=str(folder / f"chorale{n}.mid"))
    (songs / "empty.mid").write_bytes(b"")
    (songs / "notes.mid").write_text("not a MIDI file", encoding="utf-8")
    # The folder as a shell's completion gives it, with a trailing slash.
    result = train_py(path, training_file="midi_songs/", vocabulary_file="piano.vocab",
                      model_name="piano", units=32, batch_size=4, sequence_length=16,
                      max_steps=20, sample_every=10)
    return path, result


def test_hparams_name_a_folder_given_with_a_trailing_slash(music_model):
    from tensorboard.plugins.hparams import plugin_data_pb2

    from test_summaries import load

    path, _ = music_model
    root = load(path / "logs" / "piano")
    content = root.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    hparams = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info.hparams
    assert hparams["training_file"].string_value == "midi_songs"


def test_bad_files_are_skipped_with_one_warning_each(music_model):
    _, result = music_model
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and any("empty.mid" in w for w in warnings)
    assert any("notes.mid" in w for w in warnings)
    assert "3 file(s) used, 2 skipped" in result.stdout


def test_tensorboard_gets_audio_and_piano_roll_samples(music_model):
    from tensorboard.backend.event_processing import event_accumulator

    path, _ = music_model
    events = event_accumulator.EventAccumulator(str(path / "logs" / "piano" / "train"),
                                                size_guidance={"tensors": 0})
    events.Reload()
    tags = events.Tags()["tensors"]
    assert "sample/audio" in tags and "sample/piano_roll" in tags


def test_sample_writes_midi_wav_and_piano_roll(music_model):
    from lstm_core.music.scores import read_score

    path, _ = music_model
    result = sample_py(path, model_name="piano", output_file="song.mid", audio="song.wav",
                       piano_roll="song.png", sample_length=120, random_seed=2)
    assert "120 tokens" in result.stdout
    assert read_score(path / "song.mid").note_num() > 0
    with wave.open(str(path / "song.wav")) as audio:
        assert audio.getnframes() > 0
    assert (path / "song.png").read_bytes().startswith(b"\x89PNG")


def test_tempo_flag_sets_the_tempo_of_the_midi_file(music_model):
    from lstm_core.music.scores import read_score

    path, _ = music_model
    sample_py(path, model_name="piano", output_file="slow.mid", tempo=90.0, sample_length=40,
              random_seed=3)
    assert [t.qpm for t in read_score(path / "slow.mid").tempos] == [pytest.approx(90)]
    with pytest.raises(UsageError, match="^tempo 1000.0 .*between 20 and 400") as raised:
        sample_py(path, model_name="piano", output_file="x.mid", tempo=1000.0)
    assert raised.value.option == "tempo" and not (path / "x.mid").exists()


def test_primer_midi_starts_the_piece(music_model):
    path, _ = music_model
    sample_py(path, model_name="piano", output_file="primed.mid",
              primer_midi="midi_songs/chorale0.mid", sample_length=50)
    assert (path / "primed.mid").exists()
    with pytest.raises(UsageError, match="--primer_midi midi_songs/notes.mid"):
        sample_py(path, model_name="piano", output_file="x.mid",
                  primer_midi="midi_songs/notes.mid")
    assert not (path / "x.mid").exists()


def test_the_vocabulary_records_the_tokenizer_and_a_mismatch_is_a_usage_error(music_model):
    import json

    from lstm_core.music import tokenizer

    path, _ = music_model
    vocabulary = json.loads((path / "piano.vocab").read_text(encoding="utf-8"))
    assert vocabulary["kind"] == "remi"
    assert vocabulary["metadata"]["tokenizer"]["tokenization"] == "REMI"
    assert vocabulary["metadata"]["tokenizer"]["config"]["num_velocities"] == 32
    other = dict(vocabulary, metadata={**vocabulary["metadata"],
                                       **tokenizer.metadata_of(tokenizer.build("midilike"))})
    (path / "other.vocab").write_text(json.dumps(other), encoding="utf-8")
    before = (path / "other.vocab").read_bytes()
    with pytest.raises(UsageError, match="^--vocabulary_file other.vocab records another "
                                         "tokenizer"):
        train_py(path, training_file="midi_songs", vocabulary_file="other.vocab",
                 model_name="other", max_steps=1)
    assert (path / "other.vocab").read_bytes() == before and not (path / "logs" / "other").exists()
    (path / "logs" / "piano" / "vocabulary.vocab").rename(path / "kept.vocab")
    try:  # the model's own vocabulary, its tokenizer swapped: sampling refuses it
        (path / "logs" / "piano" / "vocabulary.vocab").write_text(json.dumps(other))
        with pytest.raises(UsageError, match="does not match the model"):
            sample_py(path, model_name="piano", output_file="x.mid")
        assert not (path / "x.mid").exists()
    finally:
        (path / "kept.vocab").replace(path / "logs" / "piano" / "vocabulary.vocab")


def test_a_musicxml_file_without_encoding_is_learned_as_music(tmp_path):
    # What train.py does with --training_file: by suffix, or by content under any name.
    from music21 import corpus

    from lstm_core.corpus import load_corpus

    corpus.parse("bach/bwv66.6").write("musicxml", fp=str(tmp_path / "chorale.xml"))
    (tmp_path / "chorale.txt").write_bytes((tmp_path / "chorale.xml").read_bytes())
    for name in ("chorale.xml", "chorale.txt"):
        learned = load_corpus(str(tmp_path / name))
        assert learned.kind == "remi" and "Pitch_61" in learned.tokens  # C#4 of the alto


@pytest.mark.parametrize("keywords, fragments", [
    (dict(output_file="unfit.txt"), ["--output_file unfit.txt", "writes MIDI", ".mid"]),
    (dict(output_file="unfit.mid", audio="unfit.mp3"), ["--audio unfit.mp3", ".wav"]),
    (dict(output_file="unfit.mid", piano_roll="roll.jpg"), ["--piano_roll roll.jpg", ".png"]),
    (dict(output_file="unfit.mid", chords="C | G7"), ["--chords", "--encoding jazz"]),
    (dict(output_file="unfit.mid", seed="hello"), ["--seed", "a text model"]),
])
def test_a_music_model_writes_midi_only_and_takes_no_jazz_options(keywords, fragments,
                                                                   tmp_path, monkeypatch):
    from lstm_core.errors import UsageError
    from lstm_core.kinds import Family
    from lstm_core.sampling_options import SampleOptions
    from lstm_core.trained_model import check_fits

    monkeypatch.chdir(tmp_path)
    options = SampleOptions(model_name="piano", **keywords)
    with pytest.raises(UsageError) as raised:  # as sample.py checks them, in its order
        options.check_outputs()
        check_fits(keywords, Family.MUSIC, "piano")
        options.check_output_kind(Family.MUSIC)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_beam_search_writes_music_with_its_log_likelihood(music_model):
    from music21 import converter

    path, _ = music_model
    result = sample_py(path, model_name="piano", output_file="beam.mid", sample_length=64,
                       beam_size=2, branch_factor=3, steps_per_iteration=8, random_seed=5)
    assert "64 tokens" in result.stdout and "log-likelihood -" in result.stdout
    assert len(converter.parse(str(path / "beam.mid")).flatten().notes) > 0


def test_sample_keeps_to_the_key_and_length_after_a_melody(music_model):
    import re

    import symusic

    path, _ = music_model
    result = sample_py(path, model_name="piano", output_file="keyed.mid", key="D minor", bars=3,
                       primer_notes="D4 F4 A4 -", random_seed=4)
    score = symusic.Score(str(path / "keyed.mid"))
    notes = sorted((n.time, n.pitch) for track in score.tracks for n in track.notes)
    quarter = score.ticks_per_quarter
    # The melody opens the piece (what the model adds may sound with it).
    assert {(0, 62), (quarter, 65), (2 * quarter, 69)} <= set(notes)
    assert all(pitch % 12 in {2, 4, 5, 7, 9, 10, 0} for _, pitch in notes)
    assert notes[-1][0] < 4 * 4 * quarter  # its bar, then 3 bars of new music
    assert re.search(r"keyed.mid: 1 track\(s\) \(Acoustic Grand Piano\), 1 bar of primer \+ 3 "
                     r"new bars, .* tokens, 0 invalid", result.stdout)


@pytest.fixture(scope="module")
def piano(music_model):
    from lstm_core.trained_model import load

    return load("piano", logdir=str(music_model[0] / "logs"))


@pytest.mark.parametrize("keywords, fragments", [
    (dict(instruments="piano,kazoo"), ["--instruments", "'kazoo' is no General MIDI"]),
    (dict(instruments=["drums"]), ["--instruments", "never wrote 'drums'"]),
    (dict(key="H minor"), ["--key", "'H' is not a note name"]),
    (dict(key="D minor", scale="C D E"), ["--key and --scale"]),
    (dict(bars=2, length=10), ["--sample_length and --bars"]),
    (dict(seconds=0), ["seconds is 0"]),
    (dict(primer_notes="C4 X9"), ["--primer_notes", "'X9'"]),
    (dict(primer_notes="C4", primer_midi="chorale0.mid"), ["--primer_midi and --primer_notes"]),
])
def test_bad_controls_are_usage_errors(piano, keywords, fragments):
    from lstm_core.errors import UsageError

    with pytest.raises(UsageError) as raised:
        piano.compose(**keywords)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_sample_length_help_names_each_kinds_default(music_model):
    import dataclasses

    from lstm_core.sampling_options import SampleOptions

    path, _ = music_model
    [field] = [f for f in dataclasses.fields(SampleOptions) if f.name == "sample_length"]
    assert ("(default: 1500 characters for text models, 1000 tokens for music models;"
            in field.metadata["help"])  # the help of --sample_length
    result = sample_py(path, model_name="piano", output_file="default.mid", random_seed=5)
    assert "1000 tokens" in result.stdout
