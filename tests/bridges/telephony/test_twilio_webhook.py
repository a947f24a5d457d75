"""POST /twilio/voice: signed webhooks only, a one-time token the media stream must present."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from phone_server import Sessions
from twilio.request_validator import RequestValidator

from local_http import listening
from session_helpers import TOKEN
from voiceagent.emulator import Emulator
from voiceagent.serve.telephony import hold_call
from voiceagent.serve.twilio_voice import StreamTokens, add_twilio_webhook
from voiceagent.testing.carriers import FakeTwilioCall

pytestmark = pytest.mark.usefixtures("clean_env")

AUTH_TOKEN = "twilio-auth-SECRET-0123456789"
PUBLIC = "https://voice.example.com"


@asynccontextmanager
async def app_with_webhook(emu: Emulator) -> AsyncIterator[tuple[str, Sessions]]:
    tokens = StreamTokens()
    sessions = Sessions(emu)
    app = web.Application()
    add_twilio_webhook(app, public_url=PUBLIC, auth_token=AUTH_TOKEN, tokens=tokens)

    async def media(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "twilio", sessions, check=tokens.check)

    app.router.add_get("/media/twilio", media)
    async with listening(app) as host:
        yield host, sessions


async def test_signed_webhook_mints_a_one_time_stream_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    form = {"CallSid": "CA" + "1" * 32, "From": "+15550100", "To": "+15550199"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/twilio/voice", form)
    async with (
        Emulator(token=TOKEN, realtime=False) as emu,
        app_with_webhook(emu) as (host, sessions),
        aiohttp.ClientSession() as http,
    ):
        url = f"http://{host}/twilio/voice"
        async with http.post(url, data=form) as unsigned:
            assert unsigned.status == 403
        async with http.post(url, data=form, headers={"X-Twilio-Signature": "bad="}) as forged:
            assert forged.status == 403
        tampered = {**form, "From": "+15550666"}
        headers = {"X-Twilio-Signature": signature}
        async with http.post(url, data=tampered, headers=headers) as changed:
            assert changed.status == 403
        async with http.post(url, data=form, headers=headers) as answered:
            assert answered.status == 200
            twiml = await answered.text()
        assert answered.content_type == "text/xml"
        assert '<Stream url="wss://voice.example.com/media/twilio">' in twiml
        minted = re.search(r'<Parameter name="token" value="([^"]+)"', twiml)
        assert minted is not None
        token = minted.group(1)
        media = f"ws://{host}/media/twilio"
        # the wrong call, or no token: refused, no session
        call = FakeTwilioCall(media, parameters={"token": token})
        call.call_sid = "CA" + "2" * 32
        async with call:
            await call.wait_closed_by_server(timeout=5)
        assert sessions.calls.empty()
        # (the token was minted for another call, so that attempt spent it: mint a new one)
        async with http.post(url, data=form, headers=headers) as answered:
            token = re.findall(r'value="([^"]+)"', await answered.text())[0]
        right = FakeTwilioCall(media, parameters={"token": token})
        right.call_sid = form["CallSid"]
        async with right:
            session, _ = await asyncio.wait_for(sessions.calls.get(), 10)
            ready: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            session.once("voiceagent.session_ready", lambda e: ready.done() or ready.set_result(e))
            await asyncio.wait_for(ready, 10)
        replay = FakeTwilioCall(media, parameters={"token": token})
        replay.call_sid = form["CallSid"]
        async with replay:  # a token works once
            await replay.wait_closed_by_server(timeout=5)
        assert sessions.calls.empty()
    assert AUTH_TOKEN not in caplog.text and token not in caplog.text
