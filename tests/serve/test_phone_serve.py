"""``voiceagent serve --public-url``: the phone routes of the real process, next to the page."""

from __future__ import annotations

import asyncio
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

AUTH_TOKEN = "twilio-auth-SECRET-0123456789"
PUBLIC = "https://voice.example.com"
GREETING = "Hi."


@asynccontextmanager
async def serve(*args: str, **env: str) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    environment = {**os.environ, "AZURE_VOICELIVE_API_KEY": "sk-phone-serve-0123", **env}
    for name in ("VOICEAGENT_PUBLIC_URL", "ACS_CONNECTION_STRING"):
        if name not in env:
            environment.pop(name, None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--emulator", "--port", "0", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=environment,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        found = re.search(r"open http://(\S+)/", line)
        assert found, line
        yield found.group(1), proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 15)


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
