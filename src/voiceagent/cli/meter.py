"""A microphone level meter wrapping any backend through the public ``AudioBackend`` contract."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from voiceagent.audio import wait_until_ready

if TYPE_CHECKING:
    from voiceagent import AudioBackend, AudioFormat, AudioListener

__all__ = ["SILENT_DBFS", "MeteredAudio", "dbfs"]

SILENT_DBFS = -90.0


def dbfs(pcm: bytes) -> float:
    """RMS level of PCM16 mono in dBFS (``SILENT_DBFS`` for silence)."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], "<i2").astype(np.float64)
    if samples.size == 0:
        return SILENT_DBFS
    rms = math.sqrt(float(np.mean(samples * samples))) / 32768.0
    return max(SILENT_DBFS, 20.0 * math.log10(rms)) if rms > 0 else SILENT_DBFS


class _MeteringListener:
    """Passes every callback on; measures microphone blocks on the way."""

    def __init__(self, owner: MeteredAudio, inner: AudioListener) -> None:
        self._owner = owner
        self._inner = inner

    def on_input(self, pcm: bytes) -> None:
        self._owner.level_dbfs = dbfs(pcm)
        self._inner.on_input(pcm)

    def on_playback_idle(self) -> None:
        self._inner.on_playback_idle()

    def on_closed(self, reason: str) -> None:
        self._inner.on_closed(reason)

    def on_error(self, exc: BaseException) -> None:
        self._inner.on_error(exc)

    async def wait_ready(self) -> None:
        await wait_until_ready(self._inner)


class MeteredAudio:
    """An :class:`~voiceagent.AudioBackend` that forwards to ``inner`` and measures the mic.

    Args:
        inner: The backend doing the work (devices, WAV files, memory).

    Attributes:
        level_dbfs: Level of the last microphone block, in dBFS.
    """

    def __init__(self, inner: AudioBackend) -> None:
        self.inner = inner
        self.level_dbfs = SILENT_DBFS

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Start ``inner`` with a listener that measures the microphone."""
        await self.inner.start(fmt, _MeteringListener(self, listener))

    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue assistant audio on ``inner``."""
        self.inner.play(item_id, pcm)

    def flush(self) -> None:
        """Discard queued audio on ``inner``."""
        self.inner.flush()

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` that ``inner`` played."""
        return self.inner.played_frames(item_id)

    @property
    def is_playing(self) -> bool:
        """Whether ``inner`` has audio left to play."""
        return self.inner.is_playing

    async def stop(self) -> None:
        """Stop ``inner``."""
        await self.inner.stop()
