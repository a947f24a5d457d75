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

__all__ = ["add_media_routes", "hold_call", "publish_dtmf"]

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
        check: Refuses a stream this server did not answer (closed with 1008, no session).
        silence: Reprompt a silent caller, then hang up (:class:`SilencePolicy`).
        start_timeout: Seconds to wait for the carrier's ``start``/``AudioMetadata``.
        **backend_options: For :meth:`TelephonyBackend.twilio` / :meth:`TelephonyBackend.acs`.
    """
    registry = find_registry(request.app)
    conversation = registry.admit(provider) if registry is not None else None
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    if registry is not None and conversation is None:  # before any Voice Live connection
        await ws.close(code=TOO_MANY_SESSIONS, message=b"too many calls at once; try later")
        return ws
    make = TelephonyBackend.twilio if provider == "twilio" else TelephonyBackend.acs
    backend = make(ws.send_str, ws.close, **backend_options)
    reader = asyncio.create_task(backend.run(_text_frames(ws)))
    try:
        call = await backend.wait_call_started(start_timeout)
        allowed = True if check is None else check(call, request)
        if not isinstance(allowed, bool):
            allowed = await allowed
        if not allowed:
            log.warning("refused a %s media stream (call %s)", provider, call.call_id)
            await ws.close(code=POLICY_VIOLATION, message=b"not a call this server answered")
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
