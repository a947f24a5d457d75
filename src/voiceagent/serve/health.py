"""Operator routes: ``/healthz`` (alive), ``/readyz`` (taking conversations), ``/sessions``.

``/healthz`` and ``/readyz`` answer anyone: probes and load balancers cannot send a secret, and
they tell only "up"/"ready" (a status word and the loop's lag, nothing about a conversation).
``/sessions`` (and ``/metrics``, see :mod:`.metrics`) need the operator token when one is set.

The answers are decided here, once, by framework-free functions (:func:`health_answer`,
:func:`readiness_answer`, :func:`operator_allowed`): the aiohttp routes below and
:class:`~voiceagent.serve.ASGIVoiceApp` both call them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .registry import SessionRegistry

__all__ = [
    "OPERATOR_REFUSAL",
    "LoopMonitor",
    "add_health_routes",
    "health_answer",
    "operator_allowed",
    "readiness_answer",
]

UNRESPONSIVE_AFTER_S = 5.0
"""``/healthz`` fails when the loop monitor has not run for this long (a blocked loop)."""


class LoopMonitor:
    """Measures event-loop lag: how late a periodic wake-up runs.

    Args:
        interval_s: How often to wake up.
        unresponsive_after_s: ``responsive()`` is False once no wake-up ran for this long.
    """

    def __init__(
        self, interval_s: float = 0.25, unresponsive_after_s: float = UNRESPONSIVE_AFTER_S
    ) -> None:
        self.interval_s = interval_s
        self.unresponsive_after_s = unresponsive_after_s
        self.last_lag_s = 0.0
        self.last_beat = time.monotonic()
        self.listeners: list[Callable[[float], None]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start measuring on the running loop (once)."""
        if self._task is None:
            self.last_beat = time.monotonic()
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop measuring."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def responsive(self) -> bool:
        """False when the loop was blocked for ``unresponsive_after_s`` (and not yet back).

        That is: no wake-up for that long, or the last wake-up ran that late and none has run
        on time since. Both, because which runs first once a blocked loop is free again, a
        probe's handler or this monitor, depends on the server: either way the probe that
        waited through the block gets 503.
        """
        late = time.monotonic() - self.last_beat >= self.unresponsive_after_s + self.interval_s
        return not late and self.last_lag_s < self.unresponsive_after_s

    async def _run(self) -> None:
        while True:
            planned = time.monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            now = time.monotonic()
            self.last_lag_s = max(0.0, now - planned)
            self.last_beat = now
            for listener in self.listeners:
                listener(self.last_lag_s)


Answer = tuple[int, dict[str, Any]]
"""An HTTP status and the JSON body to send with it."""


def health_answer(monitor: LoopMonitor) -> Answer:
    """``/healthz``: 200 while the event loop runs, 503 once it has been blocked too long."""
    if not monitor.responsive():
        return 503, {"status": "event loop unresponsive"}
    return 200, {"status": "ok", "loop_lag_s": round(monitor.last_lag_s, 4)}


def readiness_answer(registry: SessionRegistry) -> Answer:
    """``/readyz``: 200 when a new conversation would be admitted, else 503 (draining, full)."""
    if registry.draining:
        return 503, {"status": "draining"}
    if not registry.ready:
        return 503, {"status": "full"}
    return 200, {"status": "ready"}


def operator_allowed(authorization: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header is ``Bearer <token>`` (always True without a token)."""
    if token is None:
        return True
    given = authorization or ""
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


OPERATOR_REFUSAL = (
    "operator route: send 'Authorization: Bearer <operator token>' "
    "(the server's --operator-token / VOICEAGENT_OPERATOR_TOKEN)\n"
)
"""The body of the 401 for a missing or wrong operator token (it never says what the token is)."""


def refuse_operator() -> web.HTTPUnauthorized:
    """The aiohttp 401 for a missing or wrong operator token."""
    return web.HTTPUnauthorized(text=OPERATOR_REFUSAL, headers={"WWW-Authenticate": "Bearer"})


_MONITOR: web.AppKey[LoopMonitor] = web.AppKey("voiceagent_loop_monitor", LoopMonitor)


def loop_monitor(app: web.Application) -> LoopMonitor:
    """The app's loop monitor (one per app, started with the app)."""
    monitor = app.get(_MONITOR)
    if monitor is None:
        monitor = app[_MONITOR] = LoopMonitor()

        async def start(_app: web.Application) -> None:
            monitor.start()

        async def stop(_app: web.Application) -> None:
            await monitor.stop()

        app.on_startup.append(start)
        app.on_cleanup.append(stop)
    return monitor


def add_health_routes(
    app: web.Application, registry: SessionRegistry, *, operator_token: str | None = None
) -> None:
    """Add ``GET /healthz``, ``GET /readyz`` and ``GET /sessions`` to ``app``.

    Args:
        app: The aiohttp application.
        registry: The live conversations (readiness and the snapshot come from it).
        operator_token: Required (as a bearer token) for ``/sessions``; None leaves it open,
            which is fine on loopback only.
    """
    monitor = loop_monitor(app)

    async def healthz(_request: web.Request) -> web.Response:
        status, body = health_answer(monitor)
        return web.json_response(body, status=status)

    async def readyz(_request: web.Request) -> web.Response:
        status, body = readiness_answer(registry)
        return web.json_response(body, status=status)

    async def sessions(request: web.Request) -> web.Response:
        if not operator_allowed(request.headers.get("Authorization"), operator_token):
            raise refuse_operator()
        return web.json_response(registry.snapshot())

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/sessions", sessions)
