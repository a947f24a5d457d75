"""Serve voice conversations to browsers: the page, its WebSocket, one session per tab.

Above the session, like ``voiceagent.cli``: :func:`create_app` (aiohttp), :func:`add_page_routes`
(mount in your aiohttp app), :class:`ASGIVoiceApp` (mount in Starlette/FastAPI), with
:class:`Hooks` (authorize, choose, observe) and :class:`ServeLimits`.
"""

from __future__ import annotations

from .app import PhoneSettings, create_app
from .asgi import ASGIVoiceApp
from .conversation import PageSocket, SessionMaker, hold_conversation
from .drain import Drain
from .logformat import JsonLogFormatter, json_log_handler, log_format
from .origin import origin_allowed
from .registry import SessionRegistry
from .settings import Choice, Hooks, ServeLimits
from .telephony import add_phone_routes
from .web import add_page_routes

__all__ = [
    "ASGIVoiceApp",
    "Choice",
    "Drain",
    "Hooks",
    "JsonLogFormatter",
    "PageSocket",
    "PhoneSettings",
    "ServeLimits",
    "SessionMaker",
    "SessionRegistry",
    "add_page_routes",
    "add_phone_routes",
    "create_app",
    "hold_conversation",
    "json_log_handler",
    "log_format",
    "origin_allowed",
]
