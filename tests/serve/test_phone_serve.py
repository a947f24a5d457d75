"""``voiceagent serve --public-url``: the phone routes of the real process, next to the page."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from twilio.request_validator import RequestValidator

from session_helpers import user_speech
from voiceagent.testing.carriers import FakeTwilioCall

from .helpers import serve_process

AUTH_TOKEN = "twilio-auth-SECRET-0123456789"
PUBLIC = "https://voice.example.com"
GREETING = "Hi."


@asynccontextmanager
async def serve(*args: str, **env: str) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """The serve process with only the phone variables given here; yields ``host:port``."""
    names = (
        "VOICEAGENT_PUBLIC_URL",
        "ACS_CONNECTION_STRING",
        "ACS_EVENTS_SECRET",
        "VOICEAGENT_SIGNING_SECRET",
    )
    unset = tuple(n for n in names if n not in env)
    environment = {"AZURE_VOICELIVE_API_KEY": "sk-phone-serve-0123", **env}
    async with serve_process(*args, env=environment, unset=unset) as (url, proc):
        yield url.removeprefix("http://").rstrip("/"), proc


async def test_serve_answers_signed_twilio_calls_and_holds_the_conversation() -> None:
    form = {"CallSid": "CA" + "7" * 32, "From": "+15550100", "To": "+15550199"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/twilio/voice", form)
    async with (
        serve("--public-url", PUBLIC, "--greeting", GREETING, TWILIO_AUTH_TOKEN=AUTH_TOKEN) as (
            host,
            proc,
        ),
        aiohttp.ClientSession() as http,
    ):
        url = f"http://{host}/twilio/voice"
        async with http.post(url, data=form) as unsigned:
            assert unsigned.status == 403
        headers = {"X-Twilio-Signature": signature}
        async with http.post(url, data=form, headers=headers) as answered:
            assert answered.status == 200
            twiml = await answered.text()
        assert '<Stream url="wss://voice.example.com/media/twilio">' in twiml
        parameters = dict(re.findall(r'<Parameter name="([^"]+)" value="([^"]+)"', twiml))
        assert "token" in parameters
        call = FakeTwilioCall(f"ws://{host}/media/twilio", parameters=parameters)
        call.call_sid = form["CallSid"]
        async with call:
            # the session greets the caller: its audio reaches the ear through the carrier
            await call.wait_played(300, timeout=20)
            await call.speak(user_speech("what time do you open"))
            # the greeting ("Hi.") has played out by now; the emulator hears the caller and
            # answers: more audio after it
            heard = call.played_ms
            await call.wait_played(heard + 300, timeout=20)
            assert not call.closed_by_server.is_set()
        stray = FakeTwilioCall(f"ws://{host}/media/twilio", parameters=parameters)
        stray.call_sid = form["CallSid"]
        async with stray:  # the minted token was spent: refused
            await stray.wait_closed_by_server(timeout=10)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        assert proc.stderr is not None
        logs = await proc.stderr.read()
        assert AUTH_TOKEN.encode() not in logs
        assert b"VOICEAGENT_SIGNING_SECRET is not set" in logs  # one replica only


SIGNING = "signing-SECRET-shared-by-every-replica-0123456789"


async def test_two_serve_replicas_with_one_signing_secret_share_a_call() -> None:
    form = {"CallSid": "CA" + "9" * 32, "From": "+15550100", "To": "+15550199"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/twilio/voice", form)
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "VOICEAGENT_SIGNING_SECRET": SIGNING}
    async with (
        serve("--public-url", PUBLIC, "--greeting", GREETING, **env) as (a, proc_a),
        serve("--public-url", PUBLIC, "--greeting", GREETING, **env) as (b, proc_b),
        aiohttp.ClientSession() as http,
    ):
        headers = {"X-Twilio-Signature": signature}
        async with http.post(f"http://{a}/twilio/voice", data=form, headers=headers) as answered:
            twiml = await answered.text()
        parameters = dict(re.findall(r'<Parameter name="([^"]+)" value="([^"]+)"', twiml))
        call = FakeTwilioCall(f"ws://{b}/media/twilio", parameters=parameters)
        call.call_sid = form["CallSid"]
        async with call:  # the replica that did not answer the webhook greets the caller
            await call.wait_played(300, timeout=20)
            assert not call.closed_by_server.is_set()
        for proc in (proc_a, proc_b):
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 15) == 0
            assert proc.stderr is not None
            logs = await proc.stderr.read()
            assert SIGNING.encode() not in logs and b"SIGNING_SECRET is not set" not in logs


async def test_a_short_signing_secret_stops_serve_saying_how_to_make_one() -> None:
    short = "signing-SECRET-short"
    env = {**os.environ, "VOICEAGENT_PUBLIC_URL": PUBLIC, "VOICEAGENT_SIGNING_SECRET": short}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--emulator", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"VOICEAGENT_SIGNING_SECRET has 20 characters" in err and b"at least 32" in err
    assert short.encode() not in err


async def test_without_public_url_the_phone_routes_say_what_to_set() -> None:
    async with serve() as (host, _proc), aiohttp.ClientSession() as http:
        for path in ("/twilio/voice", "/acs/events"):
            async with http.post(f"http://{host}{path}", data={"CallSid": "CA1"}) as refused:
                assert refused.status == 503
                assert "--public-url" in await refused.text()
        async with http.get(f"http://{host}/media/twilio") as media:
            assert media.status == 503
            assert "VOICEAGENT_PUBLIC_URL" in await media.text()


async def test_public_url_from_the_environment_without_acs_connection_string_acs_says_so() -> None:
    async with serve(VOICEAGENT_PUBLIC_URL=PUBLIC) as (host, _), aiohttp.ClientSession() as http:
        refused = await http.post(f"http://{host}/acs/events", json=[])
        assert refused.status == 503
        assert "ACS_CONNECTION_STRING" in await refused.text()


ACS = "endpoint=https://127.0.0.1:9/;accesskey=" + base64.b64encode(b"acs-key-SECRET").decode()
VALIDATION = [{"eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
               "data": {"validationCode": "code-42"}}]  # fmt: skip


async def test_acs_events_need_acs_events_secret_or_the_loud_opt_out() -> None:
    env = {"VOICEAGENT_PUBLIC_URL": PUBLIC, "ACS_CONNECTION_STRING": ACS}
    async with serve(**env) as (host, _), aiohttp.ClientSession() as http:
        refused = await http.post(f"http://{host}/acs/events", json=VALIDATION)
        assert refused.status == 503
        assert "ACS_EVENTS_SECRET" in await refused.text()
    secret = "acs-events-SECRET-0123456789abcdef"
    async with (
        serve("--log-format", "json", ACS_EVENTS_SECRET=secret, **env) as (host, proc),
        aiohttp.ClientSession() as http,
    ):
        events = f"http://{host}/acs/events"
        async with http.post(events, json=VALIDATION) as unsigned:
            assert unsigned.status == 403
        async with http.post(f"{events}?code={secret}", json=VALIDATION) as handshake:
            assert await handshake.json() == {"validationResponse": "code-42"}
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        assert proc.stderr is not None
        logs = await proc.stderr.read()
        assert b"/acs/events" in logs and secret.encode() not in logs
    async with (
        serve("--allow-unauthenticated-acs-events", **env) as (host, proc),
        aiohttp.ClientSession() as http,
    ):
        async with http.post(f"http://{host}/acs/events", json=VALIDATION) as open_route:
            assert await open_route.json() == {"validationResponse": "code-42"}
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        assert proc.stderr is not None
        assert b"UNAUTHENTICATED ACS EVENTS" in await proc.stderr.read()


async def test_a_short_acs_events_secret_stops_serve_saying_how_to_make_one() -> None:
    env = {**os.environ, "VOICEAGENT_PUBLIC_URL": PUBLIC, "ACS_EVENTS_SECRET": "short"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--emulator", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"at least 16" in err and b"token_urlsafe" in err
