"""An ACS media socket with ACS's bearer JWT: valid (RS256, issuer, audience, JWKS key) or not."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from local_http import listening
from session_helpers import TOKEN
from voiceagent import AgentConfig, VoiceAgentSession
from voiceagent.audio.base import AudioBackend
from voiceagent.emulator import Emulator
from voiceagent.serve.acs_auth import ACS_ISSUER
from voiceagent.serve.telephony import add_phone_routes
from voiceagent.testing import EmulatorCredential
from voiceagent.testing.carriers import FakeAcsCall

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")


class Sessions:
    """A SessionMaker against the emulator that hands each call to the test."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.calls: asyncio.Queue[VoiceAgentSession] = asyncio.Queue()

    def create(self, *, audio: AudioBackend, **kwargs: Any) -> VoiceAgentSession:
        session = VoiceAgentSession(
            self.emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN), audio=audio
        )
        self.calls.put_nowait(session)
        return session


pytestmark = pytest.mark.usefixtures("clean_env")

RESOURCE = "0f3c6a1e-acs-resource-immutable-id"


def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed(key: rsa.RSAPrivateKey, kid: str = "acs-1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ACS_ISSUER, "aud": RESOURCE, "iat": now, "nbf": now, "exp": now + 300}
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


@asynccontextmanager
async def acs_server(emu: Emulator, key: rsa.RSAPrivateKey) -> AsyncIterator[tuple[str, Sessions]]:
    """A fake of ACS's JWKS (publishing ``key``) and the phone routes checking against it."""
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="acs-1", use="sig", alg="RS256")

    async def keys(request: web.Request) -> web.Response:
        return web.json_response({"keys": [jwk]})

    jwks = web.Application()
    jwks.router.add_get("/calling/keys", keys)
    sessions = Sessions(emu)
    async with listening(jwks) as jwks_host:
        phone = web.Application()
        add_phone_routes(
            phone,
            sessions,
            public_url="https://voice.example.com",
            acs_resource_id=RESOURCE,
            acs_jwks_url=f"http://{jwks_host}/calling/keys",
        )
        async with listening(phone) as host:
            yield f"ws://{host}/media/acs", sessions


async def refused(url: str, headers: dict[str, str]) -> None:
    call = FakeAcsCall(url, headers=headers)
    async with call:
        await call.wait_closed_by_server(timeout=10)


async def test_a_valid_acs_jwt_opens_the_call_and_an_invalid_one_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key, other = private_key(), private_key()
    async with (
        Emulator(token=TOKEN, realtime=False) as emu,
        acs_server(emu, key) as (url, sessions),
    ):
        forged = signed(other)  # right claims, a key ACS never published
        for token in (
            forged,
            signed(key, aud="someone-elses-resource"),
            signed(key, iss="https://attacker.example.com"),
            signed(key, exp=int(time.time()) - 600),
        ):
            await refused(url, {"Authorization": f"Bearer {token}"})
        await refused(url, {})  # no JWT and no minted token: refused too
        assert sessions.calls.empty()
        good = signed(key)
        call = FakeAcsCall(url, headers={"Authorization": f"Bearer {good}"})
        async with call:
            session = await asyncio.wait_for(sessions.calls.get(), 10)
            await call.wait_ticks(5)
            assert not call.closed_by_server.is_set()
        assert session is not None
    assert good not in caplog.text and forged not in caplog.text
    assert "invalid JWT" in caplog.text
