"""Serve voice conversations to browsers: the page, its WebSocket, one session per tab.

Above the session, like ``voiceagent.cli``: :func:`create_app` (aiohttp), :func:`add_page_routes`
(mount in your aiohttp app), :class:`ASGIVoiceApp` (mount in Starlette/FastAPI), with
:class:`Hooks` (authorize, choose, observe) and :class:`ServeLimits`.
"""

from __future__ import annotations

from .app import create_app
from .asgi import ASGIVoiceApp
from .conversation import PageSocket, SessionMaker, hold_conversation
from .drain import Drain
from .origin import origin_allowed
from .registry import SessionRegistry
from .settings import Choice, Hooks, ServeLimits
from .web import add_page_routes

__all__ = [
    "ASGIVoiceApp",
    "Choice",
    "Drain",
    "Hooks",
    "PageSocket",
    "ServeLimits",
    "SessionMaker",
    "SessionRegistry",
    "add_page_routes",
    "create_app",
    "hold_conversation",
    "origin_allowed",
]
