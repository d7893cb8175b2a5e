"""A text corpus encoded in chunks and cached: the same ids and vocabulary as encoding the whole
text at once, a cache that is reused, and rebuilt (with a message) when it is stale."""

import os

import numpy as np
import pytest

from lstm_core import encoded_text
from lstm_core.batch import Batch
from lstm_core.corpus import load_corpus, vocabulary_and_ids
from lstm_core.errors import UsageError
from lstm_core.preprocessing import UNKNOWN_CHARACTER, Vocabulary

# Multi-byte characters (2, 3 and 4 bytes) that small chunks cut in the middle.
TEXT = "Grüße, ça va? — «ok» 🎵 naïve\nthe end.\n" * 40


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(encoded_text, "CHUNK_BYTES", 7)


def write(path, text):
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def test_chunked_vocabulary_and_ids_equal_those_of_the_whole_text(tmp_path):
    corpus = load_corpus(write(tmp_path / "t.txt", TEXT))
    vocabulary, ids, digest = vocabulary_and_ids(corpus, str(tmp_path / "t.vocab"))
    expected = Vocabulary.build(TEXT)
    assert vocabulary == expected and vocabulary.counts == expected.counts
    assert isinstance(ids, np.memmap) and ids.dtype == expected.id_dtype
    np.testing.assert_array_equal(ids, expected.encode(TEXT))
    assert os.path.exists(tmp_path / "t.vocab.ids") and len(digest) == 64


def test_the_cache_is_reused_and_rebuilt_when_stale(tmp_path):
    path = write(tmp_path / "t.txt", TEXT)
    vocabulary, digest = encoded_text.build_vocabulary(path)
    cache, lines = tmp_path / "t.vocab.ids", []

    def encoded(vocabulary, digest):
        return encoded_text.encoded_ids(path, vocabulary, str(tmp_path / "t.vocab"), digest,
                                        lines.append)

    first = np.array(encoded(vocabulary, digest))
    stamp = os.stat(cache).st_mtime_ns
    encoded(vocabulary, digest)
    assert os.stat(cache).st_mtime_ns == stamp and lines == []

    with open(cache, "r+b") as f:  # truncated
        f.truncate(os.path.getsize(cache) - 3)
    again = encoded(vocabulary, digest)
    assert "is truncated" in lines.pop()
    np.testing.assert_array_equal(again, first)

    other = Vocabulary(list(reversed(vocabulary.tokens)))  # another vocabulary, same tokens
    recoded = encoded(other, digest)
    assert "another vocabulary" in lines.pop()
    np.testing.assert_array_equal(recoded, other.encode(TEXT))

    changed = TEXT.replace("end", "den")
    write(tmp_path / "t.txt", changed)
    digest = encoded_text.corpus_digest(path)
    fresh = encoded(other, digest)
    assert "another version of the corpus" in lines.pop()
    np.testing.assert_array_equal(fresh, other.encode(changed))


def test_characters_the_vocabulary_lacks_are_named_or_mapped_to_the_unknown_token(tmp_path):
    path = write(tmp_path / "t.txt", TEXT + "§")
    vocabulary = Vocabulary.build(TEXT)
    digest = encoded_text.corpus_digest(path)
    with pytest.raises(UsageError, match="1 character\\(s\\) that the vocabulary lacks: '§'"):
        encoded_text.encoded_ids(path, vocabulary, str(tmp_path / "a.vocab"), digest)
    assert not os.path.exists(tmp_path / "a.vocab.ids")  # no half-written cache
    with_unknown = Vocabulary.build(TEXT, allow_unknown=True)
    ids = encoded_text.encoded_ids(path, with_unknown, str(tmp_path / "b.vocab"), digest)
    assert ids[-1] == with_unknown.ids[UNKNOWN_CHARACTER]


def test_a_bad_byte_in_a_later_chunk_is_named_with_its_offset(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(TEXT.encode("utf-8")[:50] + b"\xff" + b"rest")
    with pytest.raises(UsageError, match="is not UTF-8 \\(byte 50: b'\\\\xff'\\)"):
        encoded_text.build_vocabulary(str(path))


def test_batches_of_a_memory_map_equal_those_of_the_array(tmp_path):
    path = write(tmp_path / "t.txt", TEXT * 3)
    vocabulary, ids, _ = vocabulary_and_ids(load_corpus(path), str(tmp_path / "t.vocab"))
    for shuffle in (False, True):
        mapped = Batch(ids, 4, 9, shuffle=shuffle, seed=2)
        loaded = Batch(np.array(ids), 4, 9, shuffle=shuffle, seed=2)
        for (a, b), (c, d) in zip(mapped.dataset(1, 2), loaded.dataset(1, 2)):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)


def test_each_worker_reads_its_rows_of_every_batch():
    ids = np.arange(3000, dtype=np.uint16)
    for shuffle in (False, True):
        batch = Batch(ids, 6, 5, shuffle=shuffle, seed=1)
        whole = list(batch.dataset(0, 3))
        halves = [list(batch.dataset(0, 3, rows=slice(0, 3))),
                  list(batch.dataset(0, 3, rows=slice(3, 6)))]
        for k, (inputs, targets) in enumerate(whole):
            np.testing.assert_array_equal(
                np.concatenate([halves[0][k][0], halves[1][k][0]]), inputs)
            np.testing.assert_array_equal(
                np.concatenate([halves[0][k][1], halves[1][k][1]]), targets)
