"""A microphone level meter wrapping any backend through the public ``AudioBackend`` contract.

The session looks for optional capabilities on the backend it is given (``isinstance`` with
the declared protocols of :mod:`voiceagent.audio`): a wrapper that hid them would turn a phone
line's G.711 passthrough into PCM16, skip a browser's acknowledged flush, lose local
interruption and the metrics' counters. So a :class:`MeteredAudio` has exactly the optional
capabilities of the backend it wraps, no more, no fewer, each forwarded to it; and it reads
microphone blocks in the format ``start`` was given (G.711 is decoded before it is measured).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from voiceagent.audio import (
    AcknowledgedFlush,
    NativeFormatBackend,
    PausableOutput,
    ReportsStats,
    decode_pcm16,
    wait_until_ready,
)

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
    """Passes every callback on; measures microphone blocks (in ``fmt``) on the way."""

    def __init__(self, owner: MeteredAudio, inner: AudioListener, fmt: AudioFormat) -> None:
        self._owner = owner
        self._inner = inner
        self._fmt = fmt

    def on_input(self, pcm: bytes) -> None:
        self._owner.level_dbfs = dbfs(decode_pcm16(pcm, self._fmt.encoding))
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

    ``MeteredAudio(inner)`` is an instance of a subclass that adds, for each optional
    capability ``inner`` declares (``PausableOutput``, ``NativeFormatBackend``,
    ``AcknowledgedFlush``, ``ReportsStats``), the members forwarding to it.

    Args:
        inner: The backend doing the work (devices, WAV files, memory, a peer).

    Attributes:
        level_dbfs: Level of the last microphone block, in dBFS.
    """

    _variants: ClassVar[dict[tuple[type, ...], type[MeteredAudio]]] = {}

    def __new__(cls, inner: AudioBackend) -> MeteredAudio:
        """An instance of the subclass with ``inner``'s optional capabilities."""
        if cls is MeteredAudio:
            cls = _variant_for(inner)
        return super().__new__(cls)

    def __init__(self, inner: AudioBackend) -> None:
        self.inner = inner
        self.level_dbfs = SILENT_DBFS

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Start ``inner`` with a listener that measures the microphone."""
        await self.inner.start(fmt, _MeteringListener(self, listener, fmt))

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


class _ForwardsPause:
    inner: Any

    def pause_playback(self) -> bool:
        """Pause ``inner``'s playback (see :class:`~voiceagent.audio.PausableOutput`)."""
        return bool(self.inner.pause_playback())

    def resume_playback(self) -> bool:
        """Resume ``inner``'s playback."""
        return bool(self.inner.resume_playback())


class _ForwardsNativeFormat:
    inner: Any

    @property
    def native_format(self) -> AudioFormat:
        """``inner``'s native format (see :class:`~voiceagent.audio.NativeFormatBackend`)."""
        fmt: AudioFormat = self.inner.native_format
        return fmt


class _ForwardsFlushAck:
    inner: Any

    async def wait_flush_acknowledged(self) -> None:
        """Wait until ``inner``'s peer confirmed a flush (``AcknowledgedFlush``)."""
        await self.inner.wait_flush_acknowledged()


class _ForwardsStats:
    inner: Any

    @property
    def stats(self) -> Any:
        """``inner``'s counters (see :class:`~voiceagent.audio.ReportsStats`)."""
        return self.inner.stats


_CAPABILITIES: tuple[tuple[type, type], ...] = (
    (PausableOutput, _ForwardsPause),
    (NativeFormatBackend, _ForwardsNativeFormat),
    (AcknowledgedFlush, _ForwardsFlushAck),
    (ReportsStats, _ForwardsStats),
)


def _variant_for(inner: object) -> type[MeteredAudio]:
    """The :class:`MeteredAudio` subclass with exactly ``inner``'s optional capabilities."""
    mixins = tuple(mixin for protocol, mixin in _CAPABILITIES if isinstance(inner, protocol))
    variant = MeteredAudio._variants.get(mixins)
    if variant is None:
        name = "".join(m.__name__.removeprefix("_Forwards") for m in mixins)
        bases = (*mixins, MeteredAudio)
        variant = cast("type[MeteredAudio]", type(f"MeteredAudio{name}", bases, {}))
        MeteredAudio._variants[mixins] = variant
    return variant
