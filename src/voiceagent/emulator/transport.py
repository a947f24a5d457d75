"""Frames on one accepted WebSocket: sending (with the connection's faults), receiving, dropping.

Every server event goes through :meth:`Transport.send_event`, which adds an ``event_id``, records
the event, applies the faults and serialises writes. Receiving hands each text or binary frame to
the session in order. A drop either aborts TCP (1006, no close frame) or runs a close handshake
in the background, so a caller never waits for the client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from .eventlog import EventLog
from .faults import Faults, GarbageFrames
from .ids import new_id
from .response import SessionClosedError

__all__ = ["Transport"]

logger = logging.getLogger(__name__)


class Transport:
    """The WebSocket of one session.

    Args:
        ws: The prepared server-side WebSocket.
        request: Its HTTP request (for aborting the TCP connection).
        faults: The faults to inject on this connection.
        sent: Where to record sent events, or ``None`` not to record them.
        label: Names the connection in log lines (the session id).
        on_drop: Called once when the connection is dropped or closed by the emulator.
    """

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        *,
        faults: Faults,
        sent: EventLog | None,
        label: str,
        on_drop: Callable[[], None],
    ) -> None:
        self._ws = ws
        self._request = request
        self.faults = faults
        self._sent = sent
        self._label = label
        self._on_drop = on_drop
        self.closed = False
        self._lock = asyncio.Lock()
        self._reader: asyncio.Future[None] | None = None
        self._dropping = False
        self._drop_done = asyncio.Event()
        self._closer: asyncio.Future[None] | None = None
        self._events_sent = 0
        self._dropped_mid_response = False
        self._garbage = GarbageFrames(faults)

    # -- sending -----------------------------------------------------------------------------

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send a server event (an ``event_id`` is added if missing), applying the faults.

        Raises:
            SessionClosedError: The connection is closed.
        """
        if self.closed:
            raise SessionClosedError
        async with self._lock:
            if self.faults.delay_ms > 0:
                await asyncio.sleep(self.faults.delay_ms / 1000.0)
            await self._send_json(event)
            self._events_sent += 1  # injected faults are not counted
            await self._after_send(event)

    async def inject(self, frame: str | bytes) -> None:
        """Send ``frame`` exactly as given: no encoding, event id, recording or faults.

        Raises:
            SessionClosedError: The connection is closed.
        """
        if self.closed:
            raise SessionClosedError
        async with self._lock:
            await self._send_frame(frame)

    async def _send_frame(self, frame: str | bytes) -> None:
        if self.closed:
            raise SessionClosedError
        try:
            if isinstance(frame, bytes):
                await self._ws.send_bytes(frame)
            else:
                await self._ws.send_str(frame)
        except (ConnectionError, RuntimeError) as exc:
            self.closed = True
            raise SessionClosedError from exc

    async def _send_json(self, event: dict[str, Any]) -> None:
        if self.closed:
            raise SessionClosedError
        event.setdefault("event_id", new_id("event"))
        await self._send_frame(json.dumps(event))
        if self._sent is not None:
            self._sent.append(event)

    async def _after_send(self, event: dict[str, Any]) -> None:
        faults = self.faults
        count = self._events_sent
        if faults.malformed_json_after == count:
            await self._send_frame('{"type": "response.audio.delta", "delta": ')
        if faults.unknown_event_after == count:
            await self._send_json({"type": "emulator.unknown_event", "detail": "injected fault"})
        if faults.error_after == count:
            await self._send_json(
                {
                    "type": "error",
                    "error": {
                        "type": "server_error",
                        "code": "emulated_fault",
                        "message": "Injected fault: emulated server error.",
                        "param": None,
                        "event_id": None,
                    },
                }
            )
        garbage = self._garbage.after(count)
        if garbage is not None:
            await self._send_frame(garbage)
        drop = faults.drop_after_events is not None and count >= faults.drop_after_events
        if (
            faults.drop_mid_response
            and not self._dropped_mid_response
            and event.get("type") == "response.audio.delta"
        ):
            self._dropped_mid_response = drop = True
        if drop:
            await self.drop(faults.drop_code)
            raise SessionClosedError

    # -- receiving ---------------------------------------------------------------------------

    async def receive(
        self,
        on_text: Callable[[str], Awaitable[None]],
        on_binary: Callable[[bytes], Awaitable[None]],
    ) -> None:
        """Hand every frame to ``on_text``/``on_binary``, in order, until the socket closes."""
        self._reader = asyncio.ensure_future(self._read_loop(on_text, on_binary))
        await asyncio.wait([self._reader])

    async def _read_loop(
        self,
        on_text: Callable[[str], Awaitable[None]],
        on_binary: Callable[[bytes], Awaitable[None]],
    ) -> None:
        try:
            async for msg in self._ws:
                if msg.type == WSMsgType.TEXT:
                    await on_text(str(msg.data))
                elif msg.type == WSMsgType.BINARY:
                    await on_binary(bytes(msg.data))
                elif msg.type == WSMsgType.ERROR:
                    break
        except SessionClosedError:
            pass
        finally:
            self.closed = True

    async def finish(self) -> None:
        """Mark the connection closed once a drop in progress has finished its close handshake."""
        if self._dropping and not self._drop_done.is_set():
            await self._drop_done.wait()
        self.closed = True

    # -- dropping ----------------------------------------------------------------------------

    async def drop(self, code: int = 1006) -> None:
        """Drop the connection: 1006 aborts TCP without a close frame; other codes send one.

        Returns once the drop has started; a close handshake finishes in the background. Takes
        no send lock: a send blocked on a client that stopped reading must not block a drop.
        """
        if self.closed:
            return
        self.closed = True
        self._dropping = True
        logger.info("session %s: dropping the connection (code %s)", self._label, code)
        self._on_drop()
        if code == 1006:
            self._abort()
            self._drop_done.set()
            return
        # The close handshake needs the client to answer, so it runs in the background: the
        # caller (a test, or a send inside a handler) must not wait for the client.
        self._closer = asyncio.ensure_future(self._close_handshake(code))

    async def _close_handshake(self, code: int) -> None:
        try:
            # aiohttp closes the socket at once (without waiting for the client's close reply,
            # which makes clients see 1006) when close() runs while another task is inside
            # receive(); so stop the reader first and let close() do the full handshake.
            reader = self._reader
            if reader is not None and not reader.done():
                reader.cancel()
                await asyncio.wait([reader])
            try:
                await asyncio.wait_for(self._ws.close(code=code, message=b"emulated drop"), 5.0)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                self._abort()
        finally:
            self._drop_done.set()

    def _abort(self) -> None:
        """Abort the TCP connection: no close frame, the client sees 1006."""
        transport = self._request.transport
        if transport is not None:
            transport.abort()
