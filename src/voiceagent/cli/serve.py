"""``voiceagent serve``: the browser page and its WebSocket, one conversation per tab.

The same connection flags, environment and ``.env`` as ``voiceagent run``; the key or token
stays in this process (the page talks to this server only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator
from typing import Any

from .run import _agent, _credential, add_connection_flags
from .serve_ops import OPERATOR_NOTE, operations
from .settings import MissingSettings, RunSettings, read_env, resolve

__all__ = ["add_arguments", "serve_command"]

QUOTA_WARNING = (
    "voiceagent serve: WARNING: listening on {host}, beyond this machine, with no "
    "authorization: anyone who can reach http://{host}:{port}/ can talk to the agent and "
    "spends your Azure quota. Put it behind your own authentication (see docs/browser.md: "
    "the authorize hook) or bind to 127.0.0.1."
)

ACS_EVENTS_WARNING = (
    "WARNING: UNAUTHENTICATED ACS EVENTS (--allow-unauthenticated-acs-events): anyone who can "
    "reach /acs/events can make this server answer calls. Local testing only: set "
    "ACS_EVENTS_SECRET and subscribe Event Grid to <public url>/acs/events?code=<it>."
)


SIGNING_SECRET_WARNING = (
    "WARNING: VOICEAGENT_SIGNING_SECRET is not set: phone-call tokens are signed with a random "
    "secret of this process, so with several replicas a Twilio media stream or an ACS callback "
    "that reaches another one is refused. Give every replica the same VOICEAGENT_SIGNING_SECRET "
    "(32+ random characters; environment only, never a flag)."
)


def add_arguments(serve: argparse.ArgumentParser) -> None:
    """Add the ``serve`` flags: ``run``'s connection settings plus the server's own."""
    add_connection_flags(serve)
    ours = serve.add_argument_group("server")
    ours.add_argument(
        "--emulator", action="store_true", help="serve an embedded local emulator (no Azure)"
    )
    ours.add_argument("--greeting", default=None, help="'llm' (the agent greets) or a TEXT to say")
    ours.add_argument(
        "--avatar",
        default=None,
        metavar="CHARACTER:STYLE",
        help="a talking avatar in the page, e.g. lisa:casual-sitting (docs/avatar.md)",
    )
    ours.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    ours.add_argument("--port", type=int, default=8080, help="port (8080; 0 = any free port)")
    ours.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept conversations from pages of this origin (https://app.example.com); "
        "repeatable. The page's own origin is always accepted",
    )
    ours.add_argument(
        "--max-sessions",
        "--max-conversations",
        dest="max_conversations",
        type=int,
        default=None,
        help="conversations at once, every channel together; the next is refused before any "
        "Voice Live connection [VOICEAGENT_MAX_SESSIONS] (50)",
    )
    ours.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="end a conversation with no speech and no reply for this long "
        "[VOICEAGENT_IDLE_TIMEOUT] (no limit)",
    )
    ours.add_argument(
        "--drain-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, let live conversations go on this long before closing them "
        "[VOICEAGENT_DRAIN_TIMEOUT] (3600)",
    )
    ours.add_argument(
        "--operator-token",
        default=None,
        help="bearer token for /sessions and /metrics [VOICEAGENT_OPERATOR_TOKEN]; needed "
        "beyond loopback (without one they are closed there)",
    )
    ours.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the https address phone carriers reach, for /twilio/voice and /acs/events "
        "[VOICEAGENT_PUBLIC_URL]; secrets from TWILIO_AUTH_TOKEN, ACS_CONNECTION_STRING and "
        "ACS_EVENTS_SECRET (the ?code= of the Event Grid subscription's /acs/events URL); "
        "VOICEAGENT_SIGNING_SECRET (32+ characters, the same on every replica) signs the "
        "calls' tokens",
    )
    ours.add_argument(
        "--allow-unauthenticated-acs-events",
        action="store_true",
        default=None,
        help="accept /acs/events without ACS_EVENTS_SECRET: anyone reaching it can make the "
        "server answer calls; local testing only [VOICEAGENT_ACS_EVENTS_UNAUTHENTICATED=1]",
    )
    ours.add_argument(
        "--log-format",
        default=None,
        choices=("text", "json"),
        help="json: one JSON object per log record on stderr, for log collectors (at least "
        "INFO) [VOICEAGENT_LOG_FORMAT] (text)",
    )


def _phone(args: argparse.Namespace) -> Any:
    from os import environ

    from voiceagent.serve import PhoneSettings

    public_url = args.public_url or environ.get("VOICEAGENT_PUBLIC_URL") or None
    if public_url is not None and not public_url.startswith(("https://", "http://")):
        raise ValueError(
            f"--public-url (or VOICEAGENT_PUBLIC_URL) = {public_url!r}: give the http(s) "
            "address the carriers reach, e.g. https://voice.example.com"
        )
    return PhoneSettings(
        public_url=public_url,
        twilio_auth_token=environ.get("TWILIO_AUTH_TOKEN") or None,
        acs_connection_string=environ.get("ACS_CONNECTION_STRING") or None,
        acs_events_secret=environ.get("ACS_EVENTS_SECRET") or None,
        acs_events_unauthenticated=bool(
            getattr(args, "allow_unauthenticated_acs_events", None)
            or environ.get("VOICEAGENT_ACS_EVENTS_UNAUTHENTICATED", "").lower()
            in ("1", "true", "yes")
        ),
        acs_resource_id=environ.get("ACS_RESOURCE_ID") or None,
        acs_jwks_url=environ.get("VOICEAGENT_ACS_JWKS_URL") or None,
        signing_secret=environ.get("VOICEAGENT_SIGNING_SECRET") or None,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.asynccontextmanager
async def _endpoint(settings: RunSettings) -> AsyncIterator[str]:
    if not settings.emulator:
        yield settings.get("endpoint") or ""
        return
    from voiceagent.emulator import Emulator

    async with Emulator(realtime=True, always_transcribe=True) as emulator:
        yield emulator.endpoint


def _factory(args: argparse.Namespace, settings: RunSettings, endpoint: str) -> Any:
    from voiceagent import InputTranscription, SessionFactory, SessionOptions

    fields: dict[str, Any] = {"input_transcription": InputTranscription(model="azure-speech")}
    if settings.get("voice"):
        fields["voice"] = settings.get("voice")
    if settings.get("instructions"):
        fields["instructions"] = settings.get("instructions")
    if getattr(args, "avatar", None):
        from voiceagent.config import parse_avatar

        fields["avatar"] = parse_avatar(args.avatar)
    notes: list[str] = []
    return SessionFactory(
        endpoint,
        _agent(settings),
        credential=_credential(settings, endpoint, notes),
        options=SessionOptions(**fields),
        model=settings.get("model") if settings.mode == "model" else None,
        greeting=args.greeting,
    )


_JSON_LOGS = False  # set once at start by --log-format json: stderr carries JSON lines only


def _tell(message: str, level: int = logging.WARNING) -> None:
    if _JSON_LOGS:
        logging.getLogger("voiceagent.serve").log(level, message.removeprefix("voiceagent serve: "))
    else:
        print(
            f"voiceagent serve: {message.removeprefix('voiceagent serve: ')}",
            file=sys.stderr,
            flush=True,
        )


def _json_logging() -> None:
    """Replace the console handlers with one writing JSON lines (redacted) to stderr."""
    global _JSON_LOGS
    from voiceagent.serve import json_log_handler

    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(json_log_handler())
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    _JSON_LOGS = True


async def _serve(args: argparse.Namespace, settings: RunSettings) -> int:
    from aiohttp import web

    from voiceagent.serve import Drain, ServeLimits, SessionRegistry, create_app

    ops = operations(args)
    registry = SessionRegistry(ops.max_sessions, idle_timeout_s=ops.idle_timeout_s)
    # in JSON mode the drain's own log records are the lines (no second copy of each)
    drain = Drain(registry, ops.drain_timeout_s, notify=None if _JSON_LOGS else _tell)
    drain.install()
    async with _endpoint(settings) as endpoint:
        factory = _factory(args, settings, endpoint)
        limits = ServeLimits(
            allowed_origins=tuple(args.allow_origin), max_conversations=ops.max_sessions
        )
        token = ops.operator_token
        if token is None and not _is_loopback(args.host):
            token = secrets.token_urlsafe(32)  # closed to everyone until one is given
        phone = _phone(args)
        if phone.acs_events_unauthenticated and not _JSON_LOGS:  # JSON: the library's record
            _tell(ACS_EVENTS_WARNING)
        if phone.signing_secret is None and phone.public_url:  # phone routes on: tokens minted
            _tell(SIGNING_SECRET_WARNING)
        app = create_app(
            factory, limits=limits, registry=registry, operator_token=token, phone=phone
        )
        runner = web.AppRunner(app, shutdown_timeout=5)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        port = runner.addresses[0][1] if runner.addresses else args.port
        where = "the embedded emulator" if settings.emulator else endpoint
        print(f"voiceagent serve: open http://{args.host}:{port}/ (talking to {where})", flush=True)
        if not _is_loopback(args.host):
            _tell(QUOTA_WARNING.format(host=args.host, port=port))
            if ops.operator_token is None:
                _tell(OPERATOR_NOTE)
        try:
            await drain.run(factory.close_all)
        finally:
            await runner.cleanup()
            await factory.aclose()
            logging.shutdown()  # flush the log handlers before the exit code
    return 0


def serve_command(args: argparse.Namespace) -> int:
    """``voiceagent serve``; returns the exit code (2: settings missing or invalid)."""
    from voiceagent.serve import log_format

    env, origin = read_env()
    try:
        settings = resolve(args, env, origin)
        operations(args)
        _phone(args)
        json_logs = log_format(args.log_format, os.environ.get("VOICEAGENT_LOG_FORMAT")) == "json"
    except (MissingSettings, ValueError) as exc:
        print(f"voiceagent serve: {exc}", file=sys.stderr)
        return 2
    if json_logs:
        _json_logging()
    return asyncio.run(_serve(args, settings))
