"""WAV file backend: the microphone from a file, the speaker into a file, on a virtual device clock.

:class:`WavAudio` behaves like a duplex sound card whose clock it simulates: every tick (one block
of ``AudioFormat.block_frames``) it sends the next microphone block and takes the next output
block from a :class:`~voiceagent.audio.jitter.PlaybackQueue`, the same queue the PortAudio backend
uses. So ``flush`` cuts the output at the same place a real device would, ``played_frames``
counts what that device would have played, and the output file is exactly what would have been
heard, barge-in cuts and fades included.

Clock: with ``realtime=True`` ticks follow the event loop clock (one block per block duration).
With ``realtime=False`` ticks run as fast as the event loop allows while there is microphone input
left or output queued; when neither, the clock waits for the next ``play`` (no silence is
generated for the idle time, so the file holds no gaps between turns) unless
``after_input="silence"``, in which case idle ticks run in real time and send silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import wave
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..errors import AudioError
from .base import AudioListener
from .format import AudioFormat
from .jitter import PlaybackQueue
from .resample import resample

__all__ = ["WavAudio", "read_wav"]

logger = logging.getLogger(__name__)

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_RESYNC_S = 0.2


def read_wav(path: str | Path, sample_rate: int) -> npt.NDArray[np.int16]:
    """Read a WAV file as PCM16 mono at ``sample_rate`` Hz.

    Accepts integer PCM of 8, 16, 24 or 32 bits and 32/64-bit float, any channel count (mixed
    down by averaging) and any rate (converted with soxr).

    Raises:
        AudioError: The file is missing, not a WAV file, or in an unsupported encoding.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AudioError(f"cannot read WAV file {str(path)!r}: {exc}") from exc
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(f"{str(path)!r} is not a RIFF/WAVE file")
    fmt: tuple[int, int, int, int] | None = None
    frames: bytes | None = None
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            tag, channels, rate = struct.unpack_from("<HHI", body)
            bits = struct.unpack_from("<H", body, 14)[0]
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack_from("<H", body, 24)[0]  # first field of the SubFormat GUID
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            frames = body
        pos += 8 + size + (size & 1)
    if fmt is None or frames is None:
        raise AudioError(f"{str(path)!r} has no fmt or data chunk")
    tag, channels, rate, bits = fmt
    width = bits // 8
    usable = len(frames) // (width * channels) * width * channels
    raw = frames[:usable]
    x: npt.NDArray[np.float64]
    if tag == _PCM and bits == 8:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif tag == _PCM and bits == 16:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    elif tag == _PCM and bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8  # sign-extend via the top byte
        x = v.astype(np.float64) / 65536.0  # 24-bit value in the top bytes -> 16-bit scale
    elif tag == _PCM and bits == 32:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 65536.0
    elif tag == _FLOAT and bits in (32, 64):
        x = np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8").astype(np.float64) * 32768.0
    else:
        raise AudioError(
            f"{str(path)!r}: unsupported WAV encoding (format tag {tag:#x}, {bits} bits); "
            "use PCM 8/16/24/32-bit or float 32/64-bit"
        )
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    pcm = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return resample(pcm, rate, sample_rate)


class WavAudio:
    """Microphone from a WAV file and/or speaker to a WAV file (tests, batch runs, demos).

    Implements :class:`~voiceagent.audio.AudioBackend` on a virtual device clock (see the module
    docstring for how the clock runs).

    Args:
        input_path: WAV file used as the microphone (any common encoding, converted), or None
            for no microphone.
        output_path: WAV file receiving what the virtual speaker plays (PCM16 mono at the
            session rate), or None to discard it. Parent directories are created.
        realtime: Pace the clock in real time (True) or run it as fast as possible (False).
        after_input: After the file (and ``pad_ms``): keep sending silence, paced in real time
            (``"silence"``), or send nothing more (``"end"``).
        pad_ms: Digital silence appended to the input file (ms, rounded up to whole blocks),
            sent at the input's pace, so a voice activity detector sees the end of speech even
            in fast mode.
        silence_between_turns: Write the silent blocks ticked while nothing plays (True: the
            file is time-aligned with the session), or only blocks that play or end audio.
        prebuffer_ms: Jitter-buffer prebuffer of the virtual speaker (ms).
        fade_ms: Fade-out after a flush (ms, at most 5), as on a real device.
    """

    def __init__(
        self,
        input_path: str | Path | None = None,
        output_path: str | Path | None = None,
        *,
        realtime: bool = True,
        after_input: Literal["silence", "end"] = "silence",
        pad_ms: float = 1000.0,
        silence_between_turns: bool = True,
        prebuffer_ms: float = 0.0,
        fade_ms: float = 4.0,
    ) -> None:
        if not 0.0 <= fade_ms <= 5.0:
            raise ValueError("fade_ms must be between 0 and 5")
        self.input_path = Path(input_path) if input_path is not None else None
        self.output_path = Path(output_path) if output_path is not None else None
        self.realtime = realtime
        self.after_input = after_input
        self.pad_ms = pad_ms
        self.silence_between_turns = silence_between_turns
        self._prebuffer_ms = prebuffer_ms
        self._fade_ms = fade_ms
        self._fmt = AudioFormat()
        self._queue = PlaybackQueue(max_frames=1)
        self._listener: AudioListener | None = None
        self._input: npt.NDArray[np.int16] | None = None
        self._input_pos = 0
        self._writer: wave.Wave_write | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._input_done = asyncio.Event()
        self._frames_written = 0
        self._ticks = 0

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Read the input file, open the output file and start the virtual clock.

        Raises:
            AudioError: The input cannot be read or the output cannot be created.
        """
        if self._task is not None:
            raise AudioError("WavAudio.start() called twice; call stop() first")
        self._fmt = fmt
        self._listener = listener
        self._queue = PlaybackQueue(
            max_frames=fmt.ms_to_frames(3_600_000),
            prebuffer_frames=fmt.ms_to_frames(self._prebuffer_ms),
            fade_frames=fmt.ms_to_frames(self._fade_ms),
        )
        self._wake = asyncio.Event()
        self._input_done = asyncio.Event()
        self._input_pos = 0
        if self.input_path is not None:
            pcm = read_wav(self.input_path, fmt.sample_rate)
            pad_frames = fmt.ms_to_frames(self.pad_ms)
            pad_frames += -(len(pcm) + pad_frames) % fmt.block_frames  # whole blocks only
            self._input = np.concatenate([pcm, np.zeros(pad_frames, dtype=np.int16)])
        else:
            self._input_done.set()
        if self.output_path is not None:
            try:
                self.output_path.parent.mkdir(parents=True, exist_ok=True)
                writer = wave.open(str(self.output_path), "wb")  # noqa: SIM115 (closed in stop)
            except OSError as exc:
                raise AudioError(
                    f"cannot create WAV file {str(self.output_path)!r}: {exc}"
                ) from exc
            writer.setnchannels(1)
            writer.setsampwidth(fmt.bytes_per_frame)
            writer.setframerate(fmt.sample_rate)
            self._writer = writer
        self._task = asyncio.create_task(self._run(), name="voiceagent-wav-clock")

    async def stop(self) -> None:
        """Stop the clock and finish the output file; idempotent.

        Audio still queued is not written: it was never heard (wait for ``on_playback_idle``
        first to keep a whole reply).
        """
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    async def wait_input_done(self) -> None:
        """Wait until the whole input file (and its padding) has been sent to the listener."""
        await self._input_done.wait()

    @property
    def frames_written(self) -> int:
        """Frames written to the output file so far."""
        return self._frames_written

    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue assistant audio for the virtual speaker; never blocks."""
        samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.int16)
        self._queue.push(item_id, samples)
        self._wake.set()

    def flush(self) -> None:
        """Barge-in: drop queued audio; the next tick is silent after a <= 5 ms fade."""
        self._queue.flush()

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` the virtual speaker has played."""
        return self._queue.played_frames(item_id)

    @property
    def is_playing(self) -> bool:
        """True while queued audio remains."""
        return self._queue.is_playing

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        block = self._fmt.block_frames
        period = self._fmt.block_ms / 1000.0
        out = np.zeros(block, dtype=np.int16)
        silence = bytes(self._fmt.block_bytes)
        next_tick = loop.time()
        was_playing = False
        while True:
            input_left = self._input is not None and self._input_pos < len(self._input)
            playing = self._queue.is_playing
            if not self.realtime and (input_left or playing):
                await asyncio.sleep(0)  # fast: yield so the network side keeps up
                next_tick = loop.time()
            elif not self.realtime and (self._input is None or self.after_input == "end"):
                self._wake.clear()  # fast and idle: nothing to do until the next play()
                if not self._queue.is_playing:
                    await self._wake.wait()
                next_tick = loop.time()
                continue
            else:
                next_tick += period
                delay = next_tick - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -_RESYNC_S:  # the loop was blocked: don't burst to catch up
                    next_tick = loop.time()
            listener = self._listener
            assert listener is not None
            self._ticks += 1
            if self._input is not None:
                if input_left:
                    chunk = self._input[self._input_pos : self._input_pos + block]
                    self._input_pos += len(chunk)
                    _deliver(listener, chunk.tobytes())
                    if self._input_pos >= len(self._input):
                        self._input_done.set()
                elif self.after_input == "silence":
                    _deliver(listener, silence)
            drained = self._queue.read_into(out)
            audible = playing or was_playing or bool(out.any())
            if self._writer is not None and (self.silence_between_turns or audible):
                self._writer.writeframesraw(out.tobytes())
                self._frames_written += block
            was_playing = playing and not drained
            if drained:
                try:
                    listener.on_playback_idle()
                except Exception:
                    logger.exception("listener.on_playback_idle raised")


def _deliver(listener: AudioListener, pcm: bytes) -> None:
    try:
        listener.on_input(pcm)
    except Exception:  # the clock must keep running, as a device would
        logger.exception("listener.on_input raised")
