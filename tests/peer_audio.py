"""Test backends with the capabilities a bridge declares: MemoryAudio (a real virtual device)
whose "peer" can hang up or fail, speaks G.711 natively, or acknowledges a flush late.
"""

from __future__ import annotations

import asyncio
from typing import Any

from voiceagent import AudioFormat, AudioListener
from voiceagent.audio.memory import MemoryAudio

__all__ = ["AckingPeer", "PeerAudio", "UlawPeer"]


class PeerAudio(MemoryAudio):
    """A MemoryAudio whose "peer" can hang up or break, as a bridge's does."""

    listener: AudioListener | None = None

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        self.started_with = fmt
        self.listener = listener
        await super().start(fmt, listener)

    def hang_up(self, reason: str) -> None:
        assert self.listener is not None
        self.listener.on_closed(reason)

    def fail(self, exc: BaseException) -> None:
        assert self.listener is not None
        self.listener.on_error(exc)


class UlawPeer(PeerAudio):
    """A phone line's bridge: G.711 u-law at 8 kHz, passed through untouched both ways."""

    @property
    def native_format(self) -> AudioFormat:
        return AudioFormat.native("g711_ulaw", 8000)


class AckingPeer(PeerAudio):
    """A browser-like peer: its played count is what it last reported; it reports after a flush.

    Until the first report every count is 0, so a session that truncates without waiting for
    the acknowledgement truncates at 0 ms (or deletes the item as unheard).
    """

    def __init__(self, *, acks: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acks = acks
        self.reported: dict[str, int] = {}
        self.items: set[str] = set()
        self.acknowledged = asyncio.Event()
        self.flushes = 0

    def flush(self) -> None:
        super().flush()
        self.flushes += 1
        self.acknowledged.clear()
        final = {item: super(AckingPeer, self).played_frames(item) for item in self.items}

        def report() -> None:  # the peer's report arrives over the network, a moment later
            self.reported.update(final)
            self.acknowledged.set()

        if self.acks:
            asyncio.get_running_loop().call_later(0.1, report)

    def play(self, item_id: str, pcm: bytes) -> None:
        self.items.add(item_id)
        super().play(item_id, pcm)

    def played_frames(self, item_id: str) -> int:
        return self.reported.get(item_id, 0)

    async def wait_flush_acknowledged(self) -> None:
        await self.acknowledged.wait()
