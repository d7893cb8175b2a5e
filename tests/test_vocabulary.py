"""The vocabulary file: Unicode round trip, the legacy one-hot format, and its errors."""

import json

import numpy as np
import pytest

from lstm_core.errors import UsageError
from lstm_core.kinds import Family, TokenKind
from lstm_core.preprocessing import UNKNOWN_CHARACTER, Vocabulary, read_text_file

TEXT = "Ünïcödé\tlines\nand CJK 歌詞, emoji 🎵🎶, quotes \"'\r\n"


def test_build_orders_by_count_and_round_trips_unicode(tmp_path):
    vocabulary = Vocabulary.build(TEXT)
    assert vocabulary.tokens[0] == " "  # the most frequent character gets id 0
    assert set(vocabulary.tokens) == set(TEXT)
    ids = vocabulary.encode(TEXT)
    assert ids.dtype == np.uint8 and len(ids) == len(TEXT)
    assert vocabulary.decode(ids) == TEXT

    path = tmp_path / "text.vocab"
    vocabulary.save(str(path))
    loaded = Vocabulary.load(str(path))
    assert loaded == vocabulary and loaded.counts == vocabulary.counts
    assert loaded.kind is TokenKind.CHARACTERS
    assert '"kind": "characters"' in path.read_text(encoding="utf-8")  # readable by eye
    assert loaded.decode(loaded.encode(TEXT)) == TEXT


def test_music_tokens_and_metadata_round_trip(tmp_path):
    events = ["wait_12", "n60_d12", "n64_d12", "wait_12", "n60_d12"]
    vocabulary = Vocabulary.build(events, kind="remi", metadata={"tempo": 96, "grid": 12})
    vocabulary.save(str(tmp_path / "m.vocab"))
    loaded = Vocabulary.load(str(tmp_path / "m.vocab"))
    assert loaded.kind is TokenKind.REMI and loaded.metadata == {"tempo": 96, "grid": 12}
    assert loaded.decode(loaded.encode(events)) == events


def test_missing_characters_are_named_or_mapped_to_unknown():
    vocabulary = Vocabulary.build("abc")
    with pytest.raises(UsageError, match=r"lyrics.txt has 2 token\(s\).*'é', 'z'"):
        vocabulary.encode("abcééz", source="lyrics.txt")
    with_unknown = Vocabulary.build("abc", allow_unknown=True)
    assert with_unknown.decode(with_unknown.encode("abéz")) == "ab" + UNKNOWN_CHARACTER * 2


def test_large_vocabularies_use_wider_ids():
    assert Vocabulary.build([f"t{i}" for i in range(300)], kind="remi").id_dtype == np.uint16


def test_reads_the_legacy_one_hot_format_with_its_two_line_newline_entry(tmp_path):
    characters = ["\n", "a", "-", ">", " "]
    lines = []
    for index, character in enumerate(characters):
        vector = ",".join("1." if i == index else "0." for i in range(len(characters)))
        lines.append(f"{character}->{vector}")
    path = tmp_path / "legacy.vocab"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    vocabulary = Vocabulary.load(str(path))
    assert vocabulary.tokens == characters


def test_reads_the_original_lyrics_vocabulary(shared_data):
    vocabulary = Vocabulary.load(str(shared_data("text", "lyrics_data.vocab")))
    assert len(vocabulary) == 83 and "\n" in vocabulary.ids
    lyrics = shared_data("text", "lyrics_data.txt").read_text(encoding="utf-8")[:20000]
    assert vocabulary.decode(vocabulary.encode(lyrics)) == lyrics


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"), (b"ab\x00cd", "looks binary"), (b"caf\xe9", "is not UTF-8")])
def test_bad_training_files(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        read_text_file(str(path))
    with pytest.raises(UsageError, match="does not exist"):
        read_text_file(str(tmp_path / "missing.txt"))


def test_a_garbled_vocabulary_file_is_a_usage_error(tmp_path):
    path = tmp_path / "bad.vocab"
    path.write_text("this is not a vocabulary\n", encoding="utf-8")
    with pytest.raises(UsageError, match="bad.vocab"):
        Vocabulary.load(str(path))


def test_family_says_what_a_model_of_the_vocabulary_writes():
    from lstm_core.music.jazz import ENCODING

    assert Vocabulary(list("ab")).family is Family.TEXT
    assert Vocabulary(["Pitch_60", "Bar_None"], kind="remi").family is Family.MUSIC
    assert Vocabulary(["n60_12"], kind="notes").family is Family.MUSIC
    assert Vocabulary(["C,0.250"], kind=ENCODING).family is Family.JAZZ
    assert [kind for kind in TokenKind if kind.is_text] == [TokenKind.CHARACTERS]


def test_the_kind_is_written_as_its_name_and_an_unknown_kind_is_a_usage_error(tmp_path):
    path = tmp_path / "jazz.vocab"
    Vocabulary(["C,0.250"], kind="jazz").save(str(path))
    header = json.loads(path.read_text(encoding="utf-8"))
    assert header["kind"] == "jazz"  # a word in the file, not an enum
    assert Vocabulary.load(str(path)).kind is TokenKind.JAZZ
    header["kind"] = "events"  # an encoding no tokenizer reads
    path.write_text(json.dumps(header), encoding="utf-8")
    with pytest.raises(UsageError, match=r"jazz.vocab is not a valid vocabulary.*'events'"):
        Vocabulary.load(str(path))
