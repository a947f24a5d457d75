"""ACS's media-socket JWT keys found through its OpenID configuration (over HTTPS, cached)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from acs_rest_fake import CONFIG_PATH, FakeAcsOpenId, self_signed
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from phone_server import Sessions

from local_http import listening
from session_helpers import TOKEN
from voiceagent.emulator import Emulator
from voiceagent.serve.acs_auth import ACS_OPENID_CONFIG_URL, AcsJwtCheck
from voiceagent.serve.telephony import hold_call
from voiceagent.testing.carriers import FakeAcsCall

pytestmark = pytest.mark.usefixtures("clean_env")

RESOURCE = "5e1d0c7a-acs-immutable-resource-id"


@asynccontextmanager
async def https(app: web.Application, directory: Path) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """Serve ``app`` over TLS on 127.0.0.1; yields its base URL and a context trusting it."""
    cert, key = self_signed(directory)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    async with listening(app, ssl_context=server_side) as host:
        yield f"https://{host}", ssl.create_default_context(cafile=cert)


@asynccontextmanager
async def media_route(emu: Emulator, check: AcsJwtCheck) -> AsyncIterator[tuple[str, Sessions]]:
    sessions = Sessions(emu)

    async def media(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, "acs", sessions, check=check.check)

    app = web.Application()
    app.router.add_get("/media/acs", media)
    async with listening(app) as host:
        yield f"ws://{host}/media/acs", sessions


def test_the_keys_come_from_acs_openid_configuration_by_default() -> None:
    assert AcsJwtCheck(RESOURCE).openid_config_url == ACS_OPENID_CONFIG_URL
    assert ACS_OPENID_CONFIG_URL == (
        "https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration"
    )


async def test_the_jwks_uri_of_the_openid_configuration_is_read_once_and_its_keys_used(
    tmp_path: Path,
) -> None:
    fake = FakeAcsOpenId(rsa.generate_private_key(public_exponent=65537, key_size=2048), RESOURCE)
    openid = web.Application()
    openid.router.add_get(CONFIG_PATH, fake.config)
    openid.router.add_get("/calling/keys", fake.keys)
    async with (
        https(openid, tmp_path) as (base, trust),
        Emulator(token=TOKEN, realtime=False) as emu,
    ):
        check = AcsJwtCheck(RESOURCE, openid_config_url=base + CONFIG_PATH, ssl_context=trust)
        async with media_route(emu, check) as (url, sessions):
            for _ in range(2):
                headers = {"Authorization": f"Bearer {fake.token()}"}
                async with FakeAcsCall(url, headers=headers) as call:
                    await asyncio.wait_for(sessions.calls.get(), 10)
                    await call.wait_ticks(3)
                    assert not call.closed_by_server.is_set()
    assert fake.reads["config"] == 1 and fake.reads["keys"] >= 1


@pytest.mark.parametrize("problem", ["unreachable", "no jwks_uri"])
async def test_without_the_configurations_keys_a_socket_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, problem: str
) -> None:
    fake = FakeAcsOpenId(rsa.generate_private_key(public_exponent=65537, key_size=2048), RESOURCE)
    fake.jwks_uri = problem != "no jwks_uri"
    openid = web.Application()
    openid.router.add_get(CONFIG_PATH, fake.config)
    async with (
        https(openid, tmp_path) as (base, trust),
        Emulator(token=TOKEN, realtime=False) as emu,
    ):
        where = base + ("/nowhere" if problem == "unreachable" else CONFIG_PATH)
        check = AcsJwtCheck(RESOURCE, openid_config_url=where, ssl_context=trust)
        async with media_route(emu, check) as (url, sessions):
            headers = {"Authorization": f"Bearer {fake.token()}"}
            async with FakeAcsCall(url, headers=headers) as call:
                await call.wait_closed_by_server(timeout=10)
            assert sessions.calls.empty()
    assert "ACS's keys are unreachable" in caplog.text
