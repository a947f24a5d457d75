"""The same page and WebSocket as a plain ASGI app, to mount in Starlette or FastAPI.

``app.mount("/voice", ASGIVoiceApp(factory))`` serves the page at ``/voice/`` and its socket at
``/voice/ws``. Plain ASGI (no Starlette import), so any ASGI server or framework can host it.

Admission goes through a :class:`~voiceagent.serve.SessionRegistry` (pass the one your other
channels share): past its limit, or while draining, the upgrade is refused before any Voice Live
connection, with HTTP 503 when the server offers the ``websocket.http.response`` extension, else
by accepting and closing at once with code 4429.

The operator's routes are the aiohttp app's, decided by the same functions (:mod:`.health`,
:mod:`.metrics`): ``/healthz`` and ``/readyz`` open to probes, ``/sessions`` and ``/metrics``
behind the operator token when one is given. :meth:`ASGIVoiceApp.drain` drains; an ASGI app
owns no signals, so ``lifespan.shutdown`` (when the server sends it to this app) drains too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..bridges.web import ASSET_NAMES, read_asset
from .conversation import SessionMaker, hold_conversation
from .drain import DEFAULT_DRAIN_TIMEOUT_S, Drain
from .health import (
    OPERATOR_REFUSAL,
    LoopMonitor,
    health_answer,
    operator_allowed,
    readiness_answer,
)
from .metrics import METRICS_MISSING, serve_metrics
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
    """An ASGI app: the page, ``/ws`` (a conversation per socket) and the operator's routes.

    ``GET /`` and the page's files; ``/healthz``, ``/readyz``, ``/sessions``, ``/metrics``.

    Args:
        maker: Builds each tab's session (a :class:`~voiceagent.SessionFactory`).
        hooks: authorize / choose / observe; ``request`` is the ASGI ``scope``.
        limits: See :class:`~voiceagent.serve.ServeLimits`.
        registry: Admits every conversation, shared with your other channels (default: a new
            one from ``limits``, closed by :meth:`aclose`).
        operator_token: Bearer token ``/sessions`` and ``/metrics`` require (None: open, fine
            on loopback only). ``/healthz`` and ``/readyz`` never need it.
        drain_timeout_s: How long :meth:`drain` (and ``lifespan.shutdown``) lets live
            conversations go on before closing them.
    """

    def __init__(
        self,
        maker: SessionMaker,
        *,
        hooks: Hooks | None = None,
        limits: ServeLimits | None = None,
        registry: SessionRegistry | None = None,
        operator_token: str | None = None,
        drain_timeout_s: float = DEFAULT_DRAIN_TIMEOUT_S,
    ) -> None:
        if drain_timeout_s < 0:
            raise ValueError(f"drain_timeout_s must be 0 or more seconds, got {drain_timeout_s}")
        self.maker = maker
        self.hooks = hooks or Hooks()
        self.limits = limits or ServeLimits()
        self._owns_registry = registry is None
        self.registry = registry or SessionRegistry(
            self.limits.max_conversations, max_duration_s=self.limits.max_conversation_s
        )
        self.conversations: set[asyncio.Task[Any]] = set()
        self.drain_timeout_s = drain_timeout_s
        self.monitor = LoopMonitor()
        self.metrics = serve_metrics(self.registry)
        if self.metrics is not None:
            self.monitor.listeners.append(self.metrics.loop_lag.observe)
        self._operator_token = operator_token
        self._drain: asyncio.Future[bool] | None = None

    def __repr__(self) -> str:  # never the operator token
        return f"<ASGIVoiceApp live={len(self.registry.live)} draining={self.registry.draining}>"

    async def drain(self, timeout_s: float | None = None) -> bool:
        """Drain: readiness off and new conversations refused at once; live ones go on.

        Waits until every live conversation of the registry (every channel sharing it) has
        ended, or ``timeout_s`` (default ``drain_timeout_s``) has passed; then closes those
        left, each telling the service what its user heard, and waits for their sockets to
        close. Safe to call twice (the second call waits for the first).

        Returns:
            True when every conversation ended by itself.
        """
        if self._drain is None:
            timeout = self.drain_timeout_s if timeout_s is None else timeout_s
            self._drain = asyncio.ensure_future(self._run_drain(Drain(self.registry, timeout)))
        return await asyncio.shield(self._drain)

    async def _run_drain(self, drain: Drain) -> bool:
        drain.begin()
        finished = await drain.run()
        if self.conversations:  # their sockets' close frames, after the sessions closed
            await asyncio.wait(set(self.conversations), timeout=15)
        return finished

    async def aclose(self) -> None:
        """Stop the loop monitor, and the registry's watchdog if this app made the registry."""
        await self.monitor.stop()
        if self._owns_registry:
            await self.registry.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection (``http``, ``websocket`` or ``lifespan``)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        self.monitor.start()  # without lifespan (mounted, or lifespan off): on first use
        name = str(scope.get("path", "/")).removeprefix(str(scope.get("root_path", "")))
        name = name.lstrip("/")
        if scope["type"] == "http":
            if name in _OPERATOR_ROUTES:
                await self._operator(name, scope, send)
            else:
                await self._file(name or "index.html", send)
        elif scope["type"] == "websocket" and name == "ws":
            await self._socket(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                self.monitor.start()
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                try:
                    await self.drain()
                    await self.aclose()
                except Exception as exc:
                    log.exception("the voice app's shutdown failed")
                    message = f"the voice app's drain failed: {type(exc).__name__}"
                    await send({"type": "lifespan.shutdown.failed", "message": message})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _operator(self, name: str, scope: Scope, send: Send) -> None:
        if name == "healthz":
            await _respond_json(send, *health_answer(self.monitor))
            return
        if name == "readyz":
            await _respond_json(send, *readiness_answer(self.registry))
            return
        if not operator_allowed(_header(scope, b"authorization"), self._operator_token):
            extra = [(b"www-authenticate", b"Bearer")]
            await _respond(send, 401, OPERATOR_REFUSAL.encode(), "text/plain", extra)
        elif name == "sessions":
            await _respond_json(send, 200, self.registry.snapshot())
        elif self.metrics is None:
            await _respond(send, 501, METRICS_MISSING.encode(), "text/plain")
        else:
            body, content_type = self.metrics.render()
            await _respond(send, 200, body, content_type)

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


_OPERATOR_ROUTES = frozenset({"healthz", "readyz", "sessions", "metrics"})
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


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _respond_json(send: Send, status: int, body: dict[str, Any]) -> None:
    await _respond(send, status, json.dumps(body).encode(), "application/json")


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-cache"),
                (b"x-content-type-options", b"nosniff"),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
