"""/acs/events needs Event Grid's ?code= secret; /acs/callbacks takes only calls we answered."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from acs_rest_fake import FakeAcsOpenId, FakeAcsRest, fake_acs_rest
from aiohttp import web
from azure.communication.callautomation.aio import CallAutomationClient
from cryptography.hazmat.primitives.asymmetric import rsa
from phone_server import Sessions

from local_http import listening
from session_helpers import TOKEN
from voiceagent.emulator import Emulator
from voiceagent.serve import PhoneSettings
from voiceagent.serve.acs_auth import AcsJwtCheck
from voiceagent.serve.acs_events import add_acs_events
from voiceagent.serve.telephony import add_phone_routes
from voiceagent.serve.twilio_voice import StreamTokens

pytestmark = pytest.mark.usefixtures("clean_env")

PUBLIC = "https://voice.example.com"
SECRET = "event-grid-SECRET-0123456789abcdef"
ACCESS_KEY = base64.b64encode(b"acs-access-key-SECRET").decode()
CODE = "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
VALIDATION = [{"eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
               "data": {"validationCode": CODE}}]  # fmt: skip
INCOMING = [{"eventType": "Microsoft.Communication.IncomingCall",
             "data": {"incomingCallContext": "ctx-1", "correlationId": "corr-1"}}]  # fmt: skip


def call_event(kind: str, correlation: str = "corr-1") -> list[dict[str, object]]:
    data = {"correlationId": correlation, "callConnectionId": "conn-1"}
    return [{"type": f"Microsoft.Communication.{kind}", "data": data}]


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@asynccontextmanager
async def acs_events_app(
    tmp_path: Path, callback_jwt: AcsJwtCheck | None = None
) -> AsyncIterator[tuple[str, FakeAcsRest]]:
    """``add_acs_events`` with the secret, answering through the SDK against the HTTPS fake."""
    async with fake_acs_rest(tmp_path) as (rest, ca_file):
        client = CallAutomationClient.from_connection_string(
            f"endpoint={rest.url};accesskey={ACCESS_KEY}", connection_verify=str(ca_file)
        )
        app = web.Application()
        add_acs_events(
            app, public_url=PUBLIC, client=client, tokens=StreamTokens(), events_secret=SECRET,
            callback_jwt=callback_jwt,
        )  # fmt: skip
        async with client, listening(app) as host:
            yield host, rest


async def test_events_need_the_secret_and_the_validation_handshake_still_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with acs_events_app(tmp_path) as (host, rest), aiohttp.ClientSession() as http:
        events = f"http://{host}/acs/events"
        for url in (events, f"{events}?code=wrong-{SECRET}", f"{events}?code="):
            for body in (VALIDATION, INCOMING):
                async with http.post(url, json=body) as refused:
                    assert refused.status == 403
                    assert "?code=" in await refused.text()
        assert rest.answers == []  # nothing reached Call Automation
        async with http.post(f"{events}?code={SECRET}", json=VALIDATION) as handshake:
            assert await handshake.json() == {"validationResponse": CODE}
        async with http.post(f"{events}?code={SECRET}", json=INCOMING) as answered:
            assert answered.status == 200
        assert len(rest.answers) == 1
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any("/acs/events?code=" in line for line in access)  # logged, with the code hidden
    assert SECRET not in caplog.text
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert "missing or wrong ?code=" in caplog.text


async def test_callbacks_are_taken_only_for_a_call_this_server_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with acs_events_app(tmp_path) as (host, rest), aiohttp.ClientSession() as http:
        callbacks = f"http://{host}/acs/callbacks"
        async with http.post(callbacks, json=call_event("CallConnected")) as before:
            assert before.status == 403  # no call answered yet
        async with http.post(f"http://{host}/acs/events?code={SECRET}", json=INCOMING):
            pass
        callback_uri = urlsplit(rest.answers[0]["callbackUri"])
        assert (callback_uri.netloc, callback_uri.path) == ("voice.example.com", "/acs/callbacks")
        token = parse_qs(callback_uri.query)["token"][0]
        media_token = parse_qs(
            urlsplit(rest.answers[0]["mediaStreamingOptions"]["transportUrl"]).query
        )
        assert media_token["token"][0] != token  # the stream's one-time token is another
        for url, body in (
            (callbacks, call_event("CallConnected")),  # no token
            (f"{callbacks}?token=forged-{token}", call_event("CallConnected")),
            (f"{callbacks}?token={token}", call_event("CallConnected", "corr-other")),
            (f"{callbacks}?token={token}", call_event("CallConnected") + call_event("X", "c-2")),
        ):
            async with http.post(url, json=body) as refused:
                assert refused.status == 403
                assert "not a call this server answered" in await refused.text()
        ours = f"{callbacks}?token={token}"
        async with http.post(ours, json=call_event("CallConnected")) as connected:
            assert connected.status == 200
        async with http.post(ours, json=call_event("CallDisconnected")) as disconnected:
            assert disconnected.status == 200
        async with http.post(ours, json=call_event("CallConnected")) as after:
            assert after.status == 403  # the call is over: its token with it
    assert "ACS call event CallConnected" in caplog.text
    assert token not in caplog.text


async def test_with_the_resource_id_callbacks_also_need_call_automations_jwt(
    tmp_path: Path,
) -> None:
    acs, forger = (FakeAcsOpenId(rsa_key(), "res-1") for _ in range(2))
    keys = web.Application()
    keys.router.add_get("/calling/keys", acs.keys)
    async with listening(keys) as keys_host:
        check = AcsJwtCheck("res-1", jwks_url=f"http://{keys_host}/calling/keys")
        async with acs_events_app(tmp_path, check) as (host, rest), aiohttp.ClientSession() as http:
            async with http.post(f"http://{host}/acs/events?code={SECRET}", json=INCOMING):
                pass
            token = parse_qs(urlsplit(rest.answers[0]["callbackUri"]).query)["token"][0]
            ours = f"http://{host}/acs/callbacks?token={token}"
            for headers in ({}, {"Authorization": f"Bearer {forger.token()}"}):
                async with http.post(ours, json=call_event("CallConnected"), headers=headers) as r:
                    assert r.status == 403
                    assert "no valid Call Automation JWT" in await r.text()
            signed = {"Authorization": f"Bearer {acs.token()}"}
            async with http.post(ours, json=call_event("CallConnected"), headers=signed) as r:
                assert r.status == 200
            stray = f"http://{host}/acs/callbacks?token=forged"  # the JWT alone is not enough
            async with http.post(stray, json=call_event("CallConnected"), headers=signed) as r:
                assert r.status == 403


async def test_without_a_secret_the_events_route_is_off_unless_the_operator_opts_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connection = f"endpoint=https://127.0.0.1:9/;accesskey={ACCESS_KEY}"
    client = CallAutomationClient.from_connection_string(connection)
    async with client:
        with pytest.raises(ValueError, match="ACS_EVENTS_SECRET"):
            add_acs_events(
                web.Application(), public_url=PUBLIC, client=client, tokens=StreamTokens(),
                events_secret=None,
            )  # fmt: skip
        with pytest.raises(ValueError, match="at least 16"):
            add_acs_events(
                web.Application(), public_url=PUBLIC, client=client, tokens=StreamTokens(),
                events_secret="short",
            )  # fmt: skip
        with pytest.raises(ValueError, match="at least 16"):
            PhoneSettings(public_url=PUBLIC, acs_events_secret="short")
        open_app = web.Application()
        add_acs_events(
            open_app, public_url=PUBLIC, client=client, tokens=StreamTokens(),
            events_secret=None, allow_unauthenticated=True,
        )  # fmt: skip
        assert "UNAUTHENTICATED ACS EVENTS" in caplog.text
        async with Emulator(token=TOKEN, realtime=False) as emu:
            served = web.Application()
            add_phone_routes(
                served, Sessions(emu), public_url=PUBLIC, acs_connection_string=connection
            )
            async with (
                listening(open_app) as open_host,
                listening(served) as host,
                aiohttp.ClientSession() as http,
            ):
                async with http.post(f"http://{open_host}/acs/events", json=VALIDATION) as ok:
                    assert await ok.json() == {"validationResponse": CODE}
                for path in ("/acs/events", "/acs/callbacks"):
                    async with http.post(f"http://{host}{path}", json=VALIDATION) as off:
                        assert off.status == 503
                        text = await off.text()
                        assert "ACS_EVENTS_SECRET" in text and "?code=" in text
