"""Counters of the device backend, as returned by ``SoundDeviceAudio.stats``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AudioStats"]


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
