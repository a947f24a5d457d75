"""The same page and WebSocket as a plain ASGI app, to mount in Starlette or FastAPI.

``app.mount("/voice", ASGIVoiceApp(factory))`` serves the page at ``/voice/`` and its socket at
``/voice/ws``. Plain ASGI (no Starlette import), so any ASGI server or framework can host it.

Admission goes through a :class:`~voiceagent.serve.SessionRegistry` (pass the one your other
channels share): past its limit, or while draining, the upgrade is refused before any Voice Live
connection, with HTTP 503 when the server offers the ``websocket.http.response`` extension, else
by accepting and closing at once with code 4429.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..bridges.web import ASSET_NAMES, read_asset
from .conversation import SessionMaker, hold_conversation
from .origin import origin_allowed
from .registry import TOO_MANY_SESSIONS, SessionRegistry
from .settings import Hooks, ServeLimits, maybe_await

__all__ = ["ASGIVoiceApp"]

log = logging.getLogger("voiceagent.serve")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _ASGISocket:
    def __init__(self, receive: Receive, send: Send, max_bytes: int) -> None:
        self._receive, self._send, self._max = receive, send, max_bytes
        self._closed = False

    async def receive(self) -> bytes | str | None:
        while not self._closed:
            event = await self._receive()
            if event["type"] == "websocket.disconnect":
                self._closed = True
                return None
            if event["type"] == "websocket.receive":
                if event.get("bytes") is not None:
                    return bytes(event["bytes"])
                if event.get("text") is not None:
                    return str(event["text"])
        return None

    async def send(self, message: bytes | str) -> None:
        if self._closed:
            return
        key = "bytes" if isinstance(message, bytes) else "text"
        await self._send({"type": "websocket.send", key: message})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self._closed:
            self._closed = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


class ASGIVoiceApp:
    """An ASGI app: ``GET /`` (and the page's files) and ``/ws`` (a conversation per socket).

    Args:
        maker: Builds each tab's session (a :class:`~voiceagent.SessionFactory`).
        hooks: authorize / choose / observe; ``request`` is the ASGI ``scope``.
        limits: See :class:`~voiceagent.serve.ServeLimits`.
        registry: Admits every conversation, shared with your other channels (default: a new
            one from ``limits``, closed by :meth:`aclose`).
    """

    def __init__(
        self,
        maker: SessionMaker,
        *,
        hooks: Hooks | None = None,
        limits: ServeLimits | None = None,
        registry: SessionRegistry | None = None,
    ) -> None:
        self.maker = maker
        self.hooks = hooks or Hooks()
        self.limits = limits or ServeLimits()
        self._owns_registry = registry is None
        self.registry = registry or SessionRegistry(
            self.limits.max_conversations, max_duration_s=self.limits.max_conversation_s
        )
        self.conversations: set[asyncio.Task[Any]] = set()

    async def aclose(self) -> None:
        """Stop the registry's watchdog if this app made the registry (call at shutdown)."""
        if self._owns_registry:
            await self.registry.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection (``http`` or ``websocket``)."""
        name = str(scope.get("path", "/")).removeprefix(str(scope.get("root_path", "")))
        name = name.lstrip("/")
        if scope["type"] == "http":
            await self._file(name or "index.html", send)
        elif scope["type"] == "websocket" and name == "ws":
            await self._socket(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _file(self, name: str, send: Send) -> None:
        if name not in ASSET_NAMES:
            await _respond(send, 404, b"not found\n", "text/plain")
            return
        body, content_type = read_asset(name)
        await _respond(send, 200, body, content_type)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        scheme = "https" if scope.get("scheme") == "wss" else "http"
        own = f"{scheme}://{headers.get('host', '')}"
        refusal = None
        if not origin_allowed(headers.get("origin"), own, self.limits.allowed_origins):
            log.warning("refused a WebSocket upgrade from origin %r", headers.get("origin"))
            refusal = 403
        elif self.hooks.authorize is not None and not await maybe_await(
            self.hooks.authorize(scope)
        ):
            refusal = 401
        event = await receive()  # websocket.connect
        if event["type"] != "websocket.connect":
            return
        if refusal is not None:
            await send({"type": "websocket.close", "code": 1008, "reason": f"refused ({refusal})"})
            return
        conversation = self.registry.admit("browser")  # before any Voice Live connection
        if conversation is None:
            await _refuse_busy(scope, send)
            return
        task = asyncio.current_task()
        assert task is not None
        self.conversations.add(task)
        try:
            await send({"type": "websocket.accept"})
            socket = _ASGISocket(receive, send, self.limits.max_frame_bytes)
            await hold_conversation(
                socket,
                self.maker,
                request=scope,
                hooks=self.hooks,
                limits=self.limits,
                conversation=conversation,
            )
        finally:
            self.conversations.discard(task)
            self.registry.release(conversation)


_BUSY = b"too many conversations at once (or the server is draining); try later\n"


async def _refuse_busy(scope: Scope, send: Send) -> None:
    """HTTP 503 on the upgrade where the server allows it, else close code 4429 at once."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"text/plain"), (b"retry-after", b"5")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": _BUSY})
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": TOO_MANY_SESSIONS, "reason": "too many"})


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"cache-control", b"no-cache"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
