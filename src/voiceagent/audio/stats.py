"""Counters of the device backend (``SoundDeviceAudio.stats``) and its stall watchdog."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AudioStats", "StallWatch"]

logger = logging.getLogger("voiceagent.audio.sounddevice_backend")


@dataclass(frozen=True)
class AudioStats:
    """A snapshot of a device backend's counters (see :attr:`SoundDeviceAudio.stats`).

    Attributes:
        output_callbacks: Output blocks PortAudio asked for since ``start``.
        input_blocks: Microphone blocks PortAudio delivered since ``start``.
        played_frames: Assistant frames handed to the device (session rate).
        queued_frames: Assistant frames waiting in the jitter buffer (session rate).
        underruns: Times playback ran dry in the middle of an item (audio arrived too late).
        overrun_frames: Assistant frames dropped because the jitter buffer was full.
        flushes: Barge-in flushes that cut or discarded audio.
        output_underflows: Blocks PortAudio itself reported as output underflow (our callback
            was late, e.g. the machine was overloaded).
        input_overflows: Blocks PortAudio reported as input overflow (microphone data lost).
        stalls: Times the stream stopped calling back for longer than the stall timeout.
        stalled: True while the stream is stalled now.
        device_rates: (input, output) rates the devices were opened at, in Hz.
        resampling: True when either device runs at another rate than the session (soxr).
        last_flush_silent_at: ``time.monotonic()`` at which the first block after the latest
            flush was handed to the device, plus the reported output latency (None before any).
        local_pauses: Times local interruption paused playback (user speech detected on the
            device while the agent played).
        local_resumes: Local pauses that no ``flush()`` confirmed in time: playback resumed.
        local_confirmed: Local pauses that a ``flush()`` (the service's barge-in) confirmed.
        local_rejected: Early local pauses the detector did not confirm as speech (a loud
            noise): playback resumed after ``verify_ms``.
        last_local_pause_at: ``time.monotonic()`` of the latest local pause (None before any).
    """

    output_callbacks: int
    input_blocks: int
    played_frames: int
    queued_frames: int
    underruns: int
    overrun_frames: int
    flushes: int
    output_underflows: int
    input_overflows: int
    stalls: int
    stalled: bool
    device_rates: tuple[int, int]
    resampling: bool
    last_flush_silent_at: float | None
    local_pauses: int = 0
    local_resumes: int = 0
    local_confirmed: int = 0
    local_rejected: int = 0
    last_local_pause_at: float | None = None


class StallWatch:
    """Detects a stream that stopped calling back (device unplugged, driver hang).

    Args:
        timeout_s: No callback for this long (s) counts as a stall.
        on_stall: Called on the event loop thread with the seconds since the last callback,
            once per stall.
    """

    def __init__(self, timeout_s: float, on_stall: Callable[[float], None] | None) -> None:
        self.timeout_s = timeout_s
        self.on_stall = on_stall
        self.stalls = 0
        """Stalls detected so far."""
        self.stalled = False
        """True while the stream is stalled."""

    async def run(self, last_callback: Callable[[], float]) -> None:
        """Check every 250 ms (at most) the ``time.monotonic()`` of the last callback."""
        interval = min(0.25, self.timeout_s / 4)
        while True:
            await asyncio.sleep(interval)
            gap = time.monotonic() - last_callback()
            if gap > self.timeout_s and not self.stalled:
                self.stalled = True
                self.stalls += 1
                logger.warning("audio stream stalled: no callback for %.1f s", gap)
                if self.on_stall is not None:
                    try:
                        self.on_stall(gap)
                    except Exception:
                        logger.exception("on_stall callback raised")
            elif gap <= self.timeout_s and self.stalled:
                self.stalled = False
                logger.info("audio stream resumed after a stall")
