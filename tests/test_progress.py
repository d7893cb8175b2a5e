"""Long preparations show a progress bar on a terminal: the default corpus, parsing MIDI files,
reading jazz scores. The library reports through a `progress` callback; the apps' `Terminal`
draws it."""

import io
import sys

import midi_files
from lstm_core.progress import Terminal as Terminal


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_building_the_default_corpus_shows_its_progress(tmp_path, monkeypatch):
    from music21 import corpus

    from lstm_core.default_corpus import build_default_text

    chorales = corpus.getComposer("bach")[:3]  # the real build reads 433; three show the bar
    monkeypatch.setattr(corpus, "getComposer", lambda name: chorales)
    monkeypatch.setattr(sys, "stderr", Tty())
    path = build_default_text(str(tmp_path / "lyrics.txt"), progress=Terminal().progress)
    assert "3/3" in sys.stderr.getvalue() and "scores read" in sys.stderr.getvalue()
    assert open(path, encoding="utf-8").read().strip()


def test_parsing_midi_files_shows_its_progress(tmp_path, monkeypatch):
    from lstm_core.music import corpus, tokenizer

    files = [midi_files.write(tmp_path / f"{n}.mid", midi_files.piano()) for n in range(2)]
    monkeypatch.setattr(sys, "stderr", Tty())
    metadata = tokenizer.metadata_of(tokenizer.build())
    corpus.parse_files(files, metadata, None, str(tmp_path / "cache"), Terminal().progress)
    assert "2/2" in sys.stderr.getvalue() and "files read" in sys.stderr.getvalue()


def test_reading_jazz_scores_shows_its_progress(tmp_path, monkeypatch):
    from test_jazz_grammar import _comping, _melody, _write_midi

    from lstm_core.music.jazz.extract import read_sources

    for n in range(2):
        _write_midi(tmp_path / f"{n}.mid", _melody(), _comping())
    monkeypatch.setattr(sys, "stderr", Tty())
    assert len(read_sources(str(tmp_path), progress=Terminal().progress)) == 2
    assert "2/2" in sys.stderr.getvalue() and "scores read" in sys.stderr.getvalue()


def test_the_library_draws_nothing_unless_given_a_progress_callback(tmp_path, monkeypatch,
                                                                      capsys):
    from lstm_core.music import corpus, tokenizer

    files = [midi_files.write(tmp_path / f"{n}.mid", midi_files.piano()) for n in range(2)]
    metadata = tokenizer.metadata_of(tokenizer.build())
    updates = []
    corpus.parse_files(files, metadata, None, str(tmp_path / "cache"),
                       lambda *update: updates.append(update))
    assert capsys.readouterr() == ("", "")
    assert updates[0] == (0, 2, "files read") and updates[-1][:2] == (2, 2)
    assert updates[-1][2].startswith("files read, 0 skipped, ")


def test_the_terminal_prints_warnings_on_stderr_and_lines_above_its_bar(monkeypatch, capsys):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", Tty())
    terminal.progress(1, 4, "files read")  # a task resumed with 1 of 4 done
    terminal.report("warning: skipping a.mid: it is empty (0 bytes)")
    terminal.report("3 file(s) used")
    terminal.progress(4, 4, "files read, 1 skipped")
    assert terminal.bar is None  # the task ended with its last file
    drawn = sys.stderr.getvalue()
    assert "warning: skipping a.mid" in drawn and "\r\x1b[K" in drawn and "4/4" in drawn
    assert capsys.readouterr().out == "3 file(s) used\n"


class Clock:
    """`time.perf_counter` that moves `step` seconds at every reading."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_without_a_terminal_a_logged_bar_writes_a_line_every_ten_seconds_at_most(monkeypatch):
    from lstm_core import progress

    monkeypatch.setattr(progress.time, "perf_counter", Clock(1.0))
    log = io.StringIO()
    bar = progress.ProgressBar(100, stream=log, logged=True)
    for done in range(1, 36):  # 35 updates, a second apart
        bar.update(done, f"files read, 0 skipped, {done * 7} tokens so far")
    lines = log.getvalue().splitlines()
    assert len(lines) == 3, lines  # at 10, 20 and 30 seconds
    bar.update(100, "done")
    assert log.getvalue().splitlines()[-1].startswith("100% 100/100")
    assert lines[0].endswith("10/100 ETA 0:01:30 files read, 0 skipped, 70 tokens so far")
    quiet = io.StringIO()
    unlogged = progress.ProgressBar(100, stream=quiet)
    for done in range(1, 36):
        unlogged.update(done)
    assert quiet.getvalue() == ""


def test_a_long_jazz_preparation_without_a_terminal_says_how_far_it_is(tmp_path, monkeypatch):
    from test_jazz_grammar import _comping, _melody, _write_midi

    from lstm_core import progress
    from lstm_core.music.jazz.extract import read_sources

    for n in range(3):
        _write_midi(tmp_path / f"{n}.mid", _melody(), _comping())
    (tmp_path / "3.mid").write_bytes(b"not a MIDI file")
    monkeypatch.setattr(progress.time, "perf_counter", Clock(6.0))  # as if each file took long
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    terminal = progress.Terminal()
    assert len(read_sources(str(tmp_path), report=terminal.report,
                            progress=terminal.progress)) == 3
    lines = [line for line in sys.stderr.getvalue().splitlines() if "scores read" in line]
    assert lines and lines[-1].startswith("100% 4/4") and lines[-1].endswith("1 skipped"), lines
