"""Realising tokens over a progression, the two-part MIDI file, and measuring it."""

from fractions import Fraction

import music21
import numpy as np
import pytest

from lstm_core.music.constants import JAZZ_GUITAR, TENOR_SAX
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


def _chord_at(progression, offset):
    start = Fraction(0)
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
    events = [e for measure in solo for e in measure]
    elements = [parse_token(t) for t in tokens][:len(events)]
    previous = None
    checked_bounds = 0
    for event, element in zip(events, elements):
        assert event.is_rest == element.is_rest
        if event.is_rest:
            continue
        chord = _chord_at(progression, event.offset)
        assert classify(event.pitch, chord) == _available(element.kind, chord)
        assert PITCH_RANGE[0] <= event.pitch <= PITCH_RANGE[1]
        if previous is not None:
            assert abs(event.pitch - previous.pitch) <= MAX_LEAP
            if event.offset - previous.offset < MIN_REPEAT_DISTANCE:
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


def test_measures_are_filled_exactly():
    progression = parse_progression(PROGRESSION)
    # Long notes overrun bar lines and are cut; a short token list runs out and leaves rests.
    for tokens in (_tokens(300, seed=3), ["C,3.000,<m3,m-3>"] * 40, _tokens(12)):
        solo = realize_solo(tokens, progression, np.random.default_rng(1))
        assert len(solo) == len(progression)
        start = Fraction(0)
        for measure, events in zip(progression, solo):
            length = sum(b for _, b in measure)
            assert events[0].offset == start
            assert all(a.end == b.offset for a, b in zip(events, events[1:]))
            assert sum(e.duration for e in events) == length and all(e.duration > 0 for e in events)
            start += length
    assert all(e.is_rest for e in solo[-1])  # twelve tokens do not reach the last measure


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
    assert not any(e.is_rest for measure in solo for e in measure)


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
    notes = [e for measure in solo for e in measure if not e.is_rest]
    heard = [(float(n.offset), n.pitch.midi) for n in solo_part.flatten().notes]
    assert heard == [(float(n.offset), n.pitch) for n in notes]
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
    expected = [classify(n.pitch, _chord_at(progression, n.offset)) for n in notes]
    assert figures.class_shares["C"] == pytest.approx(expected.count("C") / len(notes))


def test_default_program_is_jazz_guitar(tmp_path):
    progression = parse_progression("C")
    path = tmp_path / "short.mid"
    write_jazz_midi(realize_solo(["C,1.000"] * 4, progression, np.random.default_rng(0)),
                    progression, str(path))
    part = music21.converter.parse(str(path)).parts[0]
    assert {i.midiProgram for i in part.recurse().getElementsByClass(
        music21.instrument.Instrument)} == {JAZZ_GUITAR}
