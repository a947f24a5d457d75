"""One paced output for every backend that plays on the event loop: queue, block clock, "played".

A virtual device (:class:`~voiceagent.audio.WavAudio`,
:class:`~voiceagent.audio.memory.MemoryAudio`, the bench devices) and a bridge to a peer (a
phone line, a browser) have the same output side: assistant audio arrives in bursts, faster
than real time; it must leave one block per block period, and "played" must count what left
*in time*, never what was queued. Two parts:

* :class:`PacedOutput`: the queue of ``(item_id, bytes)`` in any :class:`AudioFormat` (PCM16:
  2 bytes per frame; G.711: 1), one :meth:`~PacedOutput.tick` per block period taking the next
  block, per-item played counts in frames, :meth:`~PacedOutput.flush` (nothing queued is ever
  played after it), and the idle notification (:attr:`OutputBlock.drained`: everything queued
  has now been played, the backend calls ``listener.on_playback_idle()``).
* :class:`BlockClock`: calls a tick function once per block period (real time times ``speed``),
  catching up a bounded number of ticks after the event loop was busy, as a device would.

``lead_blocks`` is for a peer that buffers what it is sent and acknowledges nothing (a carrier's
media stream): each tick sends enough to keep ``lead_blocks`` blocks in the peer's buffer, and a
block counts as played ``lead_blocks`` ticks after it was sent, when the peer has played it. A
flush drops what was sent but not yet counted (the bridge tells the peer to clear its buffer):
what is played is what was *paced and heard*, not what was sent. With ``lead_blocks=0`` (a
virtual device) the block taken by a tick is the block played during it.

Everything runs on the event loop thread (no locks); the PortAudio backend, whose output is read
on the device's thread, keeps the thread-safe :class:`~voiceagent.audio.jitter.PlaybackQueue`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .format import AudioFormat

__all__ = ["BlockClock", "OutputBlock", "OutputStats", "PacedOutput", "silence"]

Segment = tuple[str, int, int]
"""``(item_id, start, end)``: the bytes ``data[start:end]`` of an :class:`OutputBlock` are that
item's audio."""

_SILENCE_BYTE = {"pcm16": 0x00, "g711_ulaw": 0xFF, "g711_alaw": 0xD5}


def silence(fmt: AudioFormat, frames: int) -> bytes:
    """``frames`` frames of digital silence in ``fmt`` (0x00 PCM16, 0xFF u-law, 0xD5 A-law)."""
    return bytes([_SILENCE_BYTE[fmt.encoding]]) * (frames * fmt.bytes_per_frame)


@dataclass(frozen=True)
class OutputBlock:
    """What one tick of a :class:`PacedOutput` gave out.

    Attributes:
        data: The audio to hand to the device or send to the peer: whole blocks (the end of an
            item is padded with silence), b"" when nothing is played this tick. More than one
            block only with ``lead_blocks`` (filling the peer's buffer).
        segments: Which bytes of ``data`` belong to which item, in order.
        played: ``(item_id, frames)`` counted as played by this tick (with a lead: blocks sent
            earlier that the peer has now played).
        drained: This tick played the last queued frame: call ``on_playback_idle()``.
    """

    data: bytes = b""
    segments: tuple[Segment, ...] = ()
    played: tuple[tuple[str, int], ...] = ()
    drained: bool = False


@dataclass(frozen=True)
class OutputStats:
    """Counters of a :class:`PacedOutput` (a snapshot).

    Attributes:
        queued_frames: Frames waiting to be taken by a tick.
        in_flight_frames: Frames sent to the peer and not yet counted as played (``lead_blocks``).
        played_frames: Frames counted as played since creation.
        underruns: Times playback ran dry in the middle of an item (more of it came later).
        overrun_frames: Frames dropped because the queue was full (``max_frames``).
        flushes: Flushes that discarded audio or cut playback.
        flushed_frames: Frames those flushes discarded (never played).
    """

    queued_frames: int
    in_flight_frames: int
    played_frames: int
    underruns: int
    overrun_frames: int
    flushes: int
    flushed_frames: int


class PacedOutput:
    """A queue of assistant audio played one block per tick, counting what was played per item.

    Args:
        fmt: The format of the audio (its ``block_frames`` is one tick, its ``bytes_per_frame``
            the unit of every count).
        lead_blocks: Blocks kept in a peer's buffer ahead of what it plays (see the module notes);
            0 for a device or a virtual device.
        prebuffer_ms: Playback starts once this much is queued, or once the first queued audio
            has waited that long in ticks (a reply shorter than it still plays).
        fade_ms: PCM16 only: after a flush (or when an item is cut), the next block ramps from the
            last sample played down to zero over this long instead of a click.
        max_frames: Queue capacity; audio pushed beyond it is dropped and counted (None: no
            bound).
    """

    def __init__(
        self,
        fmt: AudioFormat,
        *,
        lead_blocks: int = 0,
        prebuffer_ms: float = 0.0,
        fade_ms: float = 0.0,
        max_frames: int | None = None,
    ) -> None:
        if lead_blocks < 0:
            raise ValueError(f"lead_blocks must be >= 0, got {lead_blocks}")
        self.format = fmt
        self.lead_blocks = lead_blocks
        self._bpf = fmt.bytes_per_frame
        self._block = fmt.block_bytes
        self._silence_block = silence(fmt, fmt.block_frames)
        self._prebuffer = fmt.ms_to_frames(prebuffer_ms) * self._bpf
        self._fade = fmt.ms_to_frames(fade_ms) if fmt.encoding == "pcm16" else 0
        self._max = None if max_frames is None else max_frames * self._bpf
        self._queue: deque[tuple[str, bytes]] = deque()
        self._offset = 0  # bytes of _queue[0] already taken
        self._queued = 0  # bytes
        self._in_flight: deque[tuple[Segment, ...]] = deque()  # sent, not yet played (lead)
        self._playing = False
        self._paused = False
        self._waited = 0  # bytes of ticks the first queued audio waited while prebuffering
        self._last_sample = 0
        self._fade_pending = False
        self._drained_item: str | None = None
        self._played: dict[str, int] = {}
        self._played_total = 0
        self._underruns = 0
        self._overrun = 0
        self._flushes = 0
        self._flushed = 0
        self._queued_event = asyncio.Event()

    # --- the session's side (through the backend) -----------------------------------------

    def push(self, item_id: str, data: bytes) -> int:
        """Queue ``data`` (whole frames of the format) of ``item_id``; returns frames accepted."""
        n = len(data) - len(data) % self._bpf
        if n <= 0:
            return 0
        if self._max is not None and self._queued + n > self._max:
            room = max(0, self._max - self._queued)
            room -= room % self._bpf
            self._overrun += (n - room) // self._bpf
            n = room
            if n == 0:
                return 0
        if not self._playing and self._drained_item == item_id:
            self._underruns += 1
        self._drained_item = None
        self._queue.append((item_id, data[:n] if n < len(data) else data))
        self._queued += n
        self._played.setdefault(item_id, 0)
        self._queued_event.set()
        return n // self._bpf

    def flush(self) -> int:
        """Barge-in: drop everything queued (and sent but not played); returns frames dropped.

        Nothing queued before the flush is ever played after it; counts stay as they are.
        """
        dropped = self._queued + sum(b - a for s in self._in_flight for _, a, b in s)
        if dropped or self._playing:
            self._flushes += 1
            self._flushed += dropped // self._bpf
        self._queue.clear()
        self._in_flight.clear()
        self._offset = self._queued = self._waited = 0
        self._playing = self._paused = False
        self._drained_item = None
        self._fade_pending = self._fade > 0 and self._last_sample != 0
        return dropped // self._bpf

    def pause(self) -> bool:
        """Stop taking audio without dropping it (local interruption); True if audio was queued.

        The next tick fades out (PCM16 with ``fade_ms``); nothing is taken or counted until
        :meth:`resume`, except blocks a peer already has (``lead_blocks``): it plays those.
        A backend implements :class:`~voiceagent.audio.PausableOutput` with it.
        """
        if not self._queued or self._paused:
            return False
        self._paused = True
        self._fade_pending = self._fade > 0 and self._last_sample != 0
        return True

    def resume(self) -> bool:
        """Continue after :meth:`pause` with the next queued frame; True if it was paused."""
        was, self._paused = self._paused, False
        return was and self._queued > 0

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` played (counted by ticks), not merely queued or sent."""
        return self._played.get(item_id, 0)

    @property
    def is_playing(self) -> bool:
        """True while audio is queued or sent and not yet played."""
        return self._queued > 0 or bool(self._in_flight)

    @property
    def queued_frames(self) -> int:
        """Frames waiting for a tick."""
        return self._queued // self._bpf

    @property
    def played_total(self) -> int:
        """Frames played since creation, all items."""
        return self._played_total

    async def wait_queued(self) -> None:
        """Return once audio is queued (a clock that sleeps while idle waits on it)."""
        if not self._queued:
            self._queued_event.clear()
            await self._queued_event.wait()

    def stats(self) -> OutputStats:
        """The counters."""
        return OutputStats(
            queued_frames=self._queued // self._bpf,
            in_flight_frames=sum(b - a for s in self._in_flight for _, a, b in s) // self._bpf,
            played_frames=self._played_total,
            underruns=self._underruns,
            overrun_frames=self._overrun,
            flushes=self._flushes,
            flushed_frames=self._flushed,
        )

    # --- the clock's side -----------------------------------------------------------------

    @property
    def silence_block(self) -> bytes:
        """One block of silence in the format (one shared object: cheap to keep)."""
        return self._silence_block

    def tick(self) -> OutputBlock:
        """One block period: take what is due, count what was played (see the module notes)."""
        if self._fade_pending:
            self._fade_pending = False
            return OutputBlock(data=self._fade_block())
        out = bytearray()
        segments: list[Segment] = []
        if not self._paused and self._ready():
            for _ in range(self.lead_blocks + 1 - len(self._in_flight)):
                if not self._queue:
                    break
                sent = self._take_block(out)
                self._in_flight.append(sent)
                segments.extend(sent)
        played: list[tuple[str, int]] = []
        if self._in_flight and (len(self._in_flight) > self.lead_blocks or not self._queue):
            for item_id, a, b in self._in_flight.popleft():
                frames = (b - a) // self._bpf
                self._played[item_id] = self._played.get(item_id, 0) + frames
                self._played_total += frames
                played.append((item_id, frames))
        drained = bool(played) and not self.is_playing
        if drained:
            self._playing = False
            self._waited = 0
            self._drained_item = played[-1][0]
        return OutputBlock(bytes(out), tuple(segments), tuple(played), drained)

    def _ready(self) -> bool:
        if self._playing or not self._queued:
            return self._playing and self._queued > 0
        if self._queued < self._prebuffer and self._waited < self._prebuffer:
            self._waited += self._block
            return False
        self._playing = True
        return True

    def _take_block(self, out: bytearray) -> tuple[Segment, ...]:
        """Move one block of queued audio to ``out`` (padding the end with silence)."""
        start = len(out)
        segments: list[Segment] = []
        while self._queue and len(out) - start < self._block:
            item_id, data = self._queue[0]
            take = min(len(data) - self._offset, self._block - (len(out) - start))
            segments.append((item_id, len(out), len(out) + take))
            out += data[self._offset : self._offset + take]
            self._offset += take
            if self._offset == len(data):
                self._queue.popleft()
                self._offset = 0
        taken = len(out) - start
        self._queued -= taken
        if self._fade:  # a block that ends in silence leaves nothing to fade
            whole = taken == self._block
            self._last_sample = int.from_bytes(out[-2:], "little", signed=True) if whole else 0
        out += self._silence_block[: self._block - taken]
        return tuple(segments)

    def _fade_block(self) -> bytes:
        """A linear ramp from the last sample played down to zero, then silence (PCM16)."""
        n = min(self._fade, self.format.block_frames)
        last, self._last_sample = self._last_sample, 0
        ramp = b"".join(
            int(last * (1.0 - i / n)).to_bytes(2, "little", signed=True) for i in range(n)
        )
        return ramp + self._silence_block[len(ramp) :]


class BlockClock:
    """Says when each block is due, as a device's clock would (real time times ``speed``).

    Args:
        period_s: One block's duration in seconds at real time (``fmt.block_ms / 1000``).
        speed: Clock speed relative to real time (4.0: four times faster, for tests).
        max_catch_up: After the event loop was busy, run at most this many ticks back to back,
            then drop the missed time (None: never drop time, catch up fully).
    """

    def __init__(
        self, period_s: float, *, speed: float = 1.0, max_catch_up: int | None = 5
    ) -> None:
        if period_s <= 0 or speed <= 0:
            raise ValueError(f"period_s and speed must be > 0, got {period_s} and {speed}")
        self.period_s = period_s / speed
        self.max_catch_up = max_catch_up
        self.ticks = 0
        """Ticks counted so far."""
        self._next_at: float | None = None

    def reset(self, delay_s: float = 0.0) -> None:
        """The next tick is due ``delay_s`` from now (after a pause, or to set a phase)."""
        self._next_at = asyncio.get_running_loop().time() + delay_s

    async def due(self) -> int:
        """Sleep until the next tick is due; return how many ticks to run now (1 or more)."""
        loop = asyncio.get_running_loop()
        if self._next_at is None:
            self._next_at = loop.time()
        await asyncio.sleep(max(0.0, self._next_at - loop.time()))
        now = loop.time()
        count = max(1, int((now - self._next_at) // self.period_s) + 1)
        if self.max_catch_up is not None and count > self.max_catch_up:
            count = self.max_catch_up  # the loop was blocked: drop time, as a device overruns
            self._next_at = now + self.period_s
        else:
            self._next_at += count * self.period_s
        self.ticks += count
        return count

    async def run(self, tick: Callable[[], None]) -> None:
        """Call ``tick`` once per block period until cancelled."""
        while True:
            for _ in range(await self.due()):
                tick()
