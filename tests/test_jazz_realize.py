"""Realising tokens over a progression, the two-part MIDI file, and measuring it."""

from fractions import Fraction

import music21
import numpy as np
import pytest

from lstm_core.music.constants import JAZZ_GUITAR, TENOR_SAX, TICKS_PER_QUARTER
from lstm_core.music.jazz.chords import parse_progression
from lstm_core.music.jazz.extract import read_sources
from lstm_core.music.jazz.grammar import classify, parse_token
from lstm_core.music.jazz.measure import measure_solo
from lstm_core.music.jazz.realize import (FALLBACK, MAX_LEAP, MIN_REPEAT_DISTANCE, PITCH_RANGE,
                                          realize_solo, tokens_needed, voicing, write_jazz_midi)

PROGRESSION = "Dm7 G7 | Cmaj7 | C | A7 | Dm7 G7 C | Bb7 | F6 | Bm7b5 E7"
SHAPES = ["C,0.500,<m3,m-3>", "S,0.250,<M2,P-4>", "A,0.333,<P4,m-2>", "C,1.000,<M-2,m-6>",
          "X,0.500,<m3,m-3>", "R,0.250", "S,0.750,<m6,M2>", "C,0.250", "A,0.500,<m-2,P-5>"]


# On a grid of sixteenths, which music21's MIDI reader keeps exactly (it snaps to 1/4 and 1/3).
SIXTEENTH_SHAPES = [s for s in SHAPES if float(s.split(",")[1]) * 4 % 1 == 0]


def _tokens(count, seed=0, shapes=SHAPES):
    return list(np.random.default_rng(seed).choice(shapes, count))


def _chord_at(progression, time):
    """The chord of `progression` sounding at tick `time`."""
    offset, start = Fraction(time, TICKS_PER_QUARTER), Fraction(0)
    for measure in progression:
        for chord, beats in measure:
            if offset < start + beats:
                return chord
            start += beats
    raise AssertionError(f"offset {offset} is past the progression")


def _available(kind, chord):
    """The class realisation must give a token of `kind` under `chord`."""
    return next(k for k in FALLBACK[kind]
                if any(classify(p, chord) == k for p in range(*PITCH_RANGE)))


def test_every_note_fits_its_chord_class_and_bounds():
    progression = parse_progression(PROGRESSION)
    tokens = _tokens(200)
    solo = realize_solo(tokens, progression, np.random.default_rng(7))
    # Each note is the next note token's (rests are the gaps between notes).
    elements = [e for e in map(parse_token, tokens) if not e.is_rest][:len(solo)]
    previous = None
    checked_bounds = 0
    for event, element in zip(solo, elements):
        chord = _chord_at(progression, event.time)
        assert classify(event.pitch, chord) == _available(element.kind, chord)
        assert PITCH_RANGE[0] <= event.pitch <= PITCH_RANGE[1]
        if previous is not None:
            assert abs(event.pitch - previous.pitch) <= MAX_LEAP
            if event.time - previous.time < MIN_REPEAT_DISTANCE * TICKS_PER_QUARTER:
                assert event.pitch != previous.pitch
            if element.interval is not None and element.kind in "CS":
                low, high = element.interval
                assert low <= event.pitch - previous.pitch <= high
                checked_bounds += 1
        previous = event
    assert checked_bounds > 20
    # An X over a seventh chord has no pitch of its own class: it falls back, to A here.
    assert _available("X", progression[0][0][0]) == "A"
    assert _available("X", progression[2][0][0]) == "X"  # C triad: Bb is "other"


def _bar_lines(progression):
    """The tick of each bar line, the solo's start included."""
    return np.cumsum([0] + [int(sum(b for _, b in m) * TICKS_PER_QUARTER) for m in progression])


def test_measures_are_filled_exactly():
    progression = parse_progression(PROGRESSION)
    bar_lines = _bar_lines(progression)
    # Long notes overrun bar lines and are cut; a short token list runs out and leaves rests.
    for tokens in (_tokens(300, seed=3), ["C,3.000,<m3,m-3>"] * 40, _tokens(12)):
        solo = realize_solo(tokens, progression, np.random.default_rng(1))
        assert all(n.duration > 0 for n in solo)
        assert all(a.end <= b.time for a, b in zip(solo, solo[1:]))  # one note at a time
        for note in solo:  # no note crosses a bar line
            measure = np.searchsorted(bar_lines, note.time, side="right") - 1
            assert note.end <= bar_lines[measure + 1]
    # Notes only: each measure is filled from its bar line to the next, a long note cut there.
    held = realize_solo(["C,3.000,<m3,m-3>"] * 40, progression, np.random.default_rng(1))
    assert [n.time for n in held] == [t for start, end in zip(bar_lines, bar_lines[1:])
                                      for t in range(start, end, 3 * TICKS_PER_QUARTER)]
    assert all(a.end == b.time for a, b in zip(held, held[1:])) and held[-1].end == bar_lines[-1]
    # A rest token is a gap of its length; a rest cut at a bar line does not delay the next bar.
    quarter = TICKS_PER_QUARTER
    rests = realize_solo(["C,1.000", "R,1.000", "C,1.500", "R,3.000", "S,1.000"],
                         parse_progression("C | C"), np.random.default_rng(0))
    assert [(n.time, n.duration) for n in rests] == [(0, quarter), (2 * quarter, 3 * quarter // 2),
                                                     (4 * quarter, quarter)]
    short = realize_solo(_tokens(12), progression, np.random.default_rng(1))
    assert short[-1].end <= bar_lines[-2]  # twelve tokens do not reach the last measure


def test_unparseable_tokens_are_skipped_and_solo_is_deterministic():
    progression = parse_progression("Dm7 G7 | Cmaj7")
    tokens = _tokens(40)
    noisy = []
    for token in tokens:
        noisy += [token, "<unknown>", "C,0.000", "garbage"]
    solo = realize_solo(tokens, progression, np.random.default_rng(5))
    assert realize_solo(noisy, progression, np.random.default_rng(5)) == solo
    assert realize_solo(iter(tokens), progression, np.random.default_rng(5)) == solo
    assert realize_solo(tokens, progression, np.random.default_rng(6)) != solo


def test_tokens_needed_fills_the_progression():
    progression = parse_progression(PROGRESSION)
    count = tokens_needed(progression, mean_duration=0.5)
    assert count >= 8 * 4 / 0.5
    solo = realize_solo(["C,0.500,<m3,m-3>"] * count, progression, np.random.default_rng(0))
    # No silence: the notes follow each other from the start to the last bar line.
    assert solo[0].time == 0 and all(a.end == b.time for a, b in zip(solo, solo[1:]))
    assert solo[-1].end == _bar_lines(progression)[-1]


def test_two_part_midi_reads_back(tmp_path):
    progression = parse_progression("Dm7 G7 | Cmaj7 | F/A Bb7 | C")
    solo = realize_solo(_tokens(60, shapes=SIXTEENTH_SHAPES), progression,
                        np.random.default_rng(2))
    path = tmp_path / "solo.mid"
    write_jazz_midi(solo, progression, str(path), tempo=96, solo_program=TENOR_SAX)
    score = music21.converter.parse(str(path))
    assert [p.partName for p in score.parts] == ["Solo", "Chords"]
    solo_part, chords_part = score.parts
    programs = [{i.midiProgram
                 for i in p.recurse().getElementsByClass(music21.instrument.Instrument)}
                for p in score.parts]
    assert programs == [{TENOR_SAX}, {0}]
    notes = solo
    heard = [(float(n.offset), n.pitch.midi) for n in solo_part.flatten().notes]
    assert heard == [(n.time / TICKS_PER_QUARTER, n.pitch) for n in notes]
    chords = list(chords_part.flatten().notes)
    assert [sorted(p.midi for p in c.pitches) for c in chords] == \
        [sorted(voicing(chord)) for measure in progression for chord, _ in measure]
    assert min(p.midi for p in chords[3].pitches) % 12 == 9  # F/A: A in the bass
    mark = score.recurse().getElementsByClass(music21.tempo.MetronomeMark).first()
    assert mark.number == 96

    # The measurement script reads the same file: the Solo is the melody, Chords the harmony.
    source = read_sources(str(path), flag="--midi")[0]
    assert source.melody_part == "Solo" and source.chord_parts == ["Chords"]
    figures = measure_solo(source)
    assert figures.notes == len(notes)
    assert sum(figures.class_shares.values()) == pytest.approx(1.0)
    assert sum(figures.intervals.values()) == len(notes) - 1
    expected = [classify(n.pitch, _chord_at(progression, n.time)) for n in notes]
    assert figures.class_shares["C"] == pytest.approx(expected.count("C") / len(notes))


def test_default_program_is_jazz_guitar(tmp_path):
    progression = parse_progression("C")
    path = tmp_path / "short.mid"
    write_jazz_midi(realize_solo(["C,1.000"] * 4, progression, np.random.default_rng(0)),
                    progression, str(path))
    part = music21.converter.parse(str(path)).parts[0]
    assert {i.midiProgram for i in part.recurse().getElementsByClass(
        music21.instrument.Instrument)} == {JAZZ_GUITAR}


def _by_beat(solo, progression):
    """The solo's velocities: on the downbeats, on the other beats, between the beats."""
    bar = int(4 * TICKS_PER_QUARTER)
    places = {"downbeat": [], "beat": [], "offbeat": []}
    for note in solo:
        within = note.time % bar
        place = ("downbeat" if within == 0 else "beat" if within % TICKS_PER_QUARTER == 0
                 else "offbeat")
        places[place].append(note.velocity)
    return {place: np.mean(velocities) for place, velocities in places.items()}


def test_a_solo_without_recorded_dynamics_is_accented_on_the_beat():
    progression = parse_progression(PROGRESSION)
    solo = realize_solo(["C,0.500,<m3,m-3>"] * 64, progression, np.random.default_rng(3))
    velocities = [n.velocity for n in solo]
    assert len(set(velocities)) >= 6 and 1 <= min(velocities) and max(velocities) <= 127
    loudness = _by_beat(solo, progression)
    assert loudness["downbeat"] > loudness["beat"] + 3 > loudness["offbeat"] + 6, loudness


def test_a_solo_carries_the_training_solos_dynamics():
    from lstm_core.music.jazz.dynamics import measure_dynamics

    # A training solo of eighths: loud on the beats (110), soft between them (60).
    training = [(Fraction(eighth, 2), 110 if eighth % 2 == 0 else 60 + eighth % 3)
                for _ in range(16) for eighth in range(8)]
    dynamics = measure_dynamics(training, Fraction(4))
    assert dynamics["source"] == "solo" and dynamics["by_position"][:2] == [110, 61]
    progression = parse_progression(PROGRESSION)
    solo = realize_solo(["C,0.500,<m3,m-3>"] * 64, progression, np.random.default_rng(3),
                        dynamics=dynamics)
    loudness = _by_beat(solo, progression)
    assert abs(loudness["downbeat"] - 110) < 3 and abs(loudness["offbeat"] - 61) < 3, loudness
    assert len({n.velocity for n in solo}) >= 3
    plain = realize_solo(["C,0.500,<m3,m-3>"] * 64, progression, np.random.default_rng(3))
    assert [n.pitch for n in plain] == [n.pitch for n in solo]  # dynamics leave pitches alone


def test_a_flat_training_solo_records_the_accent_model_around_its_level():
    from lstm_core.music.jazz.dynamics import ACCENT, OFFBEAT, measure_dynamics

    dynamics = measure_dynamics([(Fraction(e, 2), 90) for e in range(8)] * 4, Fraction(3))
    assert dynamics["source"] == "accents"
    assert dynamics["by_position"] == [90 + ACCENT, 90 + OFFBEAT, 90 + ACCENT / 2, 90 + OFFBEAT,
                                       90 + ACCENT / 2, 90 + OFFBEAT]
