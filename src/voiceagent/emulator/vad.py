"""Energy voice activity detection on *audio time* (bytes received), never wall time.

The service's ``server_vad`` is a neural model; the emulator approximates it with frame energy so
that tests are deterministic:

* Audio is cut into 20 ms frames. Each frame's mean (its DC level) is removed first: the VAD
  measures the signal's *variation*, not its raw power, because bytes of ``0x00`` are silence in
  PCM16 but a constant level in G.711 (-32124 in u-law, -5504 in A-law).
* A frame is *voiced* when its RMS level (after removing the mean) in dBFS is at least
  ``threshold_dbfs(threshold) = -70 + 60 * threshold`` (so the default 0.5 means -40 dBFS;
  0.0 means -70 dBFS and 1.0 means -10 dBFS). Speech recorded at a normal level (about -23 dBFS
  RMS) is well above the default; digital silence and quiet noise (-60 dBFS) are below it.
* Speech starts after ``MIN_SPEECH_MS`` of consecutive voiced frames, so a click does not count.
  ``audio_start_ms`` is the onset minus ``prefix_padding_ms`` (not below 0), as the service reports
  the start of the audio it keeps for the turn.
* Speech stops once ``silence_duration_ms`` of consecutive unvoiced frames follow;
  ``audio_end_ms`` is the end of that silence (it includes the silence, as the service's does).

All times are milliseconds since the first audio appended on the connection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FRAME_MS", "MIN_SPEECH_MS", "EnergyVad", "VadEvent", "threshold_dbfs"]

FRAME_MS = 20
"""Analysis frame length in milliseconds."""

MIN_SPEECH_MS = 60
"""Consecutive voiced audio needed before speech is declared started."""


def threshold_dbfs(threshold: float) -> float:
    """Map the protocol's ``threshold`` (0.0-1.0) to the frame RMS in dBFS that counts as voice."""
    return -70.0 + 60.0 * threshold


@dataclass(frozen=True)
class VadEvent:
    """A VAD transition: ``kind`` is ``"started"`` or ``"stopped"``; ``ms`` is the reported time."""

    kind: str
    ms: int


class EnergyVad:
    """Streaming energy VAD over PCM16 mono at one sample rate.

    Args:
        sample_rate: Input sample rate in Hz.
        threshold: The protocol's ``threshold`` (0.0-1.0).
        prefix_padding_ms: Audio kept before the detected onset, in ms.
        silence_duration_ms: Silence that ends a turn, in ms.
        start_frames: Frames already analysed (keeps audio time running across reconfiguration).
    """

    def __init__(
        self,
        sample_rate: int,
        threshold: float = 0.5,
        prefix_padding_ms: int = 300,
        silence_duration_ms: int = 500,
        start_frames: int = 0,
    ) -> None:
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * FRAME_MS // 1000
        # Compare mean squares instead of dB per frame: cheaper and equivalent.
        self._min_mean_square = (10 ** (threshold_dbfs(threshold) / 20) * 32768.0) ** 2
        self.prefix_padding_ms = prefix_padding_ms
        self.silence_duration_ms = silence_duration_ms
        self._pending = np.zeros(0, dtype=np.int16)
        # Frames analysed since the start: audio time is frames * FRAME_MS.
        self._frames = start_frames
        self.in_speech = False
        self._voiced_run = 0
        self._silent_run = 0

    @property
    def audio_ms(self) -> int:
        """Milliseconds of audio analysed so far (whole frames)."""
        return self._frames * FRAME_MS

    def reset(self) -> None:
        """Forget the current turn (``input_audio_buffer.clear``); audio time keeps counting."""
        self._pending = np.zeros(0, dtype=np.int16)
        self.in_speech = False
        self._voiced_run = 0
        self._silent_run = 0

    def feed(self, pcm: bytes) -> list[VadEvent]:
        """Analyse more PCM16 little-endian audio and return the transitions it caused."""
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
        if self._pending.size:
            samples = np.concatenate([self._pending, samples])
        n_frames = samples.size // self.frame_samples
        used = n_frames * self.frame_samples
        self._pending = samples[used:].copy()
        if n_frames == 0:
            return []
        frames = samples[:used].astype(np.float64).reshape(n_frames, self.frame_samples)
        # Variation, not raw power: remove each frame's DC level first, so a constant signal
        # (0x00 bytes in G.711 decode to -32124 or -5504) is silence, as it sounds.
        frames -= frames.mean(axis=1, keepdims=True)
        voiced = (frames * frames).mean(axis=1) >= self._min_mean_square
        events: list[VadEvent] = []
        min_speech = MIN_SPEECH_MS // FRAME_MS
        min_silence = max(1, -(-self.silence_duration_ms // FRAME_MS))
        for is_voiced in voiced.tolist():
            self._frames += 1
            if not self.in_speech:
                self._voiced_run = self._voiced_run + 1 if is_voiced else 0
                if self._voiced_run >= min_speech:
                    onset_ms = (self._frames - self._voiced_run) * FRAME_MS
                    self.in_speech = True
                    self._silent_run = 0
                    events.append(VadEvent("started", max(0, onset_ms - self.prefix_padding_ms)))
            else:
                self._silent_run = 0 if is_voiced else self._silent_run + 1
                if self._silent_run >= min_silence:
                    self.in_speech = False
                    self._voiced_run = 0
                    events.append(VadEvent("stopped", self.audio_ms))
        return events
