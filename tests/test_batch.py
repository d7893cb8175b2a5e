"""Batching: targets are the inputs shifted by one; streams are contiguous across batches."""

import numpy as np
import pytest

from lstm_core.batch import Batch, split_validation
from lstm_core.errors import UsageError


def collect(batch, epoch=0, start=0):
    return [(x.numpy(), y.numpy()) for x, y in batch.dataset(epoch, start)]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_targets_are_inputs_shifted_and_streams_are_contiguous(dtype):
    ids = (np.arange(1000) % 251).astype(dtype)
    batch = Batch(ids, batch_size=4, sequence_length=10)
    batches = collect(batch)
    assert len(batches) == batch.num_batches == (1000 // 4 - 1) // 10
    for inputs, targets in batches:
        assert inputs.shape == targets.shape == (4, 10) and inputs.dtype == np.int32
        np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    # Each row, read across the batches, is one unbroken stretch of the corpus.
    stream_length = 1000 // 4
    for row in range(4):
        stream = np.concatenate([inputs[row] for inputs, _ in batches])
        expected = ids[row * stream_length: row * stream_length + len(stream)]
        np.testing.assert_array_equal(stream, expected)
    for (_, targets), (next_inputs, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(targets[:, -1], next_inputs[:, 0])


def test_start_skips_batches_already_seen():
    batch = Batch(np.arange(500, dtype=np.uint16), batch_size=2, sequence_length=7)
    everything, rest = collect(batch), collect(batch, start=3)
    assert len(rest) == len(everything) - 3
    np.testing.assert_array_equal(rest[0][0], everything[3][0])
    for (inputs, targets), (expected_inputs, expected_targets) in zip(rest, everything[3:]):
        np.testing.assert_array_equal(inputs, expected_inputs)
        np.testing.assert_array_equal(targets, expected_targets)


def test_shuffled_windows_cover_the_corpus_in_a_new_order_each_epoch():
    ids = np.arange(2001, dtype=np.uint16)
    batch = Batch(ids, batch_size=5, sequence_length=10, shuffle=True, seed=7)
    first, second = collect(batch, epoch=0), collect(batch, epoch=1)
    starts = sorted(int(row[0]) for inputs, _ in first for row in inputs)
    assert starts == list(range(0, 2000, 10))  # every window once
    for inputs, targets in first:
        np.testing.assert_array_equal(inputs + 1, targets)  # ids are consecutive numbers
    assert not np.array_equal(first[0][0], second[0][0])
    np.testing.assert_array_equal(collect(batch, epoch=0)[0][0], first[0][0])  # reproducible


def test_validation_split_holds_out_the_end():
    train, validation = split_validation(np.arange(100), 0.05)
    np.testing.assert_array_equal(validation, [95, 96, 97, 98, 99])
    assert len(train) == 95


def test_sequence_longer_than_corpus_is_a_usage_error():
    with pytest.raises(UsageError, match="--sequence_length 50 is too long for tiny.txt"):
        Batch(np.arange(100, dtype=np.uint8), batch_size=4, sequence_length=50, source="tiny.txt")


@pytest.mark.parametrize("shuffle", [False, True])
def test_a_sample_reads_the_same_bounded_batches_spread_over_the_split(tmp_path, shuffle):
    path = tmp_path / "ids"
    np.arange(100_000, dtype=np.uint32).tofile(path)
    ids = np.memmap(path, np.uint32, "r")  # a memory-mapped split, as a large corpus gives
    batch = Batch(ids, batch_size=4, sequence_length=10, shuffle=shuffle, seed=7)
    sample = batch.sample(tokens=1000, seed=5)
    batches = collect(sample)
    assert len(batches) == sample.num_batches == 25  # 1000 tokens: 25 batches of 4 x 10
    assert [b[0].tolist() for b in collect(batch.sample(1000, seed=5))] == [
        b[0].tolist() for b in batches]  # the same windows every time
    assert collect(batch.sample(1000, seed=6))[0][0].tolist() != batches[0][0].tolist()
    starts = np.concatenate([inputs[:, 0] for inputs, _ in batches])
    # Spread over the whole split: a window in each quarter.
    assert set(starts // 25_000) == {0, 1, 2, 3}
    if not shuffle:  # each stream is one unbroken window, a view of the mapped ids
        assert np.shares_memory(sample.streams, ids)
        for row in range(4):
            stream = np.concatenate([inputs[row] for inputs, _ in batches])
            np.testing.assert_array_equal(np.diff(stream), 1)
    assert batch.sample(tokens=10, seed=5).num_batches == 1  # at least one batch
    assert batch.sample(tokens=10 ** 9) is batch  # a split shorter than the bound: all of it


def test_a_corpus_too_short_for_the_batch_trains_on_fewer_streams():
    from lstm_core.batch import fitting_batch_size

    # 251 tokens, as one jazz song gives: 7 streams of 33 fit where 8 were asked for.
    assert fitting_batch_size(251, 8, 32) == 7
    assert fitting_batch_size(10_000, 8, 32) == 8
    assert fitting_batch_size(10_000, 7, 32, multiple=2) == 7  # uneven: the trainer says so
    assert fitting_batch_size(251, 8, 32, multiple=2) == 6  # split evenly over two replicas
    assert fitting_batch_size(251, 8, 32, shuffle=True) == 7  # (251 - 1) // 32 windows
    Batch(np.arange(251), fitting_batch_size(251, 8, 32), 32)  # the shape it gives makes a batch


def test_a_corpus_too_short_for_one_sequence_says_how_many_more_tokens_it_needs():
    from lstm_core.batch import fitting_batch_size

    with pytest.raises(UsageError, match=r"--sequence_length 32 is too long for solo.mid: its 20 "
                                         r"training tokens .* give 13 more tokens"):
        fitting_batch_size(20, 8, 32, source="solo.mid")
    with pytest.raises(UsageError, match="2 streams of 33 tokens; give 46 more"):
        fitting_batch_size(20, 8, 32, multiple=2, source="solo.mid")
