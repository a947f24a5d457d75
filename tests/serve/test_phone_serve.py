"""``voiceagent serve --public-url``: the phone routes of the real process, next to the page."""

from __future__ import annotations

import asyncio
import re
import signal
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
    unset = tuple(n for n in ("VOICEAGENT_PUBLIC_URL", "ACS_CONNECTION_STRING") if n not in env)
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
        assert AUTH_TOKEN.encode() not in await proc.stderr.read()


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
