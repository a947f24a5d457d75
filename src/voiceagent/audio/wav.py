"""WAV file backend: the microphone from a file, the speaker into a file, on a virtual device clock.

:class:`WavAudio` behaves like a duplex sound card whose clock it simulates: every tick (one block
of ``AudioFormat.block_frames``) it sends the next microphone block and takes the next output
block from a :class:`~voiceagent.audio.clock.PacedOutput`, the paced output every virtual
device and bridge shares. So ``flush`` cuts the output at the same place a real device would,
``played_frames`` counts what that device would have played, and the output file is exactly
what would have been heard, barge-in cuts and fades included.

The clock starts at ``start``, or, when the listener is a
:class:`~voiceagent.audio.ReadyAwareListener`, once its ``wait_ready()`` returns,
so that no part of the input file is spent while the session is still connecting.

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
import wave
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..errors import AudioError
from .base import AudioListener, wait_until_ready
from .clock import BlockClock, PacedOutput
from .format import AudioFormat
from .wav_file import WavInfo, inspect_wav, read_wav

__all__ = ["WavAudio", "read_wav"]

logger = logging.getLogger(__name__)

_RESYNC_S = 0.2  # real time: a clock this late (the loop was blocked) drops time, no burst


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

    Raises:
        AudioError: At construction, when ``input_path`` is not a WAV file this backend can
            read (missing, a directory, not RIFF/WAVE, damaged header, 0 channels or 0 Hz, an
            encoding it cannot decode) or ``output_path`` is a directory. The message names the
            file, the problem and the fix (for an encoding, the ``sox`` command converting it
            to 16-bit mono PCM).
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
        self.input_info: WavInfo | None = (
            inspect_wav(self.input_path) if self.input_path is not None else None
        )
        """The input file's header, checked at construction (None without input)."""
        if self.output_path is not None and self.output_path.is_dir():
            raise AudioError(
                f"WAV output path {str(self.output_path)!r} is a directory; give a file path, "
                f"e.g. {str(self.output_path / 'reply.wav')!r}"
            )
        self.realtime = realtime
        self.after_input = after_input
        self.pad_ms = pad_ms
        self.silence_between_turns = silence_between_turns
        self._prebuffer_ms = prebuffer_ms
        self._fade_ms = fade_ms
        self._fmt = AudioFormat()
        self._output = PacedOutput(self._fmt)
        self._listener: AudioListener | None = None
        self._input: npt.NDArray[np.int16] | None = None
        self._input_pos = 0
        self._writer: wave.Wave_write | None = None
        self._task: asyncio.Task[None] | None = None
        self._input_done = asyncio.Event()
        self._frames_written = 0
        self._ticks = 0

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Read the input file, open the output file and start the virtual clock.

        Raises:
            AudioError: The input file changed since construction and can no longer be read, or
                the output file cannot be created (the message names the file).
        """
        if self._task is not None:
            raise AudioError("WavAudio.start() called twice; call stop() first")
        self._fmt = fmt
        self._listener = listener
        self._output = PacedOutput(
            fmt,
            prebuffer_ms=self._prebuffer_ms,
            fade_ms=self._fade_ms,
            max_frames=fmt.ms_to_frames(3_600_000),
        )
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
        self._output.push(item_id, pcm)

    def flush(self) -> None:
        """Barge-in: drop queued audio; the next tick is silent after a <= 5 ms fade."""
        self._output.flush()

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` the virtual speaker has played."""
        return self._output.played_frames(item_id)

    @property
    def is_playing(self) -> bool:
        """True while queued audio remains."""
        return self._output.is_playing

    async def _run(self) -> None:
        output = self._output
        clock = BlockClock(self._fmt.block_ms / 1000.0, max_catch_up=self._catch_up())
        assert self._listener is not None
        await wait_until_ready(self._listener)  # a scripted microphone waits for the session
        clock.reset()
        while True:
            input_left = self._input is not None and self._input_pos < len(self._input)
            if not self.realtime and (input_left or output.is_playing):
                await asyncio.sleep(0)  # fast: yield so the network side keeps up
                self._tick()
                clock.reset()
            elif not self.realtime and (self._input is None or self.after_input == "end"):
                await output.wait_queued()  # fast and idle: nothing to do until the next play()
                clock.reset()
            else:
                for _ in range(await clock.due()):
                    self._tick()

    def _catch_up(self) -> int:
        return max(1, round(_RESYNC_S * 1000.0 / self._fmt.block_ms))

    def _tick(self) -> None:
        listener = self._listener
        assert listener is not None
        self._ticks += 1
        if self._input is not None:
            block = self._fmt.block_frames
            if self._input_pos < len(self._input):
                chunk = self._input[self._input_pos : self._input_pos + block]
                self._input_pos += len(chunk)
                _deliver(listener, chunk.tobytes())
                if self._input_pos >= len(self._input):
                    self._input_done.set()
            elif self.after_input == "silence":
                _deliver(listener, self._output.silence_block)
        was_playing = self._output.is_playing
        played = self._output.tick()
        audible = bool(played.data) or was_playing
        if self._writer is not None and (self.silence_between_turns or audible):
            self._writer.writeframesraw(played.data or self._output.silence_block)
            self._frames_written += self._fmt.block_frames
        if played.drained:
            try:
                listener.on_playback_idle()
            except Exception:
                logger.exception("listener.on_playback_idle raised")


def _deliver(listener: AudioListener, pcm: bytes) -> None:
    try:
        listener.on_input(pcm)
    except Exception:  # the clock must keep running, as a device would
        logger.exception("listener.on_input raised")
