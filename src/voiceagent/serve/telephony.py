"""Phone calls as aiohttp routes: a carrier's media WebSocket -> TelephonyBackend -> a session.

:func:`hold_call` owns one call from the accepted upgrade to the hang-up; :func:`add_media_routes`
mounts ``/media/twilio`` and ``/media/acs`` on any aiohttp app. Keys pressed on the phone become
``voiceagent.dtmf`` events on the session (:func:`publish_dtmf`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import WSMsgType, web

from ..bridges.telephony.backend import CallInfo, TelephonyBackend
from ..events import DtmfReceived
from .conversation import SessionMaker
from .registry import TOO_MANY_SESSIONS, find_registry
from .silence import SilencePolicy, watch_silence

if TYPE_CHECKING:
    from ..session.session import VoiceAgentSession

__all__ = ["add_media_routes", "add_phone_routes", "hold_call", "publish_dtmf"]

log = logging.getLogger("voiceagent.serve")

Provider = Literal["twilio", "acs"]
CallCheck = Callable[[CallInfo, web.Request], "bool | Awaitable[bool]"]
"""Decides whether a started stream is one this server answered (e.g. a minted parameter)."""

POLICY_VIOLATION = 1008


def publish_dtmf(session: VoiceAgentSession, backend: TelephonyBackend) -> None:
    """Publish each key the caller presses as a ``voiceagent.dtmf`` event on ``session``."""
    backend.on_dtmf = lambda digit: session.publish(DtmfReceived(digit))


async def _text_frames(ws: web.WebSocketResponse) -> AsyncIterator[str]:
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            yield msg.data
        elif msg.type is WSMsgType.BINARY:  # carriers send text only: not a carrier
            log.warning("a binary frame on a media stream: closing it")
            return


async def hold_call(
    request: web.Request,
    provider: Provider,
    sessions: SessionMaker,
    *,
    check: CallCheck | None = None,
    silence: SilencePolicy | None = None,
    start_timeout: float = 10.0,
    **backend_options: Any,
) -> web.WebSocketResponse:
    """Accept a carrier's media WebSocket and hold the call until either side hangs up.

    Args:
        request: The upgrade request.
        provider: ``"twilio"`` or ``"acs"``.
        sessions: Builds the call's session (a :class:`~voiceagent.SessionFactory`).
        check: Refuses a stream this server did not answer (closed with 1008, no session),
            decided before the registry admits the call, so a refused one never holds a place.
        silence: Reprompt a silent caller, then hang up (:class:`SilencePolicy`).
        start_timeout: Seconds to wait for the carrier's ``start``/``AudioMetadata``.
        **backend_options: For :meth:`TelephonyBackend.twilio` / :meth:`TelephonyBackend.acs`.
    """
    registry = find_registry(request.app)
    conversation = None
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    make = TelephonyBackend.twilio if provider == "twilio" else TelephonyBackend.acs
    backend = make(ws.send_str, ws.close, **backend_options)
    reader = asyncio.create_task(backend.run(_text_frames(ws)))
    try:
        call = await backend.wait_call_started(start_timeout)
        allowed = True if check is None else check(call, request)
        if not isinstance(allowed, bool):
            allowed = await allowed
        if not allowed:  # checked before admission: a spoofed stream never holds a place
            log.warning("refused a %s media stream (call %s)", provider, call.call_id)
            await ws.close(code=POLICY_VIOLATION, message=b"not a call this server answered")
            return ws
        if registry is not None:
            conversation = registry.admit(provider)
            if conversation is None:  # before any Voice Live connection
                await ws.close(code=TOO_MANY_SESSIONS, message=b"too many calls at once; try later")
                return ws
        session = sessions.create(audio=backend)
        if conversation is not None:
            conversation.attach(session)
        publish_dtmf(session, backend)
        async with session:
            watcher = None
            if silence is not None:
                watcher = asyncio.create_task(watch_silence(session, silence))
            try:
                await session.wait_closed()
            finally:
                if watcher is not None:
                    watcher.cancel()
                    await asyncio.gather(watcher, return_exceptions=True)
    except (TimeoutError, ConnectionError) as exc:
        log.warning("%s media stream ended before the call started: %s", provider, exc)
    finally:
        if registry is not None and conversation is not None:
            registry.release(conversation)
        await backend.stop()  # the session ended (or never began): hang up
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return ws


def add_media_routes(
    app: web.Application,
    sessions: SessionMaker,
    *,
    twilio_path: str = "/media/twilio",
    acs_path: str = "/media/acs",
    check: CallCheck | None = None,
    silence: SilencePolicy | None = None,
) -> None:
    """Mount the Twilio and ACS media WebSockets on ``app`` (options as :func:`hold_call`)."""

    async def twilio(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "twilio", sessions, check=check, silence=silence)

    async def acs(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "acs", sessions, check=check, silence=silence)

    app.router.add_get(twilio_path, twilio)
    app.router.add_get(acs_path, acs)


NO_PUBLIC_URL = (
    "phone calls are off: set --public-url (or VOICEAGENT_PUBLIC_URL) to the https address "
    "the carriers reach, e.g. https://voice.example.com"
)
NO_ACS = "ACS calls are off: set ACS_CONNECTION_STRING (your Communication Services resource's)"
NO_ACS_SECRET = (
    "ACS calls are off: set ACS_EVENTS_SECRET (16+ random characters) and subscribe Event Grid "
    "to https://<public address>/acs/events?code=<ACS_EVENTS_SECRET>; "
    "--allow-unauthenticated-acs-events accepts anyone's events (local testing only)"
)


def add_phone_routes(
    app: web.Application,
    sessions: SessionMaker,
    *,
    public_url: str | None,
    twilio_auth_token: str | None = None,
    acs_connection_string: str | None = None,
    acs_events_secret: str | None = None,
    acs_events_unauthenticated: bool = False,
    acs_resource_id: str | None = None,
    acs_jwks_url: str | None = None,
    signing_secret: str | None = None,
) -> None:
    """Mount ``POST /twilio/voice``, ``/media/twilio``, ``POST /acs/events`` and ``/media/acs``.

    Without ``public_url`` the routes answer 503 saying what to set; without
    ``acs_connection_string``, or without ``acs_events_secret`` (unless
    ``acs_events_unauthenticated``), so do the ACS ones.

    Args:
        app: The aiohttp app.
        sessions: Builds each call's session.
        public_url: The address the carriers reach (stream and callback URLs are built on it).
        twilio_auth_token: Checks ``X-Twilio-Signature`` (None: unsigned webhooks, a warning).
        acs_connection_string: Answers ACS calls through Call Automation.
        acs_events_secret: The ``?code=`` Event Grid must send to ``/acs/events``.
        acs_events_unauthenticated: Accept ACS events without a secret (local testing only).
        acs_resource_id: Also accept an ACS media socket by its bearer JWT for this resource
            (:class:`~voiceagent.serve.acs_auth.AcsJwtCheck`), not only by the minted token,
            and require that JWT on every Call Automation callback besides the call's token.
        acs_jwks_url: Where ACS's signing keys are published (default: the ``jwks_uri`` of
            ACS's OpenID configuration).
        signing_secret: Signs the calls' tokens (``VOICEAGENT_SIGNING_SECRET``, 32+ characters,
            the same on every replica, so a stream or callback may reach any of them); None: a
            random secret of this app's own (one replica).
    """
    from .acs_events import ACS_STREAM, CallbackTokens, acs_stream_check, add_acs_events
    from .signed_tokens import TokenSigner
    from .twilio_voice import StreamTokens, add_twilio_webhook

    if public_url is None:
        posts, gets = ("/twilio/voice", "/acs/events"), ("/media/twilio", "/media/acs")
        _add_refusals(app, NO_PUBLIC_URL, posts, gets)
        return
    signer = TokenSigner(signing_secret)
    twilio_tokens = StreamTokens(signer=signer)
    acs_tokens = StreamTokens(signer=signer, purpose=ACS_STREAM)
    add_twilio_webhook(
        app, public_url=public_url, auth_token=twilio_auth_token, tokens=twilio_tokens
    )
    acs_check: CallCheck = acs_stream_check(acs_tokens)
    jwt_check = None
    if acs_resource_id:
        from .acs_auth import AcsJwtCheck

        jwt_check = AcsJwtCheck(acs_resource_id, jwks_url=acs_jwks_url, fallback=acs_check)
        acs_check = jwt_check.check
    if not acs_connection_string:
        _add_refusals(app, NO_ACS, ("/acs/events",), ())
    elif acs_events_secret is None and not acs_events_unauthenticated:
        _add_refusals(app, NO_ACS_SECRET, ("/acs/events", "/acs/callbacks"), ())
    else:
        from azure.communication.callautomation.aio import CallAutomationClient

        client = CallAutomationClient.from_connection_string(acs_connection_string)
        add_acs_events(
            app,
            public_url=public_url,
            client=client,
            tokens=acs_tokens,
            events_secret=acs_events_secret,
            allow_unauthenticated=acs_events_unauthenticated,
            callback_jwt=jwt_check,
            callback_tokens=CallbackTokens(signer=signer),
        )

    async def twilio(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "twilio", sessions, check=twilio_tokens.check)

    async def acs(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "acs", sessions, check=acs_check)

    app.router.add_get("/media/twilio", twilio)
    app.router.add_get("/media/acs", acs)


def _add_refusals(
    app: web.Application, reason: str, posts: tuple[str, ...], gets: tuple[str, ...]
) -> None:
    async def refuse(request: web.Request) -> web.Response:  # says what to set, not a 404
        raise web.HTTPServiceUnavailable(text=reason)

    for path in posts:
        app.router.add_post(path, refuse)
    for path in gets:
        app.router.add_get(path, refuse)
