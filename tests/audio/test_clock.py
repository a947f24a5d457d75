"""The paced output every virtual device and bridge shares: what it counts as played, and when."""

from __future__ import annotations

import time

import pytest

from voiceagent.audio.clock import BlockClock, PacedOutput, silence
from voiceagent.audio.format import AudioFormat

PCM = AudioFormat(24000, 480)  # 20 ms blocks, 960 bytes
ULAW = AudioFormat.native("g711_ulaw", 8000)  # 20 ms blocks, 160 bytes


def test_one_block_per_tick_counted_per_item_then_idle() -> None:
    out = PacedOutput(PCM)
    out.push("a", b"\x01\x00" * 700)  # 1.46 blocks
    out.push("b", b"\x02\x00" * 300)
    assert out.played_frames("a") == 0 and out.is_playing  # queued is not played
    first = out.tick()
    assert out.played_frames("a") == 480 and out.played_frames("b") == 0
    assert first.data == b"\x01\x00" * 480 and first.segments == (("a", 0, 960),)
    assert not first.drained
    second = out.tick()  # the rest of a, then b: one block, two items
    assert second.segments == (("a", 0, 440), ("b", 440, 960))
    assert out.played_frames("a") == 700 and out.played_frames("b") == 260
    third = out.tick()  # the end of b, padded with silence: a block is a block
    assert third.data == b"\x02\x00" * 40 + bytes(880)
    assert third.drained and not out.is_playing  # on_playback_idle now
    assert out.played_frames("b") == 300
    idle = out.tick()
    assert idle.data == b"" and not idle.drained  # idle ticks are silent and notify nothing


def test_flush_drops_what_is_queued_and_keeps_the_counts() -> None:
    out = PacedOutput(PCM)
    out.push("a", b"\x05\x00" * 4800)
    out.tick()
    out.tick()
    assert out.flush() == 4800 - 960
    assert out.played_frames("a") == 960 and not out.is_playing
    for _ in range(5):
        assert out.tick().data == b""  # nothing queued before the flush ever plays after it
    assert out.played_frames("a") == 960
    assert out.stats().flushes == 1 and out.stats().flushed_frames == 3840


def test_flush_fades_pcm16_from_the_last_sample_instead_of_clicking() -> None:
    out = PacedOutput(PCM, fade_ms=4.0)  # 96 frames
    out.push("a", (1000).to_bytes(2, "little", signed=True) * 2000)
    out.tick()
    out.flush()
    out.push("b", b"\x07\x00" * 480)
    fade = out.tick()
    samples = [
        int.from_bytes(fade.data[i : i + 2], "little", signed=True) for i in range(0, 960, 2)
    ]
    assert samples[0] == 1000 and all(0 <= s <= 1000 for s in samples[:96])
    assert samples[95] < 50 and not any(samples[96:])
    assert fade.segments == () and out.played_frames("b") == 0  # the fade block plays nothing
    assert out.tick().segments == (("b", 0, 960),)


def test_pause_keeps_the_queue_and_counts_nothing_until_resume() -> None:
    out = PacedOutput(PCM)
    out.push("a", b"\x01\x00" * 480 * 3)
    out.tick()
    assert out.pause() and not out.pause()  # pausing twice changes nothing
    for _ in range(4):
        assert out.tick().data == b""
    assert out.played_frames("a") == 480 and out.queued_frames == 960  # nothing dropped
    assert out.resume()
    assert out.tick().segments == (("a", 0, 960),) and out.played_frames("a") == 960
    assert not PacedOutput(PCM).pause()  # nothing queued: nothing to pause


def test_g711_counts_one_byte_per_frame_and_pads_with_its_own_silence() -> None:
    out = PacedOutput(ULAW)
    assert silence(ULAW, 2) == b"\xff\xff" and out.silence_block == b"\xff" * 160
    out.push("a", b"\x10" * 200)
    out.tick()
    last = out.tick()
    assert out.played_frames("a") == 200  # frames, not bytes / 2
    assert last.data == b"\x10" * 40 + b"\xff" * 120 and last.drained


def test_a_lead_counts_a_block_only_once_the_peer_has_played_it() -> None:
    out = PacedOutput(PCM, lead_blocks=2)
    out.push("a", b"\x01\x00" * 480 * 5)
    first = out.tick()
    assert len(first.data) == 3 * 960  # fills the peer's buffer: the playing block + 2 ahead
    assert out.played_frames("a") == 480  # only the block the peer played during this tick
    assert len(out.tick().data) == 960 and out.played_frames("a") == 960
    assert len(out.tick().data) == 960 and out.played_frames("a") == 1440
    # everything is sent, but the peer still has two blocks to play: not heard yet
    assert out.queued_frames == 0 and out.is_playing and out.stats().in_flight_frames == 960
    assert not out.tick().drained and out.played_frames("a") == 1920
    end = out.tick()
    assert end.data == b"" and end.drained and out.played_frames("a") == 2400


def test_flush_with_a_lead_never_counts_what_the_peer_was_told_to_drop() -> None:
    out = PacedOutput(PCM, lead_blocks=3)
    out.push("a", b"\x01\x00" * 480 * 10)
    out.tick()  # 4 blocks sent, 1 played
    out.tick()  # 5 sent, 2 played
    out.flush()  # the bridge tells the peer to clear its buffer
    for _ in range(5):
        out.tick()
    assert out.played_frames("a") == 960  # sent was 2400: never "heard everything"
    assert not out.is_playing


def test_prebuffer_waits_for_audio_or_for_time() -> None:
    out = PacedOutput(PCM, prebuffer_ms=60)  # 3 blocks
    out.push("a", b"\x01\x00" * 480)  # a short reply: one block
    assert [out.tick().data for _ in range(3)] == [b"", b"", b""]
    assert out.tick().segments == (("a", 0, 960),)  # it waited long enough: it plays


def test_underrun_is_counted_when_an_item_resumes_after_running_dry() -> None:
    out = PacedOutput(PCM)
    out.push("a", b"\x01\x00" * 480)
    assert out.tick().drained
    out.push("a", b"\x01\x00" * 480)  # more of the same item: the device ran dry mid-item
    out.tick()
    assert out.stats().underruns == 1


def test_max_frames_drops_the_newest_audio_and_counts_it() -> None:
    out = PacedOutput(PCM, max_frames=1000)
    assert out.push("a", b"\x01\x00" * 800) == 800
    assert out.push("a", b"\x01\x00" * 800) == 200
    assert out.stats().overrun_frames == 600 and out.queued_frames == 1000


def _stall(seconds: float) -> None:
    """Block the event loop, as a busy loop would (the clock must then catch up, or drop time)."""
    time.sleep(seconds)


async def test_block_clock_catches_up_after_a_stall_then_drops_time() -> None:
    bounded = BlockClock(0.02, speed=20.0, max_catch_up=3)  # 1 ms per tick
    full = BlockClock(0.02, speed=20.0, max_catch_up=None)
    for clock in (bounded, full):
        for _ in range(3):
            assert await clock.due() >= 1
    _stall(0.05)  # 50 ticks' worth
    assert await bounded.due() == 3  # caught up max_catch_up ticks, dropped the rest
    assert await full.due() >= 25  # a device that never skips runs every missed tick
    with pytest.raises(ValueError, match="must be > 0"):
        BlockClock(0.0)
