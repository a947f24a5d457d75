"""``create_app``: the aiohttp application of ``voiceagent serve``, a composition of routes.

Other features (telephony webhooks, health) add their own routes with their own ``add_*``
function; this module only composes them.
"""

from __future__ import annotations

from aiohttp import web

from .conversation import SessionMaker
from .settings import Hooks, ServeLimits
from .web import add_page_routes

__all__ = ["create_app"]


def create_app(
    maker: SessionMaker, *, hooks: Hooks | None = None, limits: ServeLimits | None = None
) -> web.Application:
    """An aiohttp app with the page at ``/`` and a conversation per WebSocket at ``/ws``.

    Args:
        maker: Builds each tab's session (a :class:`~voiceagent.SessionFactory`).
        hooks: authorize / choose / observe (see :class:`~voiceagent.serve.Hooks`).
        limits: See :class:`~voiceagent.serve.ServeLimits`.
    """
    app = web.Application()
    add_page_routes(app, maker, hooks=hooks, limits=limits)
    return app
