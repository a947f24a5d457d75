"""A backend with no microphone and a speaker that discards audio (text-only or headless apps)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .base import AudioListener
from .format import AudioFormat
from .wav import WavAudio

__all__ = ["NullAudio"]

logger = logging.getLogger(__name__)


class NullAudio:
    """No microphone; played audio is discarded but counted.

    Implements :class:`~voiceagent.audio.AudioBackend`.

    Args:
        realtime: How "played" is counted. False (default): every frame counts as played the
            moment ``play`` receives it, ``is_playing`` is always False and ``on_playback_idle``
            follows each ``play`` on the next loop iteration; ``flush`` has nothing to cut, so
            a barge-in truncates at the whole received audio. True: a virtual speaker consumes
            the audio in real time (the :class:`~voiceagent.audio.WavAudio` clock without
            files), so barge-in and truncation behave as with a device.
    """

    def __init__(self, *, realtime: bool = False) -> None:
        self.realtime = realtime
        self._clock: WavAudio | None = WavAudio(realtime=True) if realtime else None
        self._played: dict[str, int] = {}
        self._listener: AudioListener | None = None
        self._idle_pending: asyncio.Handle | None = None
        self._fmt = AudioFormat()

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Start (the virtual clock when ``realtime``)."""
        self._fmt = fmt
        self._listener = listener
        if self._clock is not None:
            await self._clock.start(fmt, listener)

    async def stop(self) -> None:
        """Stop; idempotent."""
        if self._idle_pending is not None:
            self._idle_pending.cancel()
            self._idle_pending = None
        if self._clock is not None:
            await self._clock.stop()

    def play(self, item_id: str, pcm: bytes) -> None:
        """Discard ``pcm``, counting its frames as played (instantly or by the clock)."""
        if self._clock is not None:
            self._clock.play(item_id, pcm)
            return
        frames = len(pcm) // self._fmt.bytes_per_frame
        self._played[item_id] = self._played.get(item_id, 0) + frames
        if self._idle_pending is None and self._listener is not None:
            self._idle_pending = asyncio.get_running_loop().call_soon(self._idle)

    def _idle(self) -> None:
        self._idle_pending = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.on_playback_idle()

    def flush(self) -> None:
        """Barge-in: drop what the virtual clock still holds (nothing when not ``realtime``)."""
        if self._clock is not None:
            self._clock.flush()

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` counted as played."""
        if self._clock is not None:
            return self._clock.played_frames(item_id)
        return self._played.get(item_id, 0)

    @property
    def is_playing(self) -> bool:
        """True while the virtual clock still holds audio (always False when not ``realtime``)."""
        return self._clock is not None and self._clock.is_playing
