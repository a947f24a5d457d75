"""A full or draining server declines calls at the carrier's webhook, before any stream exists."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path

import aiohttp
import pytest
from acs_rest_fake import fake_acs_rest
from aiohttp import web
from azure.communication.callautomation.aio import CallAutomationClient
from phone_server import Sessions
from twilio.request_validator import RequestValidator

from local_http import listening
from session_helpers import TOKEN
from voiceagent.emulator import Emulator
from voiceagent.serve.acs_events import add_acs_events
from voiceagent.serve.metrics import ServeMetrics
from voiceagent.serve.registry import SessionRegistry, install_registry
from voiceagent.serve.telephony import add_phone_routes
from voiceagent.serve.twilio_voice import StreamTokens
from voiceagent.testing.carriers import FakeTwilioCall

pytestmark = pytest.mark.usefixtures("clean_env")

AUTH_TOKEN = "twilio-auth-SECRET-0123456789"
PUBLIC = "https://voice.example.com"
EVENTS_SECRET = "event-grid-SECRET-0123456789abcdef"
FORM = {"CallSid": "CA" + "3" * 32, "From": "+15550100", "To": "+15550199"}


def signed(form: dict[str, str]) -> dict[str, str]:
    url = PUBLIC + "/twilio/voice"
    return {"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, form)}


def refusals(metrics: ServeMetrics, channel: str) -> float:
    value = metrics.collectors.get_sample_value("voiceagent_refusals_total", {"channel": channel})
    return value or 0.0


async def test_a_full_or_draining_server_rejects_a_signed_twilio_call_as_busy() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        sessions = Sessions(emu)
        app = web.Application()
        registry = install_registry(app, SessionRegistry(1))
        metrics = ServeMetrics(registry)
        add_phone_routes(app, sessions, public_url=PUBLIC, twilio_auth_token=AUTH_TOKEN)
        async with listening(app) as host, aiohttp.ClientSession() as http:
            url = f"http://{host}/twilio/voice"
            tab = registry.admit("browser")  # the one place is taken
            assert tab is not None
            async with http.post(url, data=FORM) as unsigned:  # the signature comes first
                assert unsigned.status == 403
            assert refusals(metrics, "twilio") == 0
            async with http.post(url, data=FORM, headers=signed(FORM)) as full:
                assert full.status == 200 and full.content_type == "text/xml"
                twiml = await full.text()
            assert re.search(r'<Response><Reject reason="busy"\s*/></Response>', twiml), twiml
            assert "<Connect" not in twiml and "token" not in twiml
            registry.release(tab)
            async with http.post(url, data=FORM, headers=signed(FORM)) as room:
                assert "<Connect>" in await room.text()  # a free place: the stream is connected
            registry.start_drain()
            async with http.post(url, data=FORM, headers=signed(FORM)) as draining:
                assert '<Reject reason="busy"' in await draining.text()
            assert refusals(metrics, "twilio") == 2
        assert emu.sessions == [] and sessions.calls.empty()  # no Voice Live connection


async def test_a_full_server_rejects_an_acs_call_through_call_automation(tmp_path: Path) -> None:
    access_key = base64.b64encode(b"acs-access-key-SECRET").decode()
    async with (
        fake_acs_rest(tmp_path) as (rest, ca_file),
        Emulator(token=TOKEN, realtime=False) as emu,
    ):
        client = CallAutomationClient.from_connection_string(
            f"endpoint={rest.url};accesskey={access_key}", connection_verify=str(ca_file)
        )
        app = web.Application()
        registry = install_registry(app, SessionRegistry(1))
        metrics = ServeMetrics(registry)
        add_acs_events(
            app,
            public_url=PUBLIC,
            client=client,
            tokens=StreamTokens(),
            events_secret=EVENTS_SECRET,
        )
        registry.admit("twilio")
        data = {"incomingCallContext": "ctx-full", "correlationId": "corr-9"}
        incoming = [{"eventType": "Microsoft.Communication.IncomingCall", "data": data}]
        async with client, listening(app) as host, aiohttp.ClientSession() as http:
            events = f"http://{host}/acs/events?code={EVENTS_SECRET}"
            async with http.post(events, json=incoming) as resp:
                assert resp.status == 200
        assert rest.rejects == [{"incomingCallContext": "ctx-full", "callRejectReason": "busy"}]
        assert rest.answers == []
        assert rest.authorizations[0].startswith("HMAC-SHA256")  # the SDK signed it
        assert refusals(metrics, "acs") == 1
        assert emu.sessions == []


async def test_a_spoofed_stream_holds_no_place_while_a_real_call_arrives() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        sessions = Sessions(emu)
        app = web.Application()
        registry = install_registry(app, SessionRegistry(1))  # one place left
        add_phone_routes(app, sessions, public_url=PUBLIC, twilio_auth_token=AUTH_TOKEN)
        async with listening(app) as host, aiohttp.ClientSession() as http:
            # a socket nobody answered: upgraded, then silent (no start, no token) for seconds
            spoof = await http.ws_connect(f"ws://{host}/media/twilio")
            await spoof.send_str(json.dumps({"event": "connected", "protocol": "Call"}))
            async with http.post(
                f"http://{host}/twilio/voice", data=FORM, headers=signed(FORM)
            ) as answered:
                twiml = await answered.text()
            parameters = dict(re.findall(r'<Parameter name="([^"]+)" value="([^"]+)"', twiml))
            assert "token" in parameters, twiml
            call = FakeTwilioCall(f"ws://{host}/media/twilio", parameters=parameters)
            call.call_sid = FORM["CallSid"]
            async with call:
                session, _ = await asyncio.wait_for(sessions.calls.get(), 10)
                await call.wait_ticks(5)
                assert not call.closed_by_server.is_set()
                assert registry.count_by_channel() == {"twilio": 1}
                assert session is not None
            await spoof.close()
        assert len(emu.sessions) == 1
