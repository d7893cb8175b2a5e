"""Music corpora: sources, bad files, the cache, instrument selection, token files, primers."""

import json
import time
from pathlib import Path

import numpy as np
import pytest

import midi_files
from lstm_core.errors import UsageError
from lstm_core.music import BOUNDARY, corpus, encode_midi_file, is_music_source, load_corpus
from lstm_core.music import playable, random_excerpt, random_excerpts, tokenizer
from lstm_core.music.constants import DEFAULT_SOURCE, DRUMS, SCORE_SUFFIXES, programs_named
from lstm_core.music.prepare import prepare
from lstm_core.preprocessing import Vocabulary
from lstm_core.progress import Terminal


def piano_tokens(piece):
    return tokenizer.encode(piece, tokenizer.build())


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    """Two good MIDI files (one in a subfolder) among six bad ones."""
    folder = tmp_path / "songs"
    good = midi_files.write(folder / "good.mid", midi_files.piano())
    midi_files.write(folder / "more" / "also good.MID",
                     midi_files.score(midi_files.track([72, 74]), tempos=(90.0,)))
    (folder / "empty.mid").write_bytes(b"")
    (folder / "notes.mid").write_text("these are not notes\n")
    (folder / "truncated.mid").write_bytes(good.read_bytes()[:30])
    (folder / "noise.mid").write_bytes(b"MThd" + bytes(range(256)) * 4)
    midi_files.write(folder / "silent.mid", midi_files.score(midi_files.track([])))
    (folder / "readme.txt").write_text("not a score, and not .mid: ignored\n")
    return folder


def warnings_of(err: str) -> dict:
    return {Path(line.split(": ", 2)[1]).name: line.split(": ", 2)[2]
            for line in err.splitlines() if line.startswith("warning: skipping")}


def test_bad_files_are_skipped_with_one_line_each(messy_folder, tmp_path, capsys):
    tokens, metadata = load_corpus(str(messy_folder), cache_dir=str(tmp_path / "cache"),
                                   report=Terminal().report)
    out, err = capsys.readouterr()
    warnings = warnings_of(err)
    assert warnings.pop("noise.mid").startswith("it ")
    assert warnings == {
        "empty.mid": "it is empty (0 bytes)",
        "notes.mid": "it is not a MIDI file (it does not start with MThd)",
        "truncated.mid": "it is truncated (its chunks need 92 bytes, it has 30)",
        "silent.mid": "it has no notes"}
    assert len(err.splitlines()) == 5 and "Traceback" not in err
    assert "2 file(s) used, 5 skipped" in out
    good = piano_tokens(midi_files.piano())
    assert tokens[:len(good) + 2] == [BOUNDARY] + good + [BOUNDARY]
    assert tokens[-1] == BOUNDARY and tokens.count(BOUNDARY) == 3
    assert metadata["encoding"] == "remi" and metadata["pieces"] == 2
    assert metadata["instruments"] == "all"
    assert type(tokenizer.from_metadata(metadata)).__name__ == "REMI"


def test_drums_only_files_are_skipped_unless_drums_are_asked_for(tmp_path, capsys):
    midi_files.write(tmp_path / "kit.mid", midi_files.score(midi_files.track([36, 38],
                                                                            drums=True)))
    midi_files.write(tmp_path / "piano.mid", midi_files.piano())
    cache = str(tmp_path / "cache")
    tokens, _ = load_corpus(str(tmp_path), programs=programs_named("piano"), cache_dir=cache,
                            report=Terminal().report)
    assert warnings_of(capsys.readouterr().err) == {
        "kit.mid": "it has only drum notes, and --instruments does not ask for drums"}
    assert "Program_-1" not in tokens
    tokens, metadata = load_corpus(str(tmp_path), cache_dir=cache)
    assert "Program_-1" in tokens and "Program_0" in tokens
    tokens, metadata = load_corpus(str(tmp_path), programs=programs_named("drums"),
                                   cache_dir=cache)
    assert metadata["instruments"] == [DRUMS] and "Program_0" not in tokens


def test_nothing_usable_is_a_usage_error(tmp_path):
    (tmp_path / "text.txt").write_text("hello\n")
    with pytest.raises(UsageError, match="folder with no score files"):
        load_corpus(str(tmp_path), cache_dir=str(tmp_path / "cache"))
    (tmp_path / "broken.mid").write_bytes(b"MThd\x00")
    (tmp_path / "empty.mid").write_bytes(b"")
    with pytest.raises(UsageError, match="none of its 2 file"):
        load_corpus(str(tmp_path), cache_dir=str(tmp_path / "cache"))
    midi_files.write(tmp_path / "band.mid", midi_files.band())
    with pytest.raises(UsageError, match="the instruments --instruments names"):
        load_corpus(str(tmp_path), programs=programs_named("violin"),
                    cache_dir=str(tmp_path / "cache"))
    with pytest.raises(UsageError, match="matches no file"):
        load_corpus(str(tmp_path / "*.midi"), cache_dir=str(tmp_path / "cache"))


def test_second_load_reads_the_cache_instead_of_parsing(messy_folder, tmp_path):
    cache = tmp_path / "cache"
    first, _ = load_corpus(str(messy_folder), cache_dir=str(cache))
    entries = sorted(cache.glob("*.json"))
    assert len(entries) == 7  # every score file, the skipped ones included
    # Edit the cached tokens of good.mid: a second load that re-parsed would not see the edit.
    good = piano_tokens(midi_files.piano())
    for entry in entries:
        result = json.loads(entry.read_text())
        if result.get("tokens") == good:
            entry.write_text(json.dumps(dict(result, tokens=["Bar_None"])))
    second, _ = load_corpus(str(messy_folder), cache_dir=str(cache))
    assert second == [BOUNDARY, "Bar_None"] + first[len(good) + 1:]
    load_corpus(str(messy_folder), encoding="tsd", cache_dir=str(cache))
    assert len(list(cache.glob("*.json"))) == 14  # another tokenizer, other cache entries
    load_corpus(str(messy_folder), programs=programs_named("piano"), cache_dir=str(cache))
    assert len(list(cache.glob("*.json"))) == 21  # other instruments, other entries


def test_a_cached_folder_of_a_hundred_files_parses_no_file_again(tmp_path, monkeypatch):
    for n in range(100):
        midi_files.write(tmp_path / "songs" / f"{n}.mid", midi_files.score(
            midi_files.track([60 + n % 12, 64, 67])))
    cache = str(tmp_path / "cache")
    first, _ = load_corpus(str(tmp_path / "songs"), cache_dir=cache)
    entries = {p.name: p.stat().st_ino for p in Path(cache).iterdir()}

    def no_parsing(*args, **kwargs):
        raise AssertionError("a file of the cached folder was parsed again")

    monkeypatch.setattr(corpus, "parse_file", no_parsing)
    monkeypatch.setattr(corpus.concurrent.futures, "ProcessPoolExecutor", no_parsing)
    start = time.perf_counter()
    tokens, metadata = load_corpus(str(tmp_path / "songs"), cache_dir=cache)
    seconds = time.perf_counter() - start
    assert metadata["pieces"] == 100 and tokens == first
    # A file parsed again would have its cache entry written anew (a new file renamed over it).
    assert {p.name: p.stat().st_ino for p in Path(cache).iterdir()} == entries
    print(f"cached 100-file folder: {seconds:.3f} s")  # measured, not asserted (shared CPUs)


def test_bpe_vocabulary_learns_merges_on_the_corpus_and_caches_them(tmp_path):
    for n in range(4):
        midi_files.write(tmp_path / "songs" / f"{n}.mid", midi_files.band())
    cache = str(tmp_path / "cache")
    plain, _ = load_corpus(str(tmp_path / "songs"), cache_dir=cache)
    lines = []
    merged, metadata = load_corpus(str(tmp_path / "songs"), cache_dir=cache, bpe_vocabulary=1000,
                                   report=lines.append)
    assert "learning a BPE of 1000 tokens on 4 file(s)" in lines
    assert len(merged) < len(plain)
    assert any(tokenizer.BPE_JOINER in t for t in merged)
    assert "_model" in metadata["tokenizer"]  # the learned merges travel with the vocabulary
    lines.clear()
    again, _ = load_corpus(str(tmp_path / "songs"), cache_dir=cache, bpe_vocabulary=1000,
                           report=lines.append)
    assert again == merged and not any("learning a BPE" in line for line in lines)
    with pytest.raises(UsageError, match="--bpe_vocabulary 100 is not more than the 8"):
        load_corpus(str(tmp_path / "songs"), cache_dir=cache, bpe_vocabulary=100)
    with pytest.raises(UsageError, match="--bpe_vocabulary needs a MidiTok encoding"):
        load_corpus(str(tmp_path / "songs"), "notes", cache_dir=cache, bpe_vocabulary=1000)


def test_prepare_writes_a_token_file_that_loads_back(messy_folder, tmp_path):
    tokens_path, vocabulary_path = tmp_path / "songs.tokens", tmp_path / "songs.vocab"
    vocabulary = prepare(str(messy_folder), str(tokens_path), str(vocabulary_path), "remi",
                         "all", str(tmp_path / "cache"))
    assert tokens_path.read_text().splitlines()[1:3] == [
        f"# {messy_folder / 'good.mid'}", " ".join(piano_tokens(midi_files.piano()))]
    assert is_music_source(str(tokens_path))
    tokens, metadata = load_corpus(str(tokens_path), encoding="notes")  # the file's encoding wins
    assert tokens == load_corpus(str(messy_folder), cache_dir=str(tmp_path / "cache"))[0]
    assert metadata["encoding"] == "remi"
    assert Vocabulary.load(str(vocabulary_path)) == vocabulary
    assert vocabulary.kind == "remi" and vocabulary.metadata == metadata
    assert set(vocabulary.tokens) == set(tokens)


def test_a_token_file_of_another_version_is_a_usage_error(tmp_path):
    old = tmp_path / "old.tokens"
    old.write_text('#lstm-core music tokens v1 {"encoding": "events"}\n# a.mid\nn60_d12\n')
    with pytest.raises(UsageError, match="write it again"):
        load_corpus(str(old))


def test_is_music_source(messy_folder, tmp_path):
    text = tmp_path / "lyrics.txt"
    text.write_text("la la la\n")
    (tmp_path / "empty").mkdir()
    exported = tmp_path / "exported.txt"  # MusicXML by content, whatever the suffix
    exported.write_text('<?xml version="1.0"?>\n<score-partwise version="3.1">\n')
    assert is_music_source(str(messy_folder / "good.mid"))
    assert is_music_source(str(messy_folder))
    assert is_music_source(str(messy_folder / "**" / "*.mid"))
    assert is_music_source("music21:bach")
    assert is_music_source(str(exported))
    assert is_music_source(str(tmp_path / "song.mxl")) is False  # absent: no glob either
    assert not is_music_source(str(text))
    assert not is_music_source(str(tmp_path / "empty"))
    assert not is_music_source(str(tmp_path / "missing.txt"))


def test_music21_sources_convert_once_into_scores(tmp_path):
    files = corpus.source_files(DEFAULT_SOURCE)
    assert len(files) > 300
    assert {f.suffix for f in files} <= set(SCORE_SUFFIXES)
    chorale = next(f for f in files if f.name == "bwv66.6.mxl")
    metadata = tokenizer.metadata_of(tokenizer.build())
    cache = tmp_path / "cache"
    result = corpus.parse_file(str(chorale), metadata, None, str(cache))
    assert result["tokens"][:3] == ["Bar_None", "TimeSig_4/4", "Position_0"]
    assert len({t for t in result["tokens"] if t.startswith("Pitch_")}) > 10
    assert len(list(cache.glob("*.mid"))) == 1  # music21's conversion, kept
    assert corpus.parse_file(str(chorale), metadata, None, str(cache)) == result
    assert len(corpus.source_files("music21:leadSheet")) >= 1
    with pytest.raises(UsageError, match="no composer"):
        corpus.source_files("music21:nobody")


def test_primers_start_at_a_bar_or_a_piece(messy_folder, tmp_path):
    metadata = tokenizer.metadata_of(tokenizer.build())
    assert encode_midi_file(str(messy_folder / "good.mid"), metadata) == [
        BOUNDARY] + piano_tokens(midi_files.piano())
    drums_only = {**metadata, "instruments": [0]}
    midi_files.write(tmp_path / "kit.mid", midi_files.score(midi_files.track([36], drums=True)))
    for bad, message, meta in [("missing.mid", "does not exist", metadata),
                               (tmp_path / "kit.mid", "only drum notes", drums_only),
                               ("notes.mid", "not a MIDI file", metadata)]:
        path = messy_folder / bad
        with pytest.raises(UsageError, match=f"--primer_midi .*{Path(bad).name}.*{message}"):
            encode_midi_file(str(path), meta)
    tokens = load_corpus(str(messy_folder), cache_dir=str(tmp_path / "cache"))[0] * 5
    rng = np.random.default_rng(0)
    for _ in range(50):
        excerpt = random_excerpt(tokens, 5, rng)
        assert len(excerpt) == 5 and excerpt[0] in (BOUNDARY, "Bar_None")
    assert random_excerpt(tokens[:3], 10, rng) == tokens[:3]
    # Several at once: one rng.choice among the starts per excerpt, as one call each drew them.
    rng = np.random.default_rng(3)
    expected = [random_excerpt(tokens, 6, rng) for _ in range(20)]
    assert random_excerpts(tokens, 6, 20, np.random.default_rng(3)) == expected
    assert len({tuple(e) for e in expected}) > 1


@pytest.mark.parametrize("encoding", ["tsd", "midilike"])
def test_primers_in_encodings_without_bars_start_after_a_time_shift(encoding):
    from lstm_core.music.primer import boundaries

    tokens = [BOUNDARY] + tokenizer.encode(midi_files.band(), tokenizer.build(encoding))
    starts = boundaries(tokens)
    assert len(starts) > 4
    assert all(i == 0 or tokens[i - 1].startswith("TimeShift_") for i in starts)
    allowed = [tokens[i:i + 4] for i in starts]
    assert all(e in allowed for e in random_excerpts(tokens, 4, 30, np.random.default_rng(0)))


def test_parsed_files_are_cached_as_they_arrive(tmp_path, monkeypatch):
    # A run that stops halfway (here Ctrl-C on the second file) keeps the results that arrived
    # before, so the next run parses less.
    from lstm_core.music import scores

    first = midi_files.write(tmp_path / "a.mid", midi_files.piano())
    second = midi_files.write(tmp_path / "b.mid", midi_files.band())
    read = scores.read_score

    def interrupted(path, cache_dir=None):
        if Path(path) == second:
            raise KeyboardInterrupt
        return read(path, cache_dir)

    monkeypatch.setattr(scores, "read_score", interrupted)
    cache = tmp_path / "cache"
    metadata = tokenizer.metadata_of(tokenizer.build())
    with pytest.raises(KeyboardInterrupt):
        corpus.parse_files([first, second], metadata, None, str(cache))
    [entry] = cache.iterdir()
    assert json.loads(entry.read_text()) == {
        "tokens": piano_tokens(midi_files.piano()),
        "parts": playable.to_json(playable.measure(midi_files.piano()))}
    with pytest.raises(UsageError, match="no tokenizer"):
        corpus.parse_files([first], {"encoding": "unknown"}, None, str(cache))
