"""The user's voice, from the backend to the service: one queue, one sender.

Blocks arrive on the event loop thread (the backend hands them over) and wait in a bounded
queue; the send task takes every block already waiting and sends them as one
``input_audio_buffer.append``, so a busy loop sends fewer, larger messages and an idle one never
waits. For many sessions in one process, ``send_batch_ms`` gathers that much audio per append
(fewer WebSocket messages, at the cost of that much latency). Beyond the queue's bound the
oldest blocks are dropped: stale speech is worse than a gap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..audio.codec import InputEncoder
from ..voicelive.wire import ConnectionLost, Wire

__all__ = ["Microphone"]

log = logging.getLogger("voiceagent.session")

QUEUE_BLOCKS = 50
"""Blocks that may wait (1 s at 20 ms blocks)."""


class Microphone:
    """Microphone blocks to the service.

    Args:
        encoder: Device PCM to the wire format.
        wire: Gives the current connection when audio may be sent, else None.
    """

    def __init__(
        self, encoder: InputEncoder, wire: Callable[[], Wire | None], *, batch_bytes: int = 0
    ) -> None:
        self._encoder = encoder
        self._wire = wire
        self._batch = batch_bytes  # > 0: wait for this much audio per append (server side)
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUE_BLOCKS)
        self.dropped_blocks = 0
        """Blocks dropped because the network could not keep up."""

    def on_input(self, pcm: bytes) -> None:
        """A block from the backend (event loop thread); never blocks."""
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped_blocks += 1
            if self.dropped_blocks in (1, 100, 1000):
                log.warning("network too slow: dropped %d microphone blocks", self.dropped_blocks)
        self._queue.put_nowait(pcm)

    async def run(self) -> None:
        """Send blocks until cancelled."""
        queue = self._queue
        batch = self._batch
        passthrough = self._encoder.passthrough
        while True:
            blocks = [await queue.get()]
            if batch:
                size = len(blocks[0])
                while size < batch:  # batching asked for: wait for the rest of the batch
                    blocks.append(await queue.get())
                    size += len(blocks[-1])
            while not queue.empty():  # blocks already waiting go as one append
                blocks.append(queue.get_nowait())
            wire = self._wire()
            if wire is None:
                continue  # reconnecting: stale speech is dropped, not replayed later
            if passthrough:  # PCM16 at the device rate: nothing to encode
                audio = blocks[0] if len(blocks) == 1 else b"".join(blocks)
            else:
                encode = self._encoder.encode
                audio = b"".join([encode(block) for block in blocks])
            try:
                await wire.append_audio(audio)
            except ConnectionLost:
                continue  # the receive loop sees the same drop and reconnects
