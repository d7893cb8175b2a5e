"""Long preparations show a progress bar on a terminal: the default corpus, parsing MIDI files,
reading jazz scores."""

import io
import sys

import midi_files


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_building_the_default_corpus_shows_its_progress(tmp_path, monkeypatch):
    from music21 import corpus

    from lstm_core.default_corpus import build_default_text

    chorales = corpus.getComposer("bach")[:3]  # the real build reads 433; three show the bar
    monkeypatch.setattr(corpus, "getComposer", lambda name: chorales)
    monkeypatch.setattr(sys, "stderr", Terminal())
    path = build_default_text(str(tmp_path / "lyrics.txt"))
    assert "3/3" in sys.stderr.getvalue() and "scores read" in sys.stderr.getvalue()
    assert open(path, encoding="utf-8").read().strip()


def test_parsing_midi_files_shows_its_progress(tmp_path, monkeypatch):
    from lstm_core.music import corpus, tokenizer

    files = [midi_files.write(tmp_path / f"{n}.mid", midi_files.piano()) for n in range(2)]
    monkeypatch.setattr(sys, "stderr", Terminal())
    metadata = tokenizer.metadata_of(tokenizer.build())
    corpus.parse_files(files, metadata, None, str(tmp_path / "cache"))
    assert "2/2" in sys.stderr.getvalue() and "files read" in sys.stderr.getvalue()


def test_reading_jazz_scores_shows_its_progress(tmp_path, monkeypatch):
    from test_jazz_grammar import _comping, _melody, _write_midi

    from lstm_core.music.jazz.extract import read_sources

    for n in range(2):
        _write_midi(tmp_path / f"{n}.mid", _melody(), _comping())
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert len(read_sources(str(tmp_path))) == 2
    assert "2/2" in sys.stderr.getvalue() and "scores read" in sys.stderr.getvalue()
