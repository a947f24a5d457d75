"""An in-memory audio backend for tests and headless apps: scripted microphone, recorded speaker.

It behaves like a device, not like a list: a virtual clock ticks once per block; each tick hands
one microphone block to the session and takes one block from the playback queue. So "played"
means what a device would have played by now, and barge-in, truncation and playback-finished
behave as they do on real hardware. ``speed`` runs the clock faster than real time for tests.

Memory stays bounded: the speaker output (``timeline``, ``heard``, ``played_audio``) is kept for
the last ``keep_seconds`` of device time only (60 s by default: under 3 MB at 24 kHz, whatever
the session's length); silent blocks cost no audio bytes. ``keep_seconds=None`` keeps everything
(about 170 MB per hour of device time). Per-item played counts are always kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable

from ..errors import AudioError
from .base import AudioListener, wait_until_ready
from .clock import BlockClock, OutputBlock, PacedOutput, silence
from .format import AudioFormat

__all__ = ["MemoryAudio"]

log = logging.getLogger(__name__)

_Block = tuple[bytes, tuple[tuple[str, int, int], ...]]  # one tick's output, and whose it was


class MemoryAudio:
    """Scripted microphone and recording speaker on a virtual device clock.

    Args:
        speed: Clock speed relative to real time (1.0 = real time; 4.0 = four times faster).
        block_frames: Frames per tick; default: the session format's block (20 ms).
        silence_when_idle: Deliver silence when no scripted input is queued, as a real
            microphone would; False delivers nothing.
        keep_seconds: Seconds of device time of speaker output to keep for ``timeline``,
            ``heard`` and ``played_audio`` (the most recent ones); None keeps all of it. The
            default, 60 s, holds any short test conversation whole and bounds a long run to
            under 3 MB at 24 kHz.

    The clock starts at ``start``, or, when the listener is a
    :class:`~voiceagent.audio.ReadyAwareListener`, once its ``wait_ready()`` returns, so that
    audio fed before the session is connected is delivered, not dropped.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        block_frames: int | None = None,
        silence_when_idle: bool = True,
        keep_seconds: float | None = 60.0,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        if keep_seconds is not None and keep_seconds < 0:
            raise ValueError(f"keep_seconds must be >= 0 or None, got {keep_seconds}")
        self.speed = speed
        self.keep_seconds = keep_seconds
        self._block_frames = block_frames
        self._silence_when_idle = silence_when_idle
        self.format = AudioFormat()
        self._listener: AudioListener | None = None
        self._task: asyncio.Task[None] | None = None
        self._input = bytearray()
        self._input_waiters: list[asyncio.Future[None]] = []
        self._output = PacedOutput(self.format)
        self._first_tick: dict[str, int] = {}  # tick that played an item's first frame
        self._blocks: deque[_Block] = deque()
        self._silence = b""
        self.ticks = 0
        """Blocks the clock has run."""
        self._tick_waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    # --- scripting -----------------------------------------------------------------------

    def feed(self, pcm: bytes) -> None:
        """Queue microphone audio after what is queued.

        PCM16 mono at the session rate, or in the format ``start`` got (G.711 bytes for a
        native format).
        """
        if len(pcm) % self.format.bytes_per_frame:
            raise ValueError("PCM16 audio must have an even number of bytes")
        self._input += pcm

    def feed_silence(self, ms: float) -> None:
        """Queue ``ms`` milliseconds of digital silence on the microphone."""
        self._input += silence(self.format, self.format.ms_to_frames(ms))

    async def wait_input_consumed(self, timeout: float | None = None) -> None:
        """Wait until every fed microphone byte has been delivered to the session."""
        if not self._input:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._input_waiters.append(fut)
        await asyncio.wait_for(fut, timeout)

    async def wait_ticks(self, blocks: int, timeout: float | None = None) -> None:
        """Wait until the virtual device has run ``blocks`` more blocks."""
        target = self.ticks + blocks
        await self._wait(lambda: self.ticks >= target, timeout)

    async def wait_heard(self, ms: float, timeout: float | None = None) -> None:
        """Wait until at least ``ms`` of assistant audio has been played in all."""
        frames = self.format.ms_to_frames(ms)
        await self._wait(lambda: self._output.played_total >= frames, timeout)

    async def _wait(self, predicate: Callable[[], bool], timeout: float | None) -> None:
        if predicate():
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tick_waiters.append((predicate, fut))
        try:
            await asyncio.wait_for(fut, timeout)
        finally:
            self._tick_waiters = [(p, f) for p, f in self._tick_waiters if f is not fut]

    def played_audio(self, item_id: str) -> bytes:
        """The audio of ``item_id`` the virtual speaker actually played (b"" if none).

        Raises:
            AudioError: The item began playing more than ``keep_seconds`` ago, so its start is
                no longer kept (pass ``keep_seconds=None`` to keep everything).
        """
        first = self._first_tick.get(item_id)
        if first is None:
            return b""
        oldest = self.ticks - len(self._blocks) + 1
        if first < oldest:
            ago = (self.ticks - first + 1) * self.format.block_ms / 1000.0
            raise AudioError(
                f"item {item_id!r} began playing {ago:.1f} s of device time ago, but MemoryAudio "
                f"keeps only the last {self.keep_seconds:g} s of speaker output; create it with "
                "MemoryAudio(keep_seconds=None) to keep everything, or a larger keep_seconds"
            )
        return b"".join(
            block[a:b] for block, segments in self._blocks for i, a, b in segments if i == item_id
        )

    @property
    def heard(self) -> bytes:
        """Assistant audio played in the last ``keep_seconds``, in order, without silence."""
        return b"".join(block[a:b] for block, segments in self._blocks for _, a, b in segments)

    @property
    def timeline(self) -> bytes:
        """What the virtual speaker output in the last ``keep_seconds``, silence included."""
        return b"".join(block for block, _ in self._blocks)

    @property
    def retained_bytes(self) -> int:
        """Audio bytes held now: kept speaker output, queued playback, unconsumed input.

        Bounded by ``keep_seconds`` plus what is queued; silent blocks count nothing (they
        share one buffer).
        """
        kept = sum(len(b) for b, _ in self._blocks if b is not self._silence)
        queued = self._output.queued_frames * self.format.bytes_per_frame
        return kept + queued + len(self._input)

    # --- AudioBackend --------------------------------------------------------------------

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Start the virtual clock."""
        if self._task is not None:
            raise AudioError("MemoryAudio already started")
        block = self._block_frames or fmt.block_frames
        self.format = AudioFormat(fmt.sample_rate, block, fmt.encoding)
        if self._output.format != self.format:  # audio played before start stays queued
            self._output = PacedOutput(self.format)
        self._silence = self._output.silence_block
        keep = None
        if self.keep_seconds is not None:
            keep = math.ceil(self.keep_seconds * fmt.sample_rate / block)
        self._blocks = deque(self._blocks, maxlen=keep)
        self._listener = listener
        self._task = asyncio.create_task(self._run(), name="voiceagent-memory-audio")

    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue assistant audio."""
        self._output.push(item_id, pcm)

    def flush(self) -> None:
        """Drop everything queued; the next tick is silent."""
        self._output.flush()

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` the virtual speaker played."""
        return self._output.played_frames(item_id)

    @property
    def is_playing(self) -> bool:
        """True while assistant audio is queued."""
        return self._output.is_playing

    async def stop(self) -> None:
        """Stop the clock (idempotent)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- the clock -----------------------------------------------------------------------

    async def _run(self) -> None:
        clock = BlockClock(self.format.block_ms / 1000.0, speed=self.speed)
        assert self._listener is not None
        await wait_until_ready(self._listener)  # scripted input waits for the session
        await clock.run(self._tick)

    def _tick(self) -> None:
        assert self._listener is not None
        self.ticks += 1
        block_bytes = self.format.block_bytes
        if self._input:
            chunk = bytes(self._input[:block_bytes])
            del self._input[:block_bytes]
            self._listener.on_input(chunk)
            if not self._input:
                for fut in self._input_waiters:
                    if not fut.done():
                        fut.set_result(None)
                self._input_waiters.clear()
        elif self._silence_when_idle:
            self._listener.on_input(self._silence)
        self._record(self._output.tick())

    def _record(self, block: OutputBlock) -> None:
        for item_id, _, _ in block.segments:
            self._first_tick.setdefault(item_id, self.ticks)
        self._blocks.append((block.data, block.segments) if block.data else (self._silence, ()))
        if block.drained:
            assert self._listener is not None
            self._listener.on_playback_idle()
        for predicate, fut in self._tick_waiters:
            if not fut.done() and predicate():
                fut.set_result(None)
