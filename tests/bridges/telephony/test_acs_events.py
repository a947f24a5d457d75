"""POST /acs/events: Event Grid handshake, IncomingCall answered by the real Call Automation SDK."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from acs_rest_fake import fake_acs_rest
from aiohttp import web
from azure.communication.callautomation.aio import CallAutomationClient
from phone_server import Sessions

from local_http import listening
from session_helpers import TOKEN
from voiceagent.emulator import Emulator
from voiceagent.serve.acs_events import acs_stream_check, add_acs_events
from voiceagent.serve.telephony import hold_call
from voiceagent.serve.twilio_voice import StreamTokens
from voiceagent.testing.carriers import FakeAcsCall

pytestmark = pytest.mark.usefixtures("clean_env")

PUBLIC = "https://voice.example.com"
ACCESS_KEY = base64.b64encode(b"acs-access-key-SECRET").decode()
EVENTS_SECRET = "event-grid-SECRET-0123456789abcdef"


@asynccontextmanager
async def acs_app(
    emu: Emulator, client: CallAutomationClient
) -> AsyncIterator[tuple[str, Sessions]]:
    tokens = StreamTokens()
    sessions = Sessions(emu)
    app = web.Application()
    add_acs_events(
        app, public_url=PUBLIC, client=client, tokens=tokens, events_secret=EVENTS_SECRET
    )
    check = acs_stream_check(tokens)

    async def media(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "acs", sessions, check=check)

    app.router.add_get("/media/acs", media)
    async with listening(app) as host:
        yield host, sessions


async def test_incoming_call_is_answered_with_bidirectional_media_to_our_stream(
    tmp_path: Path,
) -> None:
    async with (
        fake_acs_rest(tmp_path) as (rest, ca_file),
        Emulator(token=TOKEN, realtime=False) as emu,
    ):
        conn = f"endpoint={rest.url};accesskey={ACCESS_KEY}"
        client = CallAutomationClient.from_connection_string(conn, connection_verify=str(ca_file))
        async with (
            client,
            acs_app(emu, client) as (host, sessions),
            aiohttp.ClientSession() as http,
        ):
            events = f"http://{host}/acs/events?code={EVENTS_SECRET}"
            code = "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
            validation = [{"eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                           "data": {"validationCode": code}}]  # fmt: skip
            async with http.post(events, json=validation) as resp:
                assert await resp.json() == {
                    "validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
                }
            incoming = [{"eventType": "Microsoft.Communication.IncomingCall",
                         "data": {"incomingCallContext": "ctx-abc", "correlationId": "corr-1",
                                  "from": {"rawId": "4:+15550100"}}}]  # fmt: skip
            async with http.post(events, json=incoming) as resp:
                assert resp.status == 200
            (answer,) = rest.answers
            assert rest.authorizations[0].startswith("HMAC-SHA256")  # the SDK signed it
            assert answer["incomingCallContext"] == "ctx-abc"
            assert answer["callbackUri"].startswith(PUBLIC + "/acs/callbacks?token=")
            media = answer["mediaStreamingOptions"]
            assert media["transportType"].lower() == "websocket"
            assert media["enableBidirectional"] is True and media["startMediaStreaming"] is True
            assert media["audioFormat"] == "pcm24KMono"
            transport = urlsplit(media["transportUrl"])
            assert (transport.scheme, transport.netloc, transport.path) == (
                "wss",
                "voice.example.com",
                "/media/acs",
            )
            token = parse_qs(transport.query)["token"][0]
            stream = f"ws://{host}/media/acs"
            # a socket without the minted token: refused before any session
            async with FakeAcsCall(stream, headers={"x-ms-call-correlation-id": "corr-1"}) as c:
                await c.wait_closed_by_server(timeout=5)
            assert sessions.calls.empty()
            # the answered call's socket, with its token: a session
            headers = {"x-ms-call-correlation-id": "corr-1"}
            async with FakeAcsCall(f"{stream}?token={token}", headers=headers):
                session, _ = await asyncio.wait_for(sessions.calls.get(), 10)
                ready: asyncio.Future[object] = asyncio.get_running_loop().create_future()
                session.once(
                    "voiceagent.session_ready", lambda e: ready.done() or ready.set_result(e)
                )
                await asyncio.wait_for(ready, 10)
            async with FakeAcsCall(f"{stream}?token={token}", headers=headers) as replay:
                await replay.wait_closed_by_server(timeout=5)  # a token works once
            assert sessions.calls.empty()
