"""``POST /acs/events``: answer Azure Communication Services calls with bidirectional media.

Calls arrive as Event Grid events: a ``Microsoft.EventGrid.SubscriptionValidationEvent`` first
(answered with its ``validationCode``), then ``Microsoft.Communication.IncomingCall``, answered
through the Call Automation SDK with media streaming to this server's own ``/media/acs``, PCM at
24 kHz (no resampling), bidirectional. The transport URL carries a one-time token bound to the
call's correlation id (signed: any replica with the same signing secret verifies it); the media
route's check (:func:`acs_stream_check`) refuses a socket without it. When the app's registry
would refuse the conversation (full or draining), the call is rejected (``reject_call``, reason
``busy``) instead of answered, and counted as a refusal.

Nothing here trusts an anonymous POST:

* ``/acs/events`` requires ``?code=<events secret>`` (compared in constant time): Event Grid's
  documented way to authenticate a webhook without Entra is a secret in the subscription's
  endpoint URL, which it repeats on every delivery, the validation handshake included.
* ``/acs/callbacks`` only takes events for a call this server answered, carrying the token
  minted for that call into the callback URL given to ``answer_call``; given ``callback_jwt``,
  each must also carry Call Automation's valid bearer JWT.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from ..bridges.telephony.backend import CallInfo
from ..redaction import SecretRedactingFilter, register_secret
from .registry import find_registry
from .signed_tokens import TokenSigner, check_secret_length
from .twilio_voice import StreamTokens, websocket_url

if TYPE_CHECKING:
    from azure.communication.callautomation.aio import CallAutomationClient

    from .acs_auth import AcsJwtCheck

__all__ = [
    "ACS_CALLBACK",
    "ACS_STREAM",
    "EVENTS_SECRET_PARAMETER",
    "CallbackTokens",
    "acs_stream_check",
    "add_acs_events",
    "check_events_secret",
]

log = logging.getLogger("voiceagent.serve")

VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"
INCOMING_CALL = "Microsoft.Communication.IncomingCall"
DISCONNECTED = "CallDisconnected"
CORRELATION_HEADER = "x-ms-call-correlation-id"
ACS_STREAM = "acs-stream"
"""The purpose ACS media-socket tokens are signed for."""
ACS_CALLBACK = "acs-callback"
"""The purpose ACS callback tokens are signed for."""
EVENTS_SECRET_PARAMETER = "code"
"""The query parameter of the Event Grid endpoint URL that carries the secret (``?code=``)."""
MIN_SECRET_CHARS = 16

WRONG_CODE = (
    "missing or wrong ?code=: subscribe Event Grid to "
    "https://<public address>/acs/events?code=<ACS_EVENTS_SECRET>\n"
)
WRONG_CALLBACK = "not a call this server answered (missing or wrong ?token=)\n"
NO_CALLBACK_JWT = "no valid Call Automation JWT (Authorization: Bearer) for this resource\n"


def acs_stream_check(tokens: StreamTokens) -> Any:
    """A ``check`` for ``hold_call(..., "acs")``: the minted token, for this call, once."""

    def check(call: CallInfo, request: web.Request) -> bool:
        correlation = request.headers.get(CORRELATION_HEADER, "")
        return tokens.redeem(request.query.get("token"), correlation)

    return check


class CallbackTokens:
    """A signed token per answered call for its Call Automation callbacks, on any replica.

    Valid until ``ttl_s`` after the answer; this instance also refuses a call's callbacks once
    it has seen its ``CallDisconnected`` (another replica only by the expiry).
    """

    def __init__(self, ttl_s: float = 6 * 3600.0, *, signer: TokenSigner | None = None) -> None:
        """Tokens expire ``ttl_s`` after minting; ``signer`` as for :class:`StreamTokens`."""
        self.ttl_s = ttl_s
        self.signer = signer or TokenSigner()
        self._ended: dict[str, float] = {}  # correlation id -> when its tokens have expired

    def mint(self, correlation_id: str) -> str:
        """A new token for the call ``correlation_id``."""
        self._ended.pop(correlation_id, None)
        return self.signer.mint(ACS_CALLBACK, correlation_id, self.ttl_s)

    def valid(self, token: str | None, correlation_id: str) -> bool:
        """Whether ``token`` was minted for ``correlation_id``'s callbacks and is still valid."""
        now = self.signer.now()
        for call in [c for c, until in self._ended.items() if until <= now]:
            del self._ended[call]
        if correlation_id in self._ended:
            return False
        return self.signer.verify(token, ACS_CALLBACK, correlation_id) is not None

    def forget(self, correlation_id: str) -> None:
        """The call has ended: this instance refuses its callbacks from now on."""
        self._ended[correlation_id] = self.signer.now() + self.ttl_s

    def __repr__(self) -> str:
        return f"CallbackTokens({len(self._ended)} ended, {self.signer!r})"


def check_events_secret(secret: str) -> None:
    """:func:`~.signed_tokens.check_secret_length` for ``ACS_EVENTS_SECRET`` (16+ characters)."""
    check_secret_length("ACS_EVENTS_SECRET", secret, MIN_SECRET_CHARS)


def _redact_access_logs(secret: str | None) -> None:
    """Keep ``secret`` and every ``?token=`` out of aiohttp's access and server logs."""
    if secret is not None:
        register_secret(secret)
    for name in ("aiohttp.access", "aiohttp.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretRedactingFilter) for f in logger.filters):
            logger.addFilter(SecretRedactingFilter())


def _events_of(body: Any) -> list[dict[str, Any]]:
    events = body if isinstance(body, list) else [body]
    return [e for e in events if isinstance(e, dict)]


def add_acs_events(
    app: web.Application,
    *,
    public_url: str,
    client: CallAutomationClient,
    tokens: StreamTokens,
    events_secret: str | None,
    allow_unauthenticated: bool = False,
    callback_jwt: AcsJwtCheck | None = None,
    callback_tokens: CallbackTokens | None = None,
    path: str = "/acs/events",
    callback_path: str = "/acs/callbacks",
    stream_path: str = "/media/acs",
    sample_rate: int = 24000,
) -> None:
    """Mount the Event Grid webhook and the Call Automation callback route on ``app``.

    Args:
        app: The aiohttp app.
        public_url: The https address ACS reaches (stream and callback URLs are built on it).
        client: A Call Automation client (``CallAutomationClient.from_connection_string(
            os.environ["ACS_CONNECTION_STRING"])``, the ``aio`` one).
        tokens: Mints the one-time stream tokens (the media route checks them, on any replica
            with the same signing secret).
        events_secret: What Event Grid must send as ``?code=`` (``ACS_EVENTS_SECRET``; at least
            16 characters): the subscription's endpoint is ``{public_url}{path}?code=<it>``.
        allow_unauthenticated: With no ``events_secret``, accept anyone's events (local testing
            only: a warning says so).
        callback_jwt: Also require Call Automation's JWT on each callback (the resource's
            :class:`~voiceagent.serve.acs_auth.AcsJwtCheck`; None: the minted token only).
        callback_tokens: Mints and checks the callbacks' tokens (default: signed by ``tokens``'
            signer, so any replica with the same signing secret takes a call's callbacks).
        path: The Event Grid subscription's endpoint.
        callback_path: Where Call Automation posts the call's events.
        stream_path: The media WebSocket's path.
        sample_rate: 24000 or 16000: the PCM rate the call is answered with.

    Raises:
        ValueError: No ``events_secret`` (and no ``allow_unauthenticated``), a short one, or a
            ``sample_rate`` ACS does not stream.
    """
    from azure.communication.callautomation import (
        AudioFormat,
        CallRejectReason,
        MediaStreamingAudioChannelType,
        MediaStreamingContentType,
        MediaStreamingOptions,
        StreamingTransportType,
    )

    if sample_rate not in (16000, 24000):
        raise ValueError(f"sample_rate={sample_rate}: ACS streams PCM at 16000 or 24000 Hz")
    if events_secret is None and not allow_unauthenticated:
        raise ValueError(
            "events_secret is required: set ACS_EVENTS_SECRET to a random string and subscribe "
            f"Event Grid to {public_url.rstrip('/')}{path}?code=<it> "
            "(allow_unauthenticated=True accepts anyone's events: local testing only)"
        )
    if events_secret is not None:
        check_events_secret(events_secret)
    if events_secret is None:
        log.warning(
            "UNAUTHENTICATED ACS EVENTS: anyone who can reach %s can make this server answer "
            "calls (local testing only; set ACS_EVENTS_SECRET)",
            path,
        )
    _redact_access_logs(events_secret)
    expected = events_secret.encode() if events_secret is not None else None
    audio_format = AudioFormat.PCM24_K_MONO if sample_rate == 24000 else AudioFormat.PCM16_K_MONO
    callback_url = public_url.rstrip("/") + callback_path
    callbacks_for = callback_tokens or CallbackTokens(signer=tokens.signer)

    async def answer(data: dict[str, Any]) -> None:
        context = data.get("incomingCallContext")
        if not isinstance(context, str) or not context:
            raise web.HTTPBadRequest(text="the IncomingCall event has no incomingCallContext\n")
        registry = find_registry(app)
        if registry is not None and registry.turn_away("acs"):  # no stream to refuse later
            await client.reject_call(context, call_reject_reason=CallRejectReason.BUSY)
            log.info("rejected an ACS call: busy")
            return
        correlation = str(data.get("correlationId", ""))
        query = urlencode({"token": tokens.mint(correlation)})
        callback_query = urlencode({"token": callbacks_for.mint(correlation)})
        media = MediaStreamingOptions(
            transport_url=f"{websocket_url(public_url, stream_path)}?{query}",
            transport_type=StreamingTransportType.WEBSOCKET,
            content_type=MediaStreamingContentType.AUDIO,
            audio_channel_type=MediaStreamingAudioChannelType.MIXED,
            start_media_streaming=True,
            enable_bidirectional=True,
            audio_format=audio_format,
        )
        try:
            answered = await client.answer_call(
                context, f"{callback_url}?{callback_query}", media_streaming=media
            )
        except Exception:
            callbacks_for.forget(correlation)
            raise
        log.info("answered ACS call %s", answered.call_connection_id)

    async def events(request: web.Request) -> web.Response:
        given = request.query.get(EVENTS_SECRET_PARAMETER, "")
        if expected is not None and not secrets.compare_digest(given.encode(), expected):
            log.warning("refused an Event Grid delivery to %s: missing or wrong ?code=", path)
            raise web.HTTPForbidden(text=WRONG_CODE)
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="Event Grid posts a JSON array of events") from None
        for event in _events_of(body):
            kind = event.get("eventType") or event.get("type")
            data = event.get("data") or {}
            if kind == VALIDATION:
                return web.json_response({"validationResponse": data.get("validationCode")})
            if kind == INCOMING_CALL:
                await answer(data)
        return web.Response(status=200)

    async def callbacks(request: web.Request) -> web.Response:
        if callback_jwt is not None and not await callback_jwt.verify(request):
            log.warning("refused a Call Automation callback: no valid ACS JWT")
            raise web.HTTPForbidden(text=NO_CALLBACK_JWT)  # before reading an anonymous body
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="Call Automation posts a JSON array of events") from None
        token = request.query.get("token")
        calls = _events_of(body)
        ours = [
            e
            for e in calls
            if callbacks_for.valid(token, str((e.get("data") or {}).get("correlationId", "")))
        ]
        if not calls or len(ours) < len(calls):
            log.warning("refused a Call Automation callback: not a call this server answered")
            raise web.HTTPForbidden(text=WRONG_CALLBACK)
        for event in ours:
            kind = str(event.get("type") or event.get("eventType") or "").rsplit(".", 1)[-1]
            log.info("ACS call event %s", kind)
            if kind == DISCONNECTED:
                callbacks_for.forget(str(event["data"]["correlationId"]))
        return web.Response(status=200)

    app.router.add_post(path, events)
    app.router.add_post(callback_path, callbacks)
