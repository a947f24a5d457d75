"""The aiohttp side: the page's files and its WebSocket, as routes to add to any aiohttp app."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web

from ..bridges.web import ASSET_NAMES, read_asset
from .conversation import SessionMaker, hold_conversation
from .origin import origin_allowed
from .registry import SessionRegistry, install_registry
from .settings import Hooks, ServeLimits, maybe_await

__all__ = ["add_page_routes"]

log = logging.getLogger("voiceagent.serve")

_CONVERSATIONS: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("voiceagent_conversations", set)


class _AiohttpSocket:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws

    async def receive(self) -> bytes | str | None:
        while True:
            msg = await self.ws.receive()
            if msg.type is WSMsgType.BINARY:
                return bytes(msg.data)
            if msg.type is WSMsgType.TEXT:
                return str(msg.data)
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return None

    async def send(self, message: bytes | str) -> None:
        if self.ws.closed:
            return
        if isinstance(message, bytes):
            await self.ws.send_bytes(message)
        else:
            await self.ws.send_str(message)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code=code, message=reason.encode())


def add_page_routes(
    app: web.Application,
    maker: SessionMaker,
    *,
    prefix: str = "",
    hooks: Hooks | None = None,
    limits: ServeLimits | None = None,
) -> None:
    """Serve the page at ``{prefix}/`` and its WebSocket at ``{prefix}/ws`` on ``app``.

    Args:
        app: The aiohttp application (yours, or :func:`~voiceagent.serve.create_app`'s).
        maker: Builds each tab's session: a :class:`~voiceagent.SessionFactory`.
        prefix: Mount point, e.g. ``"/voice"`` (the page finds its socket relative to itself).
        hooks: authorize / choose / observe.
        limits: Frame size, message rate, conversation length, conversations at once, origins.
    """
    hooks, limits = hooks or Hooks(), limits or ServeLimits()
    prefix = prefix.rstrip("/")
    conversations: set[asyncio.Task[Any]] = set()
    # shared with the app's other channels when create_app (or the app's owner) installed one
    registry = install_registry(
        app, SessionRegistry(limits.max_conversations, max_duration_s=limits.max_conversation_s)
    )

    async def page_file(request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name") or "index.html"
        if name not in ASSET_NAMES:
            raise web.HTTPNotFound()
        body, content_type = read_asset(name)
        return web.Response(
            body=body,
            headers={
                "Content-Type": content_type,
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def socket(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        own = f"{request.scheme}://{request.host}"
        if not origin_allowed(origin, own, limits.allowed_origins):
            log.warning("refused a WebSocket upgrade from origin %r", origin)
            raise web.HTTPForbidden(
                text="this origin may not open a conversation; the server's allowed origins "
                "are its own and those given with --allow-origin\n"
            )
        if hooks.authorize is not None and not await maybe_await(hooks.authorize(request)):
            raise web.HTTPUnauthorized(text="not authorized to open a conversation\n")
        conversation = registry.admit("browser")  # before any Voice Live connection
        if conversation is None:
            raise web.HTTPServiceUnavailable(
                text="too many conversations at once (or the server is draining); try later\n",
                headers={"Retry-After": "5"},
            )
        ws = web.WebSocketResponse(max_msg_size=4 * limits.max_frame_bytes, heartbeat=30)
        task = asyncio.current_task()
        assert task is not None
        conversations.add(task)
        try:
            await ws.prepare(request)
            await hold_conversation(
                _AiohttpSocket(ws),
                maker,
                request=request,
                hooks=hooks,
                limits=limits,
                conversation=conversation,
            )
        finally:
            conversations.discard(task)
            registry.release(conversation)
        return ws

    app.router.add_get(prefix + "/", page_file)
    app.router.add_get(prefix + "/ws", socket)
    app.router.add_get(prefix + "/{name}", page_file)
    app[_CONVERSATIONS] = conversations
