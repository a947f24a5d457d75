"""``create_app``: the aiohttp application of ``voiceagent serve``, a composition of routes.

Other features (telephony webhooks, health) add their own routes with their own ``add_*``
function; this module only composes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from .conversation import SessionMaker
from .health import add_health_routes
from .metrics import add_metrics_route
from .registry import SessionRegistry, install_registry
from .settings import Hooks, ServeLimits
from .web import add_page_routes

__all__ = ["PhoneSettings", "create_app"]


def create_app(
    maker: SessionMaker,
    *,
    hooks: Hooks | None = None,
    limits: ServeLimits | None = None,
    registry: SessionRegistry | None = None,
    operator_token: str | None = None,
    phone: PhoneSettings | None = None,
) -> web.Application:
    """An aiohttp app with the page at ``/`` and a conversation per WebSocket at ``/ws``.

    Also ``/healthz``, ``/readyz``, ``/sessions`` and ``/metrics`` (the operator's routes).

    Args:
        maker: Builds each tab's session (a :class:`~voiceagent.SessionFactory`).
        hooks: authorize / choose / observe (see :class:`~voiceagent.serve.Hooks`).
        limits: See :class:`~voiceagent.serve.ServeLimits`.
        registry: The live conversations of every channel (default: one from ``limits``).
        operator_token: Bearer token ``/sessions`` and ``/metrics`` require (None: open).
        phone: Also serve phone calls (``/twilio/voice``, ``/acs/events``, ``/media/*``).
    """
    limits = limits or ServeLimits()
    app = web.Application()
    registry = install_registry(
        app,
        registry
        or SessionRegistry(limits.max_conversations, max_duration_s=limits.max_conversation_s),
    )
    add_health_routes(app, registry, operator_token=operator_token)
    add_metrics_route(app, registry, operator_token=operator_token)
    add_page_routes(app, maker, hooks=hooks, limits=limits)
    if phone is not None:
        from .telephony import add_phone_routes

        add_phone_routes(
            app,
            maker,
            public_url=phone.public_url,
            twilio_auth_token=phone.twilio_auth_token,
            acs_connection_string=phone.acs_connection_string,
            acs_events_secret=phone.acs_events_secret,
            acs_events_unauthenticated=phone.acs_events_unauthenticated,
            acs_resource_id=phone.acs_resource_id,
            acs_jwks_url=phone.acs_jwks_url,
            signing_secret=phone.signing_secret,
        )
    return app


@dataclass(frozen=True)
class PhoneSettings:
    """Where carriers reach this server and the carriers' secrets (never in a repr).

    ``acs_events_secret`` is the ``?code=`` Event Grid must send to ``/acs/events``;
    ``acs_events_unauthenticated`` accepts ACS events without one (local testing only).
    ``signing_secret`` signs the calls' tokens (``VOICEAGENT_SIGNING_SECRET``: 32+ characters,
    the same on every replica); None: a random one of this process's own (one replica).
    """

    public_url: str | None
    twilio_auth_token: str | None = field(default=None, repr=False)
    acs_connection_string: str | None = field(default=None, repr=False)
    acs_events_secret: str | None = field(default=None, repr=False)
    acs_events_unauthenticated: bool = False
    acs_resource_id: str | None = None
    acs_jwks_url: str | None = None
    signing_secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.signing_secret is not None:
            from .signed_tokens import check_signing_secret

            check_signing_secret(self.signing_secret)
        if self.acs_events_secret is not None:
            from .acs_events import check_events_secret

            check_events_secret(self.acs_events_secret)
