"""``POST /acs/events``: answer Azure Communication Services calls with bidirectional media.

Calls arrive as Event Grid events: a ``Microsoft.EventGrid.SubscriptionValidationEvent`` first
(answered with its ``validationCode``), then ``Microsoft.Communication.IncomingCall``, answered
through the Call Automation SDK with media streaming to this server's own ``/media/acs``, PCM at
24 kHz (no resampling), bidirectional. The transport URL carries a one-time token bound to the
call's correlation id; the media route's check (:func:`acs_stream_check`) refuses a socket
without it. Call events (connected, media streaming, disconnected) come to ``callback_path``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from ..bridges.telephony.backend import CallInfo
from .twilio_voice import StreamTokens, websocket_url

if TYPE_CHECKING:
    from azure.communication.callautomation.aio import CallAutomationClient

__all__ = ["acs_stream_check", "add_acs_events"]

log = logging.getLogger("voiceagent.serve")

VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"
INCOMING_CALL = "Microsoft.Communication.IncomingCall"
CORRELATION_HEADER = "x-ms-call-correlation-id"


def acs_stream_check(tokens: StreamTokens) -> Any:
    """A ``check`` for ``hold_call(..., "acs")``: the minted token, for this call, once."""

    def check(call: CallInfo, request: web.Request) -> bool:
        correlation = request.headers.get(CORRELATION_HEADER, "")
        return tokens.redeem(request.query.get("token"), correlation)

    return check


def add_acs_events(
    app: web.Application,
    *,
    public_url: str,
    client: CallAutomationClient,
    tokens: StreamTokens,
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
        tokens: Where the one-time stream tokens are kept (the media route checks them).
        path: The Event Grid subscription's endpoint.
        callback_path: Where Call Automation posts the call's events.
        stream_path: The media WebSocket's path.
        sample_rate: 24000 or 16000: the PCM rate the call is answered with.
    """
    from azure.communication.callautomation import (
        AudioFormat,
        MediaStreamingAudioChannelType,
        MediaStreamingContentType,
        MediaStreamingOptions,
        StreamingTransportType,
    )

    if sample_rate not in (16000, 24000):
        raise ValueError(f"sample_rate={sample_rate}: ACS streams PCM at 16000 or 24000 Hz")
    audio_format = AudioFormat.PCM24_K_MONO if sample_rate == 24000 else AudioFormat.PCM16_K_MONO
    callback_url = public_url.rstrip("/") + callback_path

    async def events(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="Event Grid posts a JSON array of events") from None
        for event in body if isinstance(body, list) else [body]:
            kind = event.get("eventType") or event.get("type")
            data = event.get("data") or {}
            if kind == VALIDATION:
                return web.json_response({"validationResponse": data.get("validationCode")})
            if kind == INCOMING_CALL:
                correlation = str(data.get("correlationId", ""))
                query = urlencode({"token": tokens.mint(correlation)})
                media = MediaStreamingOptions(
                    transport_url=f"{websocket_url(public_url, stream_path)}?{query}",
                    transport_type=StreamingTransportType.WEBSOCKET,
                    content_type=MediaStreamingContentType.AUDIO,
                    audio_channel_type=MediaStreamingAudioChannelType.MIXED,
                    start_media_streaming=True,
                    enable_bidirectional=True,
                    audio_format=audio_format,
                )
                answered = await client.answer_call(
                    data["incomingCallContext"], callback_url, media_streaming=media
                )
                log.info("answered ACS call %s", answered.call_connection_id)
        return web.Response(status=200)

    async def callbacks(request: web.Request) -> web.Response:
        body = await request.json()
        for event in body if isinstance(body, list) else [body]:
            kind = str(event.get("type") or event.get("eventType") or "")
            log.info("ACS call event %s", kind.rsplit(".", 1)[-1])
        return web.Response(status=200)

    app.router.add_post(path, events)
    app.router.add_post(callback_path, callbacks)
