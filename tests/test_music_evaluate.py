"""The music evaluation: each figure on hand-built Scores with known answers, the reference
excerpts (the ceiling), and the command's output and exit status."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import symusic

import midi_files
from midi_files import TPQ, score, track
from lstm_core.errors import UsageError
from lstm_core.music import bars, evaluate, metrics, scores

ROOT = Path(__file__).resolve().parents[1]
C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]
WHOLE = 4.0  # quarters: one note a bar of 4/4


def test_bar_lines_follow_the_time_signatures():
    piece = score(track([60] * 3, step=3.0), time_signature=(3, 4))
    piece.time_signatures.append(symusic.TimeSignature(9 * TPQ, 2, 4))
    assert bars.bar_lines(piece).tolist() == [0, 3 * TPQ, 6 * TPQ, 9 * TPQ]
    assert bars.bar_lines(piece, 5).tolist() == [0, 3 * TPQ, 6 * TPQ, 9 * TPQ, 11 * TPQ,
                                                 13 * TPQ]
    piece.time_signatures.append(symusic.TimeSignature(4 * TPQ, 3, 4))  # inside bar 2
    assert bars.bar_lines(piece).tolist() == [0, 3 * TPQ, 4 * TPQ, 7 * TPQ, 9 * TPQ]
    assert bars.bar_count(score(track([60]))) == 1  # no time signature: 4/4


def test_an_excerpt_keeps_the_meter_and_tempo_in_effect_where_it_starts():
    waltz = score(track([60, 62, 64, 65, 67, 69], step=3.0), tempos=(100.0, 100.0, 80.0),
                  time_signature=(3, 4))
    cut = bars.excerpt(waltz, 3, 2)
    assert [(s.time, s.numerator) for s in cut.time_signatures] == [(0, 3)]
    assert [round(t.qpm) for t in cut.tempos] == [80]
    assert [(n.time, n.pitch) for n in cut.tracks[0].notes] == [(0, 65), (3 * TPQ, 67)]


def test_the_first_bars_end_at_a_bar_line_or_are_the_whole_score():
    held = score(track([60, 62], step=6.0))  # two notes of 6 quarters: 3 bars of 4/4
    held.tracks[0].pedals.append(symusic.Pedal(0, 12 * TPQ))
    cut = bars.first_bars(held, 1)
    assert [(n.time, n.duration, n.pitch) for n in cut.tracks[0].notes] == [(0, 4 * TPQ, 60)]
    assert [(p.time, p.duration) for p in cut.tracks[0].pedals] == [(0, 4 * TPQ)]
    assert bars.first_bars(held, 0) is held and bars.first_bars(held, 3) is held
    assert bars.bar_count(bars.first_bars(held, 2)) == 2


def test_notes_per_bar_and_empty_bar_rate():
    six_bars = score(track([60] * 6, step=WHOLE))
    assert metrics.notes_per_bar(metrics.piece(six_bars, 8)) == 6 / 8
    assert metrics.empty_bar_rate(metrics.piece(six_bars, 8)) == 0.25  # bars 7 and 8
    assert metrics.empty_bar_rate(metrics.piece(six_bars)) == 0
    held = score(track([60, 62], step=2 * WHOLE))  # each note sounds through two bars
    assert metrics.empty_bar_rate(metrics.piece(held, 5)) == 0.2


def test_polyphony_and_pitch_range_per_instrument():
    line = metrics.piece(score(track(C_MAJOR)))
    assert metrics.polyphony(line, 0) == (1.0, 1)
    assert metrics.pitch_range(line, 0) == (12, 60, 72)
    band = metrics.piece(score(track([[60, 64, 67], 72]), track([36, 43], program=33),
                               track([36, 42], drums=True)))
    assert metrics.polyphony(band, 0) == (2.0, 3)  # three pitches, then one
    assert metrics.polyphony(band, 33) == (1.0, 1)
    assert metrics.pitch_range(band, 33) == (7, 36, 43)
    assert math.isnan(metrics.polyphony(band, 40)[0])  # a violin that never plays


def test_pitch_class_entropy_and_scale_consistency():
    assert metrics.pitch_class_entropy(metrics.piece(score(track([60, 72, 48])))) == 0
    chromatic = metrics.piece(score(track(list(range(60, 72)))))
    assert metrics.pitch_class_entropy(chromatic) == pytest.approx(math.log2(12))
    assert metrics.scale_consistency(chromatic) == pytest.approx(7 / 12)
    assert metrics.scale_consistency(metrics.piece(score(track(C_MAJOR)))) == 1.0
    a_minor = [57, 59, 60, 62, 64, 65, 67, 69]
    assert metrics.scale_consistency(metrics.piece(score(track(a_minor)))) == 1.0
    drums_only = metrics.piece(score(track([36, 38], drums=True)))
    assert math.isnan(metrics.scale_consistency(drums_only))
    assert math.isnan(metrics.pitch_class_entropy(drums_only))


def test_groove_consistency():
    repeated = metrics.piece(score(track(C_MAJOR * 2)))  # four bars of four quarters
    assert metrics.groove_consistency(repeated) == 1.0
    alternating = score(track([60], step=WHOLE))
    alternating.tracks[0].notes.extend(symusic.Note(4 * TPQ + q * TPQ, TPQ, 62, 80)
                                       for q in range(4))
    # Onsets {0} then {0, 1, 2, 3} quarters: 3 of the bar's 48 grid steps differ.
    assert metrics.groove_consistency(metrics.piece(alternating)) == 1 - 3 / 48
    assert math.isnan(metrics.groove_consistency(metrics.piece(score(track([60])))))


def test_drum_pattern_consistency():
    sixteenths = score(track([36, 42, 38, 42] * 8, drums=True, step=0.25))
    assert metrics.drum_pattern_consistency(metrics.piece(sixteenths)) == 1.0
    triplets = score(track([36, 42, 42] * 4, drums=True, step=1 / 3))
    assert metrics.drum_pattern_consistency(metrics.piece(triplets)) == 1.0
    off = score(track([36] * 4, drums=True))
    for note in off.tracks[0].notes[::2]:
        note.time += TPQ // 12  # a twelfth of a beat late: on neither pattern
    assert metrics.drum_pattern_consistency(metrics.piece(off)) == 0.5
    assert math.isnan(metrics.drum_pattern_consistency(metrics.piece(score(track(C_MAJOR)))))


def test_tempo_changes_per_bar():
    four_bars = track([60] * 4, step=WHOLE)
    assert metrics.tempo_changes_per_bar(metrics.piece(score(four_bars))) == 0
    changing = score(four_bars, tempos=(120.0, 120.0, 90.0, 90.0))  # one change, bar 3
    assert metrics.tempo_changes_per_bar(metrics.piece(changing)) == 0.25


def test_self_similarity_by_lag():
    repeated = metrics.piece(score(track([60, 64, 67, 64] * 4)))  # four bars of one bar
    assert metrics.self_similarity(repeated, 1) == metrics.self_similarity(repeated, 2) == 1.0
    assert math.isnan(metrics.self_similarity(repeated, 4))  # no bar four bars on
    a, b = [60, 62, 64, 65], [67, 69, 71, 72]
    abab = metrics.piece(score(track((a + b) * 3)))
    assert metrics.self_similarity(abab, 1) == 0.0
    assert metrics.self_similarity(abab, 2) == 1.0
    assert metrics.self_similarity(abab, 4) == 1.0
    half = metrics.piece(score(track([60, 62, 64, 65, 60, 62, 67, 69])))
    assert metrics.self_similarity(half, 1) == pytest.approx(2 / 6)  # 2 onsets shared of 6
    one_note = metrics.piece(score(track([60])), 4)
    assert metrics.self_similarity(one_note, 1) == 0.0  # bar 1 does not come back in bar 2
    assert math.isnan(metrics.self_similarity(metrics.piece(score(), 4), 1))  # all silent


def test_histograms_and_their_overlap():
    counts = metrics.histograms(metrics.piece(score(track(
        [60, 64, [60, 67]], velocities=[100, 20]), track([36, 36], drums=True))))
    assert counts["pitch_class"][[0, 4, 7]].tolist() == [2, 1, 1]
    assert counts["pitch"].sum() == 4  # drums left out
    assert counts["duration"][metrics.GRID] == 4  # four quarter notes
    assert counts["ioi"][metrics.GRID] == 2  # onsets at 0, 1 and 2 quarters
    assert counts["velocity"].sum() == 6  # drum hits included
    assert metrics.overlap(counts["pitch"], counts["pitch"]) == 1.0
    assert metrics.overlap(counts["pitch"], np.roll(counts["pitch"], 1)) == 0.0
    assert metrics.overlap(np.array([1, 1]), np.array([2, 0])) == 0.5
    assert math.isnan(metrics.overlap(counts["pitch"], np.zeros(128)))


def loop(bars_count: int, shift: int = 0) -> symusic.Score:
    """A bass and piano loop of one bar repeated: every real excerpt repeats at every lag."""
    return score(track([[60 + shift, 64 + shift], 67 + shift, 64 + shift, 62 + shift] *
                       bars_count), track([36 + shift] * bars_count, program=33, step=WHOLE))


def test_reference_excerpts_are_whole_bars_drawn_with_a_seed():
    reference = [loop(6), loop(3, shift=2), loop(10, shift=5)]
    drawn = evaluate.reference_excerpts(reference, 4, 5, seed=1)
    assert len(drawn) == 5
    assert all(bars.bar_count(e) == 4 and e.note_num() == 4 * 6 for e in drawn)
    assert all(min(n.time for t in e.tracks for n in t.notes) == 0 for e in drawn)
    again = evaluate.reference_excerpts(reference, 4, 5, seed=1)
    assert [e.dumps_midi() for e in drawn] == [e.dumps_midi() for e in again]
    assert len(evaluate.reference_excerpts(reference, 4, 100, seed=1)) == 3 + 7  # every start
    with pytest.raises(UsageError, match="no reference piece has 11 bars"):
        evaluate.reference_excerpts(reference, 11, 5, seed=1)


def test_the_ceiling_of_a_folder(tmp_path):
    for i, shift in enumerate((0, 2, 5)):
        midi_files.write(tmp_path / "corpus" / f"{i}.mid", loop(8, shift))
    reference = [scores.read_score(p) for p in sorted((tmp_path / "corpus").iterdir())]
    sparse = score(track([60, 67], step=WHOLE))  # two bars of notes, two asked for on top
    result = evaluate.evaluate([sparse], reference, bars=4, excerpts=6)
    assert (result["bars"], result["pieces"], result["excerpts"]) == (4, 1, 6)
    ceiling, ours = result["reference"], result["generated"]
    assert ceiling["notes_per_bar"] == 6 and ceiling["empty_bar_rate"] == 0
    assert ceiling["self_similarity"] == {"1": 1.0, "2": 1.0, "4": None}
    assert ceiling["instruments"]["Electric Bass (finger)"]["polyphony_max"] == 1
    assert ceiling["instruments"]["Acoustic Grand Piano"]["polyphony_max"] == 2
    assert ceiling["drum_pattern_consistency"] is None
    assert ours["notes_per_bar"] == 0.5 and ours["empty_bar_rate"] == 0.5
    assert ours["overlap"]["pitch_class"] < ceiling["overlap"]["pitch_class"]
    assert "Electric Bass (finger)" not in ours["instruments"]
    table = evaluate.format_table(result)
    assert "empty-bar rate" in table and "self-similarity, lag 4 bars" in table
    json.dumps(result)  # JSON-ready: no numpy numbers, no NaN


def test_command_prints_the_table_and_a_json_line(tmp_path, capsys):
    folder = tmp_path / "corpus"
    midi_files.write(folder / "loop.mid", loop(8))
    piece = midi_files.write(tmp_path / "piece.mid", loop(2, shift=3))
    evaluate.main([str(piece), "--reference", str(folder), "--excerpts", "3"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["over", "2", "bars", "generated", "reference"]
    assert json.loads(out[-1])["generated"]["notes_per_bar"] == 6
    evaluate.main([str(piece), "--reference", str(folder), "--json"])
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.parametrize("arguments, message", [
    (["missing.mid", "--reference", "{folder}"], "GENERATED missing.mid: No such file"),
    (["{piece}"], "the following arguments are required: --reference"),
    (["{piece}", "--reference", "{folder}", "--bars", "0"], "--bars is 0"),
    (["{piece}", "--reference", "{folder}", "--bars", "9"], "no reference piece has 9 bars"),
    (["{piece}", "--reference", "{tmp}/nothing"], "--reference"),
])
def test_command_bad_input_is_one_line_and_status_2(tmp_path, capsys, arguments, message):
    folder = tmp_path / "corpus"
    midi_files.write(folder / "loop.mid", loop(8))
    piece = midi_files.write(tmp_path / "piece.mid", loop(2))
    names = {"folder": folder, "piece": piece, "tmp": tmp_path}
    with pytest.raises(SystemExit) as exit:
        evaluate.main([a.format(**names) for a in arguments])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and message in err


def test_the_module_runs_as_a_command_and_exits_2_on_a_missing_file(tmp_path):
    folder = tmp_path / "corpus"
    midi_files.write(folder / "loop.mid", loop(8))
    done = subprocess.run([sys.executable, "-m", "lstm_core.music.evaluate",
                           str(tmp_path / "missing.mid"), "--reference", str(folder)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"error: GENERATED {tmp_path / 'missing.mid'}: No such "
                                        "file or directory; give MIDI files that exist"]
