"""Jazz grammar tokens from scores built here, and every way a source can be unusable."""

from pathlib import Path

import music21
import pytest
import symusic

from lstm_core.errors import UsageError
from lstm_core.music.constants import TICKS_PER_QUARTER
from lstm_core.music.jazz.chords import format_progression
from lstm_core.music.jazz.extract import monophonic_line, read_progression, read_sources
from lstm_core.progress import Terminal
from lstm_core.music.jazz.grammar import (Element, interval_name, interval_semitones,
                                          load_jazz_corpus, parse_token)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
METHENY = DATA / "midi" / "jazz" / "original_metheny.mid"

# Over C (measure 1) and G7 (measure 2): E4 chord tone, D4 scale tone, a rest, Bb4 other (not in
# C, its scale, nor a semitone from C, E or G), C#5 approach; B4 chord, A4 scale, G4 chord tone.
MELODY = [("E4", 1), ("D4", 1), (None, 0.5), ("B-4", 0.5), ("C#5", 1),
          ("B4", 2), ("A4", 1), ("G4", 1)]
EXPECTED = ["C,1.000", "S,1.000,<m2,P-4>", "R,0.500", "X,0.500,<M7,P4>", "A,1.000,<A4,P1>",
            "C,2.000,<m2,P-4>", "S,1.000,<m2,P-4>", "C,1.000,<m2,P-4>"]


def _part(name, events, program):
    part = music21.stream.Part()
    part.partName = name
    instrument = music21.instrument.instrumentFromMidiProgram(program)
    instrument.partName = name  # what a MIDI file keeps as the track name
    part.insert(0, instrument)
    offset = 0.0
    for pitch, length in events:
        if pitch is None:
            element = music21.note.Rest(quarterLength=length)
        elif isinstance(pitch, list):
            element = music21.chord.Chord(pitch, quarterLength=length)
        else:
            element = music21.note.Note(pitch, quarterLength=length)
        part.insert(offset, element)
        offset += length
    return part


def _write_midi(path, *parts):
    score = music21.stream.Score()
    score.insert(0, music21.tempo.MetronomeMark(number=140))
    for part in parts:
        score.insert(0, part)
    score.write("midi", fp=str(path))
    return str(path)


def _melody():
    return _part("Sax", MELODY, 66)


def _comping():
    return _part("Keys", [(["C2", "C3", "E3", "G3"], 4), (["G2", "B3", "D4", "F4"], 4)], 0)


def test_tokens_from_melody_over_accompaniment(tmp_path):
    midi = _write_midi(tmp_path / "tune.mid", _comping(), _melody())
    tokens, metadata = load_jazz_corpus(midi)
    assert tokens == EXPECTED
    assert metadata["encoding"] == "jazz" and "C chord tone" in metadata["grammar"]
    assert metadata["progression"] == "C | G7"
    assert metadata["melody_part"] == "Sax" and metadata["chord_parts"] == ["Keys"]
    assert metadata["tempo"] == 140 and metadata["time_signature"] == "4/4"
    assert metadata["pitch_range"] == [62, 73]


def test_the_melody_is_notes_in_ticks_and_its_rests_are_gaps(tmp_path):
    melody = read_sources(_write_midi(tmp_path / "tune.mid", _comping(), _melody()))[0].melody
    quarter = TICKS_PER_QUARTER
    assert all(isinstance(n, symusic.Note) for n in melody)
    # E4 D4, half a quarter's rest, Bb4 C#5 B4 A4 G4: the rest is the gap from 2 to 2.5 quarters.
    assert [(n.time, n.duration, n.pitch) for n in melody] == [
        (0, quarter, 64), (quarter, quarter, 62), (5 * quarter // 2, quarter // 2, 70),
        (3 * quarter, quarter, 73), (4 * quarter, 2 * quarter, 71), (6 * quarter, quarter, 69),
        (7 * quarter, quarter, 67)]


def test_a_melody_line_is_one_note_at_a_time_on_the_grid():
    step = TICKS_PER_QUARTER // 12
    sounds = [symusic.Note(0, 960, 60, 80), symusic.Note(0, 480, 64, 90),  # the top voice is kept
              symusic.Note(250, 5, 67, 70),  # 6.25 grid steps: onset on step 6, a step long
              symusic.Note(500, 480, 65, 70)]  # 12.5 steps: to the even line, 12
    assert [(n.time, n.duration, n.pitch, n.velocity) for n in monophonic_line(sounds)] == [
        (0, 6 * step, 64, 90), (6 * step, step, 67, 70), (12 * step, 480, 65, 70)]


def test_part_flags_override_the_guess(tmp_path):
    midi = _write_midi(tmp_path / "tune.mid", _comping(), _melody())
    tokens, metadata = load_jazz_corpus(midi, melody_part="1", chord_parts=["Keys"])
    assert tokens == EXPECTED
    with pytest.raises(UsageError, match="--melody_part 'Drums' is not a part of .*tune.mid; "
                                         "its parts are 0 'Keys', 1 'Sax'"):
        load_jazz_corpus(midi, melody_part="Drums")


def test_chord_symbols_of_a_lead_sheet_are_used(tmp_path):
    part = _melody()
    part.insert(0, music21.harmony.ChordSymbol("C"))
    part.insert(4, music21.harmony.ChordSymbol("G7"))
    score = music21.stream.Score([part])
    path = tmp_path / "lead.musicxml"
    score.write("musicxml", fp=str(path))
    tokens, metadata = load_jazz_corpus(str(path))
    assert tokens == EXPECTED
    assert metadata["progression"] == "C | G7" and metadata["chord_parts"] == []
    assert format_progression(read_progression(str(path))) == "C | G7"


def test_music21_corpus_lead_sheets():
    tokens, metadata = load_jazz_corpus("music21:leadSheet/fosterBrownHair")
    assert len(tokens) > 50 and all(parse_token(t) is not None for t in tokens)
    assert metadata["progression"].startswith("F | Bb | F C")
    # --chords_from the same work gives the same bars (its pickup measure included).
    progression = read_progression("music21:leadSheet/fosterBrownHair")
    assert format_progression(progression) == metadata["progression"]


def test_chords_from_a_folder_parse_only_its_first_score(tmp_path, capsys):
    folder = tmp_path / "tunes"
    folder.mkdir()
    _write_midi(folder / "a_tune.mid", _comping(), _melody())
    (folder / "b_broken.mid").write_bytes(b"MThd not really")
    warn = Terminal().report
    assert format_progression(read_progression(str(folder), report=warn)) == "C | G7"
    assert "b_broken.mid" not in capsys.readouterr().err  # never opened
    (folder / "a_tune.mid").write_bytes(b"MThd broken too")
    with pytest.raises(UsageError, match="--chords_from .*tunes holds no score"):
        read_progression(str(folder), report=warn)
    err = capsys.readouterr().err
    # Opened, b_broken.mid is warned about: its absence above means it was never opened.
    assert "warning: skipping" in err and "b_broken.mid" in err


def test_a_karaoke_midi_file_is_read_as_midi(tmp_path, capsys):
    # .kar is among the suffixes a folder is searched for (SCORE_SUFFIXES), but music21 guesses
    # formats by extension and knows no .kar: the file is read as the MIDI file it is.
    folder = tmp_path / "tunes"
    folder.mkdir()
    _write_midi(folder / "a_tune.kar", _comping(), _melody())
    warn = Terminal().report
    assert format_progression(read_progression(str(folder), report=warn)) == "C | G7"
    assert load_jazz_corpus(str(folder / "a_tune.kar"), report=warn)[0] == EXPECTED
    assert "warning" not in capsys.readouterr().err


def test_whole_silent_measures_are_left_out_and_rests_cut_at_bar_lines(tmp_path):
    melody = _part("Sax", [("E4", 1), ("D4", 1), ("C4", 1), (None, 6), ("G4", 3)], 66)
    comping = _part("Keys", [(["C3", "E3", "G3"], 12)], 0)
    tokens, _ = load_jazz_corpus(_write_midi(tmp_path / "gap.mid", comping, melody))
    assert tokens == ["C,1.000", "S,1.000,<m2,P-4>", "C,1.000,<m2,P-4>", "R,1.000", "R,1.000",
                      "C,3.000,<m7,M3>"]


def test_a_final_note_longer_than_a_token_may_be_does_not_stop_training(tmp_path):
    # The last note is held for five measures, past LONGEST_DURATION (four): its token is kept
    # (a sampler that makes it skips it), and the mean duration counts it.
    melody = _part("Sax", [("E4", 1), ("D4", 1), ("C4", 2), ("G4", 20)], 66)
    comping = _part("Keys", [(["C3", "E3", "G3"], 24)], 0)
    tokens, metadata = load_jazz_corpus(_write_midi(tmp_path / "held.mid", comping, melody))
    assert tokens == ["C,1.000", "S,1.000,<m2,P-4>", "C,2.000,<m2,P-4>", "C,20.000,<m7,M3>"]
    assert parse_token(tokens[-1]) is None
    assert metadata["mean_duration"] == 6.0


def test_tokens_read_back():
    element = Element("C", parse_token("C,0.250").duration, (-8, -2))
    assert element.token() == "C,0.250,<M-2,m-6>"
    assert parse_token("C,0.250,<M-2,m-6>") == element
    assert parse_token("R,0.333").duration == parse_token("R,0.3333").duration
    for bad in ["<unknown>", "C", "Q,1.000", "C,0.000", "R,1.000,<m3,m-3>", "C,1.0,<m-3,m3>",
                "C,1.000,<Z3,m3>", "C,99.000"]:
        assert parse_token(bad) is None, bad
    for semitones in range(-26, 27):
        assert interval_semitones(interval_name(semitones)) == semitones
    assert [interval_name(s) for s in (0, -2, 7, 12, 15, -8)] == ["P1", "M-2", "P5", "P8", "m10",
                                                                   "m-6"]


def test_score_without_melody_is_an_error(tmp_path):
    midi = _write_midi(tmp_path / "chords_only.mid", _comping())
    with pytest.raises(UsageError, match="chords_only.mid has no part that looks like a melody.*"
                                         "--melody_part"):
        load_jazz_corpus(midi)


def test_score_without_chords_is_an_error(tmp_path):
    midi = _write_midi(tmp_path / "melody_only.mid", _melody())
    with pytest.raises(UsageError, match="melody_only.mid has no chord symbols and no "
                                         "accompaniment.*--chord_parts"):
        load_jazz_corpus(midi)


def test_missing_and_unreadable_sources_are_errors(tmp_path):
    with pytest.raises(UsageError, match="--training_file .*nowhere.mid does not exist"):
        load_jazz_corpus(str(tmp_path / "nowhere.mid"))
    with pytest.raises(UsageError, match="music21:noSuchWork names no composer, folder or work "
                                         "of music21's bundled corpus"):
        load_jazz_corpus("music21:noSuchWork")
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd not really")
    with pytest.raises(UsageError, match="broken.mid cannot be read as a score"):
        load_jazz_corpus(str(broken))


def test_a_folder_skips_each_unusable_score_with_one_line_and_trains_on_the_rest(tmp_path,
                                                                                capsys):
    folder = tmp_path / "solos"
    (folder / "deeper").mkdir(parents=True)
    _write_midi(folder / "good.mid", _melody(), _comping())
    _write_midi(folder / "deeper" / "also good.mid", _melody(), _comping())
    _write_midi(folder / "chords_only.mid", _comping())
    _write_midi(folder / "melody_only.mid", _melody())
    (folder / "broken.mid").write_bytes(b"MThd not really")
    tokens, metadata = load_jazz_corpus(str(folder), report=Terminal().report)
    assert tokens == EXPECTED * 2 and len(metadata["sources"]) == 2
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 3 and all(w.startswith("warning: skipping") for w in warnings)
    assert {name for name in ("broken.mid", "chords_only.mid", "melody_only.mid")
            if any(name in w for w in warnings)} == {"broken.mid", "chords_only.mid",
                                                     "melody_only.mid"}
    # A glob serves jazz too, as every encoding.
    assert load_jazz_corpus(str(folder / "**" / "*good.mid"))[0] == EXPECTED * 2


def test_melody_part_on_a_folder_skips_the_files_that_lack_it(tmp_path, capsys):
    folder = tmp_path / "solos"
    _write_midi(folder.mkdir() or folder / "sax.mid", _melody(), _comping())
    _write_midi(folder / "flute.mid", _part("Flute", MELODY, 73), _comping())
    tokens, metadata = load_jazz_corpus(str(folder), melody_part="Sax",
                                        report=Terminal().report)
    assert tokens == EXPECTED and metadata["melody_part"] == "Sax"
    [warning] = capsys.readouterr().err.splitlines()
    assert "flute.mid" in warning and "--melody_part 'Sax' is not a part" in warning
    with pytest.raises(UsageError, match="none of its 2 scores"):
        load_jazz_corpus(str(folder), melody_part="Tuba")
    # A score without parts (a single stream) has no part names: never a traceback.
    lone = music21.stream.Score([music21.note.Note("C4")])
    with pytest.raises(UsageError, match="--melody_part 'Sax' is not a part of lone"):
        from lstm_core.music.jazz.extract import _source

        _source("lone", lone, "Sax", None)


def test_metheny_solo_is_found_without_part_numbers():
    if not METHENY.exists():
        pytest.skip(f"the jazz training file {METHENY} is not here (shared data not mounted)")
    source = read_sources(str(METHENY))[0]
    assert source.melody_part == "Guitar"
    assert "Bass" in source.chord_parts and "Snare" not in source.chord_parts
    tokens, metadata = load_jazz_corpus(str(METHENY))
    assert all(parse_token(t).token() == t for t in tokens)
    assert 150 < len(set(tokens)) < 300 and metadata["tempo"] == 112


def test_a_short_solo_is_found_by_the_guess(tmp_path):
    # Three notes: a short solo, and the only single-note line above G3.
    lead = _part("Lead", [("E4", 2), ("D4", 2), ("G4", 4)], 66)
    midi = _write_midi(tmp_path / "short.mid", lead, _comping())
    assert read_sources(midi)[0].melody_part == "Lead"


def test_a_solo_this_project_wrote_is_measured_by_its_part_names(tmp_path):
    """A low solo (below G3 on average, where the guess refuses a part as a bass line), written by
    `write_jazz_midi`: `measure` finds its Solo part by name."""
    import symusic

    from lstm_core.music.constants import TICKS_PER_QUARTER as Q
    from lstm_core.music.jazz.chords import parse_progression
    from lstm_core.music.jazz.measure import format_figures, measure_solo
    from lstm_core.music.jazz.realize import write_jazz_midi

    progression = parse_progression("Dm7 G7 | Cmaj7")
    low = [symusic.Note(time * Q, duration * Q, pitch, 90) for time, duration, pitch in
           [(0, 1, 50), (1, 1, 53), (2, 2, 50), (4, 2, 48), (6, 2, 52)]]
    path = str(tmp_path / "solo.mid")
    write_jazz_midi(low, progression, path)
    source = read_sources(path)[0]
    assert (source.melody_part, source.chord_parts) == ("Solo", ["Chords"])
    # What ``python -m lstm_core.music.jazz.measure --midi solo.mid`` prints.
    measured = format_figures(f"{source.name} (melody {source.melody_part!r})",
                              measure_solo(source))
    assert "melody 'Solo'" in measured and ": 5 notes" in measured


def test_the_metadata_records_the_solos_dynamics(tmp_path):
    melody = _part("Sax", [(p, 0.5) for p in ["E4", "G4", "A4", "G4", "E4", "D4", "C4", "D4"] * 2],
                   66)
    for n, note in enumerate(melody.notes):
        note.volume.velocity = 112 if n % 2 == 0 else 64  # loud on the beat
    _, metadata = load_jazz_corpus(_write_midi(tmp_path / "accents.mid", _comping(), melody))
    dynamics = metadata["dynamics"]
    assert dynamics["source"] == "solo" and len(dynamics["by_position"]) == 8
    assert dynamics["by_position"][0::2] == [112] * 4 and dynamics["by_position"][1::2] == [64] * 4
