"""Two replicas with one signing secret: a call answered by one is taken by the other."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

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
from voiceagent.serve import PhoneSettings, create_app
from voiceagent.serve.acs_events import (
    ACS_STREAM,
    CORRELATION_HEADER,
    CallbackTokens,
    acs_stream_check,
    add_acs_events,
)
from voiceagent.serve.signed_tokens import TokenSigner
from voiceagent.serve.telephony import hold_call
from voiceagent.serve.twilio_voice import StreamTokens, add_twilio_webhook
from voiceagent.testing.carriers import FakeAcsCall, FakeTwilioCall

pytestmark = pytest.mark.usefixtures("clean_env")

PUBLIC = "https://voice.example.com"
AUTH_TOKEN = "twilio-auth-SECRET-0123456789"
SIGNING = "signing-SECRET-shared-by-every-replica-0123456789"
OTHER = "signing-SECRET-of-another-deployment-9876543210"
EVENTS_SECRET = "event-grid-SECRET-0123456789abcdef"
ACCESS_KEY = base64.b64encode(b"acs-access-key-SECRET").decode()


def replica(sessions: Sessions, secret: str | None) -> web.Application:
    """``voiceagent serve``'s app with the phone routes, as every replica runs it."""
    phone = PhoneSettings(public_url=PUBLIC, twilio_auth_token=AUTH_TOKEN, signing_secret=secret)
    return create_app(sessions, phone=phone)


async def answer_twilio(http: aiohttp.ClientSession, host: str, call_sid: str) -> str:
    """POST the signed voice webhook to ``host``; the stream token of its TwiML."""
    form = {"CallSid": call_sid, "From": "+15550100", "To": "+15550199"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/twilio/voice", form)
    headers = {"X-Twilio-Signature": signature}
    async with http.post(f"http://{host}/twilio/voice", data=form, headers=headers) as answered:
        assert answered.status == 200
        minted = re.search(r'<Parameter name="token" value="([^"]+)"', await answered.text())
    assert minted is not None
    return minted.group(1)


async def refused(url: str, token: str, call_sid: str) -> bool:
    """Whether the server at ``url`` hangs up on a Twilio stream presenting ``token``."""
    call = FakeTwilioCall(url, parameters={"token": token})
    call.call_sid = call_sid
    async with call:
        await call.wait_closed_by_server(timeout=5)
    return True


async def taken(url: str, token: str, call_sid: str, sessions: Sessions) -> None:
    """A Twilio stream presenting ``token`` to ``url`` gets a session that becomes ready."""
    call = FakeTwilioCall(url, parameters={"token": token})
    call.call_sid = call_sid
    async with call:
        session, _ = await asyncio.wait_for(sessions.calls.get(), 10)
        ready: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        session.once("voiceagent.session_ready", lambda e: ready.done() or ready.set_result(e))
        await asyncio.wait_for(ready, 10)
        assert not call.closed_by_server.is_set()


async def test_a_twilio_stream_is_taken_by_another_replica_with_the_same_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    call_sid = "CA" + "5" * 32
    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(Emulator(token=TOKEN, realtime=False))
        on_a, on_b, on_c = Sessions(emu), Sessions(emu), Sessions(emu)
        a = await stack.enter_async_context(listening(replica(on_a, SIGNING)))
        b = await stack.enter_async_context(listening(replica(on_b, SIGNING)))
        c = await stack.enter_async_context(listening(replica(on_c, OTHER)))
        http = await stack.enter_async_context(aiohttp.ClientSession())

        token = await answer_twilio(http, a, call_sid)
        # another deployment's secret, another call, or an ACS socket: refused, no session
        assert await refused(f"ws://{c}/media/twilio", token, call_sid)
        assert await refused(f"ws://{b}/media/twilio", token, "CA" + "6" * 32)
        acs = FakeAcsCall(
            f"ws://{b}/media/acs?token={token}", headers={CORRELATION_HEADER: call_sid}
        )
        async with acs:  # a Twilio stream token is not an ACS media token
            await acs.wait_closed_by_server(timeout=5)
        assert on_b.calls.empty() and on_c.calls.empty()
        # the replica that did not answer the webhook takes the stream
        await taken(f"ws://{b}/media/twilio", token, call_sid, on_b)
        assert on_a.calls.empty()
        # and takes it once
        assert await refused(f"ws://{b}/media/twilio", token, call_sid)
        assert on_b.calls.empty()
    assert SIGNING not in caplog.text and OTHER not in caplog.text


@asynccontextmanager
async def twilio_replica(sessions: Sessions, signer: TokenSigner) -> AsyncIterator[str]:
    tokens = StreamTokens(signer=signer)
    app = web.Application()
    add_twilio_webhook(app, public_url=PUBLIC, auth_token=AUTH_TOKEN, tokens=tokens)

    async def media(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "twilio", sessions, check=tokens.check)

    app.router.add_get("/media/twilio", media)
    async with listening(app) as host:
        yield host


async def test_a_replica_whose_clock_is_past_the_expiry_refuses_the_stream() -> None:
    call_sid = "CA" + "8" * 32
    later = TokenSigner(SIGNING, clock=lambda: time.time() + 61.0)  # 60 s tokens
    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(Emulator(token=TOKEN, realtime=False))
        on_a, on_b = Sessions(emu), Sessions(emu)
        a = await stack.enter_async_context(twilio_replica(on_a, TokenSigner(SIGNING)))
        b = await stack.enter_async_context(twilio_replica(on_b, later))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        token = await answer_twilio(http, a, call_sid)
        assert await refused(f"ws://{b}/media/twilio", token, call_sid)
        assert on_b.calls.empty()
        await taken(f"ws://{a}/media/twilio", token, call_sid, on_a)  # still valid on time


@asynccontextmanager
async def acs_replica(
    client: CallAutomationClient, sessions: Sessions, secret: str
) -> AsyncIterator[str]:
    signer = TokenSigner(secret)
    tokens = StreamTokens(signer=signer, purpose=ACS_STREAM)
    app = web.Application()
    add_acs_events(
        app, public_url=PUBLIC, client=client, tokens=tokens, events_secret=EVENTS_SECRET,
        callback_tokens=CallbackTokens(signer=signer),
    )  # fmt: skip
    check = acs_stream_check(tokens)

    async def media(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "acs", sessions, check=check)

    app.router.add_get("/media/acs", media)
    async with listening(app) as host:
        yield host


def callback(kind: str, correlation: str) -> list[dict[str, object]]:
    data = {"correlationId": correlation, "callConnectionId": "conn-1"}
    return [{"type": f"Microsoft.Communication.{kind}", "data": data}]


async def test_an_acs_call_answered_by_one_replica_streams_and_calls_back_to_another(
    tmp_path: Path,
) -> None:
    correlation = "corr-replicas-1"
    data = {"incomingCallContext": "ctx-r", "correlationId": correlation}
    incoming = [{"eventType": "Microsoft.Communication.IncomingCall", "data": data}]
    async with AsyncExitStack() as stack:
        rest, ca_file = await stack.enter_async_context(fake_acs_rest(tmp_path))
        emu = await stack.enter_async_context(Emulator(token=TOKEN, realtime=False))
        client = CallAutomationClient.from_connection_string(
            f"endpoint={rest.url};accesskey={ACCESS_KEY}", connection_verify=str(ca_file)
        )
        await stack.enter_async_context(client)
        on_b = Sessions(emu)
        a = await stack.enter_async_context(acs_replica(client, Sessions(emu), SIGNING))
        b = await stack.enter_async_context(acs_replica(client, on_b, SIGNING))
        c = await stack.enter_async_context(acs_replica(client, Sessions(emu), OTHER))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        async with http.post(f"http://{a}/acs/events?code={EVENTS_SECRET}", json=incoming) as r:
            assert r.status == 200
        answer = rest.answers[0]
        callback_token = parse_qs(urlsplit(answer["callbackUri"]).query)["token"][0]
        media_query = urlsplit(answer["mediaStreamingOptions"]["transportUrl"]).query
        media_token = parse_qs(media_query)["token"][0]

        connected = callback("CallConnected", correlation)
        async with http.post(
            f"http://{c}/acs/callbacks?token={callback_token}", json=connected
        ) as r:
            assert r.status == 403  # another secret
        async with http.post(f"http://{b}/acs/callbacks?token={media_token}", json=connected) as r:
            assert r.status == 403  # the media token is not a callback token
        async with http.post(
            f"http://{b}/acs/callbacks?token={callback_token}", json=connected
        ) as r:
            assert r.status == 200  # the same secret: taken by the replica that did not answer
        async with http.post(
            f"http://{b}/acs/callbacks?token={callback_token}",
            json=callback("CallConnected", "corr-other"),
        ) as r:
            assert r.status == 403  # bound to its call

        headers = {CORRELATION_HEADER: correlation}
        stray = FakeAcsCall(f"ws://{b}/media/acs?token={callback_token}", headers=headers)
        async with stray:  # the callback token is not a media token
            await stray.wait_closed_by_server(timeout=5)
        assert on_b.calls.empty()
        call = FakeAcsCall(f"ws://{b}/media/acs?{media_query}", headers=headers)
        async with call:
            await asyncio.wait_for(on_b.calls.get(), 10)
            assert not call.closed_by_server.is_set()
        again = FakeAcsCall(f"ws://{b}/media/acs?{media_query}", headers=headers)
        async with again:  # once
            await again.wait_closed_by_server(timeout=5)
        assert on_b.calls.empty()


def test_the_kubernetes_replicas_share_one_signing_secret() -> None:
    import yaml

    root = Path(__file__).resolve().parents[3]
    deployment = yaml.safe_load((root / "deploy/k8s/deployment.yaml").read_text())
    assert deployment["spec"]["replicas"] > 1
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    source = env["VOICEAGENT_SIGNING_SECRET"]["valueFrom"]["secretKeyRef"]
    assert not source.get("optional")  # a pod without it would refuse the others' calls
