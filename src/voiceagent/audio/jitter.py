"""The playback queue every output path reads from: a bounded jitter buffer with per-item counts.

The service sends assistant audio in bursts (often faster than real time); a device consumes it
at a fixed pace, one block per callback. :class:`PlaybackQueue` sits between the two:

* ``push`` (event loop thread) appends PCM16 samples tagged with their assistant item.
* ``read_into`` (the device thread, or a virtual clock) fills exactly one output block, counting
  per item the frames it hands over: that count is what the user heard, for truncation.
* ``flush`` (barge-in) drops everything queued. The **next** block read is silent except for a
  short fade: a linear ramp from the last sample already handed to the device down to zero
  (at most ``fade_frames``). The ramp is built from that one committed sample value only, so no
  queued audio is ever played after a flush, and the hard step to zero (a click) is avoided.

``pause`` (local interruption) stops playback without dropping anything: the next block is the
same fade to silence, then silence, and nothing is consumed or counted until ``resume``, which
continues with the next queued frame (faded in over ``fade_frames``). ``flush`` while paused
drops the queue and ends the pause.

Playback starts once ``prebuffer_frames`` are queued, or once the first queued audio has waited
that long in device time (so a reply shorter than the prebuffer still plays). An underrun is
counted when playback ran dry in the middle of an item, i.e. more audio of the item that just
drained arrives later without a flush in between; an overrun when ``push`` would exceed
``max_frames`` (the excess, newest audio is dropped and counted).

Per-item counts are kept for the queue's lifetime (a backend makes a new queue per ``start``):
there is no call to forget an item, see :mod:`voiceagent.audio.base`.

All methods are thread-safe; ``read_into`` holds the lock only while copying one block.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["PlaybackQueue", "QueueStats"]

Int16Array = npt.NDArray[np.int16]


@dataclass(frozen=True)
class QueueStats:
    """Counters of a :class:`PlaybackQueue` (a consistent snapshot).

    Attributes:
        queued_frames: Frames waiting to be played.
        played_frames: Frames of assistant audio handed to the device since creation.
        underruns: Times playback ran dry mid-item (more audio of the same item came later).
        overrun_frames: Frames dropped because the queue was full (``max_frames``).
        flushes: Calls to ``flush`` that discarded audio or cut playback.
        flushed_frames: Frames discarded by those flushes (queued, never played).
    """

    queued_frames: int
    played_frames: int
    underruns: int
    overrun_frames: int
    flushes: int
    flushed_frames: int


class PlaybackQueue:
    """A thread-safe bounded FIFO of PCM16 mono samples tagged by assistant item.

    Args:
        max_frames: Capacity; audio pushed beyond it is dropped and counted as overrun.
        prebuffer_frames: Frames to accumulate before playback starts (0: start at once).
        fade_frames: Length of the fade-out ramp in the block after a flush (0: no ramp).
    """

    def __init__(self, *, max_frames: int, prebuffer_frames: int = 0, fade_frames: int = 0) -> None:
        if max_frames <= 0:
            raise ValueError("max_frames must be positive")
        self._lock = threading.Lock()
        self._chunks: deque[tuple[str, Int16Array]] = deque()
        self._offset = 0  # frames of _chunks[0] already played
        self._queued = 0
        self._max = max_frames
        self._prebuffer = max(0, prebuffer_frames)
        self._ramp = 1.0 - np.arange(max(0, fade_frames), dtype=np.float32) / max(1, fade_frames)
        self._playing = False
        self._waited = 0  # device frames the queued audio has waited while prebuffering
        self._last_sample = 0
        self._fade_pending = False
        self._paused = False
        self._fade_in = False
        self._drained_item: str | None = None
        self._played: dict[str, int] = {}
        self._played_total = 0
        self._underruns = 0
        self._overrun_frames = 0
        self._flushes = 0
        self._flushed_frames = 0

    def push(self, item_id: str, samples: Int16Array) -> int:
        """Queue samples of ``item_id``; returns the frames accepted (fewer on overrun)."""
        n = len(samples)
        if n == 0:
            return 0
        with self._lock:
            room = self._max - self._queued
            if n > room:
                self._overrun_frames += n - room
                samples = samples[:room]
                n = room
                if n == 0:
                    return 0
            if not self._playing and self._drained_item == item_id:
                self._underruns += 1
            self._drained_item = None
            self._chunks.append((item_id, samples))
            self._queued += n
            self._played.setdefault(item_id, 0)
            return n

    def read_into(self, out: Int16Array) -> bool:
        """Fill ``out`` (one device block) with the next frames, or silence.

        Returns:
            True if this block played the last queued frame (the queue just ran empty).
        """
        n = len(out)
        with self._lock:
            if self._fade_pending:
                self._fade_pending = False
                k = min(n, len(self._ramp))
                out[:k] = (self._ramp[:k] * self._last_sample).astype(np.int16)
                out[k:] = 0
                self._last_sample = 0
                if not self._playing or self._paused:
                    return False
            if self._paused:
                out[:] = 0
                return False
            if not self._playing:
                if self._queued == 0:
                    out[:] = 0
                    return False
                if self._queued < self._prebuffer and self._waited < self._prebuffer:
                    self._waited += n
                    out[:] = 0
                    return False
                self._playing = True
            pos = 0
            item = ""
            while pos < n and self._chunks:
                item, chunk = self._chunks[0]
                take = min(n - pos, len(chunk) - self._offset)
                out[pos : pos + take] = chunk[self._offset : self._offset + take]
                self._played[item] += take
                pos += take
                self._offset += take
                if self._offset == len(chunk):
                    self._chunks.popleft()
                    self._offset = 0
            if pos < n:
                out[pos:] = 0
            if self._fade_in:
                self._fade_in = False
                k = min(pos, len(self._ramp))
                out[:k] = (self._ramp[:k][::-1] * out[:k]).astype(np.int16)
            self._queued -= pos
            self._played_total += pos
            self._last_sample = int(out[n - 1]) if n else 0
            if self._queued == 0:
                self._playing = False
                self._waited = 0
                self._drained_item = item
                return True
            return False

    def flush(self) -> int:
        """Discard everything queued; the next block read is silent after a short fade.

        Returns:
            Frames discarded.
        """
        with self._lock:
            dropped = self._queued
            if dropped or self._playing:
                self._flushes += 1
                self._flushed_frames += dropped
            self._chunks.clear()
            self._offset = 0
            self._queued = 0
            self._playing = False
            self._waited = 0
            self._drained_item = None
            self._paused = self._fade_in = False
            self._fade_pending = self._last_sample != 0 and len(self._ramp) > 0
            return dropped

    def pause(self) -> bool:
        """Stop playing without dropping anything (local interruption); see :meth:`resume`.

        Returns:
            True if it paused audio that was queued; False when nothing is queued (no effect).
        """
        with self._lock:
            if self._queued == 0 or self._paused:
                return False
            self._paused = True
            self._fade_pending = self._last_sample != 0 and len(self._ramp) > 0
            return True

    def resume(self) -> bool:
        """Continue a paused playback with the next queued frame; True if it was paused."""
        with self._lock:
            was = self._paused
            if was:
                self._paused = False
                self._fade_in = self._playing and len(self._ramp) > 0
            return was

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume` (or :meth:`flush`)."""
        with self._lock:
            return self._paused

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` handed to the device so far (0 for an unknown item)."""
        with self._lock:
            return self._played.get(item_id, 0)

    @property
    def queued_frames(self) -> int:
        """Frames waiting to be played."""
        with self._lock:
            return self._queued

    @property
    def is_playing(self) -> bool:
        """True while queued audio remains (including audio still prebuffering)."""
        with self._lock:
            return self._queued > 0

    def stats(self) -> QueueStats:
        """A consistent snapshot of the counters."""
        with self._lock:
            return QueueStats(
                queued_frames=self._queued,
                played_frames=self._played_total,
                underruns=self._underruns,
                overrun_frames=self._overrun_frames,
                flushes=self._flushes,
                flushed_frames=self._flushed_frames,
            )
