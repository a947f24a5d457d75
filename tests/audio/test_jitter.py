from __future__ import annotations

import threading

import numpy as np
import pytest

from voiceagent.audio.jitter import PlaybackQueue


def ramp(n: int, start: int = 1) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.int16)


def read(q: PlaybackQueue, n: int = 4) -> tuple[np.ndarray, bool]:
    out = np.full(n, 99, dtype=np.int16)
    drained = q.read_into(out)
    return out, drained


def test_blocks_are_filled_in_order_across_items_and_counted_per_item() -> None:
    q = PlaybackQueue(max_frames=100)
    q.push("a", ramp(6))
    q.push("b", ramp(3, 100))
    out, drained = read(q)
    assert out.tolist() == [1, 2, 3, 4] and not drained
    out, drained = read(q)
    assert out.tolist() == [5, 6, 100, 101] and not drained
    out, drained = read(q)
    assert out.tolist() == [102, 0, 0, 0] and drained  # tail padded with silence
    assert (q.played_frames("a"), q.played_frames("b"), q.played_frames("c")) == (6, 3, 0)
    assert not q.is_playing and q.stats().underruns == 0


def test_prebuffer_waits_for_enough_audio_or_for_its_duration() -> None:
    q = PlaybackQueue(max_frames=100, prebuffer_frames=8)
    q.push("a", ramp(4))
    assert read(q)[0].tolist() == [0, 0, 0, 0]  # waiting: 4 < 8 queued
    q.push("a", ramp(4, 5))
    assert read(q)[0].tolist() == [1, 2, 3, 4]  # 8 queued: starts
    q.push("b", ramp(2, 50))
    out, _ = read(q)
    assert out.tolist() == [5, 6, 7, 8]
    out, drained = read(q)  # prebuffer applies again after draining: a short reply...
    assert out.tolist() == [50, 51, 0, 0] or out.tolist() == [0, 0, 0, 0]


def test_a_reply_shorter_than_the_prebuffer_still_plays() -> None:
    q = PlaybackQueue(max_frames=100, prebuffer_frames=8)
    q.push("a", ramp(3))
    assert read(q)[0].tolist() == [0, 0, 0, 0]
    assert read(q)[0].tolist() == [0, 0, 0, 0]
    out, drained = read(q)  # waited 8 frames of device time
    assert out.tolist() == [1, 2, 3, 0] and drained


def test_flush_drops_queue_and_fades_from_last_played_sample() -> None:
    q = PlaybackQueue(max_frames=100, fade_frames=4)
    q.push("a", np.full(12, 1000, dtype=np.int16))
    read(q)
    assert q.flush() == 8
    assert not q.is_playing
    out, drained = read(q, 8)
    assert out.tolist() == [1000, 750, 500, 250, 0, 0, 0, 0] and not drained
    assert read(q, 8)[0].tolist() == [0] * 8
    assert q.played_frames("a") == 4
    s = q.stats()
    assert (s.flushes, s.flushed_frames, s.queued_frames) == (1, 8, 0)
    q.push("b", ramp(2))  # audio after the flush plays normally
    assert read(q)[0].tolist() == [1, 2, 0, 0]


def test_flush_when_idle_needs_no_fade() -> None:
    q = PlaybackQueue(max_frames=100, fade_frames=4)
    assert q.flush() == 0
    assert read(q)[0].tolist() == [0, 0, 0, 0]
    assert q.stats().flushes == 0


def test_overrun_drops_newest_and_counts() -> None:
    q = PlaybackQueue(max_frames=5)
    assert q.push("a", ramp(4)) == 4
    assert q.push("a", ramp(4, 10)) == 1
    assert q.stats().overrun_frames == 3
    assert read(q, 8)[0].tolist() == [1, 2, 3, 4, 10, 0, 0, 0]


def test_underrun_is_more_audio_of_the_item_that_ran_dry() -> None:
    q = PlaybackQueue(max_frames=100)
    q.push("a", ramp(2))
    assert read(q)[1]  # drained mid-item (the network was late)
    q.push("a", ramp(2))
    q.push("a", ramp(2))
    assert q.stats().underruns == 1
    read(q)
    q.push("b", ramp(2))  # a new item after draining is a new turn, not an underrun
    assert q.stats().underruns == 1


def test_concurrent_reader_and_writer_lose_nothing() -> None:
    q = PlaybackQueue(max_frames=1_000_000)
    total = 20_000
    got: list[np.ndarray] = []

    def reader() -> None:
        while sum(len(g) for g in got) < total:
            out = np.zeros(480, dtype=np.int16)
            q.read_into(out)
            got.append(out[out != 0])

    t = threading.Thread(target=reader)
    t.start()
    for i in range(0, total, 100):
        q.push("a", (np.arange(i, i + 100) % 30000 + 1).astype(np.int16))
    t.join(10)
    assert np.array_equal(np.concatenate(got)[:total], np.arange(total) % 30000 + 1)
    assert q.played_frames("a") == total


def test_invalid_capacity() -> None:
    with pytest.raises(ValueError):
        PlaybackQueue(max_frames=0)
