import asyncio
import tracemalloc

import pytest

from voiceagent.audio import AudioBackend, AudioFormat, ReadyAwareListener
from voiceagent.audio.memory import MemoryAudio
from voiceagent.errors import AudioError


class Listener:
    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.idle = asyncio.Event()
        self.mic_done = asyncio.Event()

    def on_input(self, pcm: bytes) -> None:
        self.blocks.append(pcm)

    def on_playback_idle(self) -> None:
        self.idle.set()

    def on_closed(self, reason: str) -> None:
        pass

    def on_error(self, exc: BaseException) -> None:
        pass


async def test_memory_backend_is_an_audio_backend_on_a_device_clock() -> None:
    audio = MemoryAudio(speed=20.0)
    assert isinstance(audio, AudioBackend)
    listener = Listener()
    await audio.start(AudioFormat(), listener)
    speech = bytes(range(256)) * 15  # 3840 bytes = 4 blocks
    audio.feed(speech)
    await audio.wait_input_consumed(timeout=5)
    assert b"".join(listener.blocks).find(speech) >= 0  # delivered in order, whole blocks
    assert all(len(b) == 960 for b in listener.blocks)

    reply = b"\x01\x00" * 2400  # 100 ms
    audio.play("item_1", reply)
    assert audio.is_playing
    await asyncio.wait_for(listener.idle.wait(), 5)
    assert audio.played_frames("item_1") == 2400
    assert audio.played_audio("item_1") == reply
    assert reply in bytes(audio.timeline)
    await audio.stop()
    await audio.stop()  # idempotent


async def test_flush_drops_queued_audio_and_keeps_the_played_count() -> None:
    audio = MemoryAudio(speed=10.0)
    listener = Listener()
    await audio.start(AudioFormat(), listener)
    audio.play("item_1", b"\x05\x00" * 24000)  # 1 s
    await audio.wait_heard(100, timeout=5)
    audio.flush()
    played = audio.played_frames("item_1")
    await audio.wait_ticks(3, timeout=5)
    assert audio.played_frames("item_1") == played  # nothing queued was played after flush
    assert not audio.is_playing
    assert audio.played_audio("item_1") == b"\x05\x00" * played
    await audio.stop()


class ReadyListener(Listener):
    """A listener that, like the session's, says when microphone audio starts to matter."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = asyncio.Event()

    async def wait_ready(self) -> None:
        await self.ready.wait()


async def test_clock_waits_for_a_ready_aware_listener() -> None:
    audio = MemoryAudio(speed=20.0)
    listener = ReadyListener()
    assert isinstance(listener, ReadyAwareListener)
    audio.feed(b"\x07\x00" * 480)  # fed before the session is connected
    await audio.start(AudioFormat(), listener)
    try:
        # The session is "connecting": give the clock every chance to run, it must not.
        for _ in range(50):
            await asyncio.sleep(0)
        assert audio.ticks == 0 and listener.blocks == []
        listener.ready.set()
        await audio.wait_input_consumed(timeout=5)
        assert listener.blocks[0] == b"\x07\x00" * 480  # nothing of the script was lost
    finally:
        await audio.stop()


class Talker(Listener):
    """Plays assistant audio like a network would: one item every 10 s, never letting it run dry.

    Every microphone block (one per tick) tops the queue up to 1 s.
    """

    def __init__(self, audio: MemoryAudio, seconds: float, trace_last_s: float = 0) -> None:
        super().__init__()
        self.audio = audio
        self.ticks_needed = int(seconds * 50)
        self.trace_from = int((seconds - trace_last_s) * 50) if trace_last_s else None
        self.traced_before = 0
        self.grown = 0
        self.queued = 0
        self.done = asyncio.Event()
        self.chunk = b"\x11\x00" * 4800  # 200 ms

    def on_input(self, pcm: bytes) -> None:
        cur = self.queued // 50  # items before cur - 1 have been played whole (50 chunks each)
        played = max(0, cur - 1) * 240000
        played += sum(self.audio.played_frames(f"item_{i}") for i in (cur - 1, cur) if i >= 0)
        while self.queued * 4800 - played < 24000:
            self.audio.play(f"item_{self.queued // 50}", self.chunk)
            self.queued += 1
        if self.audio.ticks == self.trace_from:
            tracemalloc.start()  # Python allocations from here on, kept or not
            self.traced_before = tracemalloc.get_traced_memory()[0]
        if self.audio.ticks >= self.ticks_needed and not self.done.is_set():
            if self.trace_from is not None:
                self.grown = tracemalloc.get_traced_memory()[0] - self.traced_before
                tracemalloc.stop()
            self.done.set()


async def run_for(audio: MemoryAudio, seconds: float, trace_last_s: float = 0) -> Talker:
    talker = Talker(audio, seconds, trace_last_s)
    await audio.start(AudioFormat(), talker)
    try:
        await asyncio.wait_for(talker.done.wait(), 120)
    finally:
        await audio.stop()
    return talker


async def test_an_hour_of_talk_keeps_memory_bounded() -> None:
    # An hour of device time in a few seconds. Allocations are traced over the last 10 minutes:
    # what is still alive at the end is the kept window (60 s of speech, 2.9 MB, replaced within
    # that time) plus any growth; a backend keeping what it played would add 28 MB there.
    audio = MemoryAudio(speed=1e6)
    talker = await run_for(audio, 3600, trace_last_s=600)
    assert talker.grown < 5_000_000, f"{talker.grown / 1e6:.1f} MB kept from the last 10 minutes"
    assert audio.ticks >= 3600 * 50
    assert sum(audio.played_frames(f"item_{i}") for i in range(400)) >= 3500 * 24000
    assert audio.retained_bytes < 5_000_000
    assert len(audio.timeline) == 60 * 48000  # the last minute, exactly
    last = max(i for i in range(400) if audio.played_frames(f"item_{i}"))
    assert len(audio.played_audio(f"item_{last - 1}")) == 10 * 48000  # recent items: whole
    with pytest.raises(AudioError, match="keep_seconds=None"):
        audio.played_audio("item_0")  # an hour ago


async def test_keep_seconds_none_keeps_everything() -> None:
    audio = MemoryAudio(speed=1e6, keep_seconds=None)
    await run_for(audio, 300)
    assert len(audio.timeline) == audio.ticks * 960
    assert audio.retained_bytes >= 290 * 48000  # the growth the default avoids is measured
    assert audio.played_audio("item_0") == b"\x11\x00" * 240000  # the first 10 s, whole
    assert len(audio.heard) == 2 * sum(audio.played_frames(f"item_{i}") for i in range(31))
