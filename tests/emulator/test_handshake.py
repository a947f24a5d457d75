"""Item 1: path, api-version, auth per mode, configurable credentials, no secrets in logs."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from azure.ai.voicelive.aio import ConnectionError as VoiceLiveConnectionError
from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

from voiceagent.emulator import Emulator

from .helpers import KEY, TOKEN, FakeTokenCredential, model_connection

# A WebSocket upgrade request whose refusal body can be read (a plain GET gets 426 first).
UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


def _status(exc: BaseException) -> int:
    cause = exc.__cause__
    assert cause is not None, exc
    return int(getattr(cause, "status", 0))


@pytest.mark.parametrize(
    "version", ["2025-10-01", "2026-01-01-preview", "2026-04-10", "2026-07-15"]
)
async def test_sdk_api_versions_accepted(version: str) -> None:
    async with (
        Emulator(realtime=False) as emu,
        model_connection(emu.endpoint, api_version=version) as conn,
    ):
        event = await conn.recv()
        assert event.type == "session.created"
        assert emu.sessions[0].query["api-version"] == version


@pytest.mark.parametrize("version", ["2024-01-01", "banana"])
async def test_wrong_api_version_is_400(version: str) -> None:
    async with Emulator() as emu:
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with model_connection(emu.endpoint, api_version=version):
                pass
        assert _status(info.value) == 400
        assert emu.sessions == []


async def test_missing_api_version_is_400_with_clear_body() -> None:
    async with Emulator() as emu, aiohttp.ClientSession() as http:
        url = f"{emu.endpoint}/voice-live/realtime?model=gpt-realtime"
        async with http.get(url, headers={"api-key": KEY, **UPGRADE}) as resp:
            assert resp.status == 400
            body = await resp.json()
            assert "api-version" in body["error"]["message"]


async def test_missing_auth_is_401() -> None:
    async with Emulator() as emu:
        with pytest.raises(VoiceLiveConnectionError) as info:
            # The SDK always adds a credential header; an empty one is "no credential".
            async with model_connection(emu.endpoint, headers={"api-key": ""}):
                pass
        assert _status(info.value) == 401


async def test_configured_key_and_token_are_enforced() -> None:
    async with Emulator(api_key=KEY, token=TOKEN) as emu:
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with model_connection(emu.endpoint, credential=AzureKeyCredential("wrong")):
                pass
        assert _status(info.value) == 401
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with model_connection(emu.endpoint, credential=FakeTokenCredential("wrong")):
                pass
        assert _status(info.value) == 401
        async with model_connection(emu.endpoint, credential=AzureKeyCredential(KEY)) as conn:
            assert (await conn.recv()).type == "session.created"
        async with model_connection(emu.endpoint, credential=FakeTokenCredential()) as conn:
            assert (await conn.recv()).type == "session.created"
        assert emu.sessions[0].headers["api-key"] == KEY
        assert emu.sessions[1].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_any_nonempty_credential_accepted_by_default() -> None:
    async with (
        Emulator() as emu,
        model_connection(emu.endpoint, credential=AzureKeyCredential("x")) as conn,
    ):
        assert (await conn.recv()).type == "session.created"


async def test_model_or_agent_required() -> None:
    async with Emulator() as emu:
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with connect(endpoint=emu.endpoint, credential=AzureKeyCredential(KEY)):
                pass
        assert _status(info.value) == 400


async def test_agent_mode_refuses_key_auth_with_clear_message() -> None:
    async with Emulator() as emu:
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with connect(
                endpoint=emu.endpoint,
                credential=AzureKeyCredential(KEY),
                agent_name="concierge",
                project_name="contoso",
            ):
                pass
        assert _status(info.value) == 401
        async with aiohttp.ClientSession() as http:
            url = (
                f"{emu.endpoint}/voice-live/realtime?api-version=2026-07-15"
                "&agent-name=concierge&agent-project-name=contoso"
            )
            async with http.get(url, headers={"api-key": KEY, **UPGRADE}) as resp:
                assert resp.status == 401
                message = (await resp.json())["error"]["message"]
        assert "Entra ID" in message and "key auth is not supported" in message


async def test_agent_mode_with_bearer_records_agent_parameters() -> None:
    credential = FakeTokenCredential()
    async with (
        Emulator(agent_description="Books rooms", realtime=False) as emu,
        connect(
            endpoint=emu.endpoint,
            credential=credential,
            agent_name="concierge",
            project_name="contoso",
            agent_version="4",
            foundry_resource_override="other-resource",
        ) as conn,
    ):
        created = await conn.recv()
        agent = created.session["agent"]
        assert agent["type"] == "agent"
        assert agent["name"] == "concierge"
        assert agent["description"] == "Books rooms"
        assert agent["agent_id"] == "concierge:4"
        s = await emu.wait_for_session()
        assert s.mode == "agent"
        assert s.agent_version == "4"
        assert s.foundry_resource_override == "other-resource"
        assert s.query["agent-project-name"] == "contoso"
        assert credential.scopes == [("https://ai.azure.com/.default",)]


async def test_agent_id_setting_is_reported() -> None:
    async with (
        Emulator(agent_id="asst_123") as emu,
        connect(
            endpoint=emu.endpoint,
            credential=FakeTokenCredential(),
            agent_name="concierge",
            project_name="contoso",
        ) as conn,
    ):
        await conn.session.update(session={"instructions": "hi"})
        await conn.recv()
        updated = await conn.recv()
        assert updated.type == "session.updated"
        assert updated.session["agent"]["agent_id"] == "asst_123"


async def test_only_one_agent_parameter_is_400() -> None:
    async with Emulator() as emu:
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with connect(
                endpoint=emu.endpoint,
                credential=FakeTokenCredential(),
                query={"agent-name": "concierge"},
            ):
                pass
        assert _status(info.value) == 400


async def test_classic_agent_mode() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        query = {"agent-id": "asst_1", "agent-project-name": "contoso", "agent-access-token": TOKEN}
        async with connect(
            endpoint=emu.endpoint, credential=AzureKeyCredential(KEY), query=query
        ) as conn:
            assert (await conn.recv()).type == "session.created"
        s = await emu.wait_for_session()
        assert s.mode == "classic_agent"
        hub = {
            "agent-id": "asst_1",
            "agent-connection-string": "conn;str",
            "agent-access-token": TOKEN,
        }
        async with connect(
            endpoint=emu.endpoint, credential=AzureKeyCredential(KEY), query=hub
        ) as conn:
            assert (await conn.recv()).type == "session.created"
        bad = {**query, "agent-access-token": "nope"}
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with connect(
                endpoint=emu.endpoint, credential=AzureKeyCredential(KEY), query=bad
            ):
                pass
        assert _status(info.value) == 401
        no_project = {"agent-id": "asst_1", "agent-access-token": TOKEN}
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with connect(
                endpoint=emu.endpoint, credential=AzureKeyCredential(KEY), query=no_project
            ):
                pass
        assert _status(info.value) == 400


async def test_wrong_path_is_404() -> None:
    async with (
        Emulator() as emu,
        aiohttp.ClientSession() as http,
        http.get(f"{emu.endpoint}/openai/realtime?api-version=2026-07-15") as resp,
    ):
        assert resp.status == 404


async def test_plain_http_request_gets_426() -> None:
    async with Emulator() as emu, aiohttp.ClientSession() as http:
        url = f"{emu.endpoint}/voice-live/realtime?api-version=2026-07-15&model=m"
        async with http.get(url, headers={"api-key": KEY}) as resp:
            assert resp.status == 426


async def test_secrets_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="voiceagent.emulator")
    secret_key, secret_token = "key-SECRET-1234", "tok-SECRET-5678"
    async with Emulator(api_key=secret_key, token=secret_token, realtime=False) as emu:
        async with model_connection(
            emu.endpoint, credential=AzureKeyCredential(secret_key)
        ) as conn:
            await conn.recv()
        with pytest.raises(VoiceLiveConnectionError):
            async with model_connection(
                emu.endpoint, credential=AzureKeyCredential("wrong-SECRET")
            ):
                pass
        query = {"agent-id": "a", "agent-project-name": "p", "agent-access-token": secret_token}
        async with connect(
            endpoint=emu.endpoint, credential=FakeTokenCredential(secret_token), query=query
        ) as conn:
            await conn.recv()
    emulator_records = [r for r in caplog.records if r.name.startswith("voiceagent.emulator")]
    assert emulator_records, "the emulator should log connections"
    text = "\n".join(r.getMessage() for r in emulator_records)
    assert "SECRET" not in text
