"""Code beats environment: with the Azure samples' complete .env loaded, what the app passes in
code is what the session uses; the environment only fills what the code left unset.

The environment's endpoint points at a closed loopback port: if it ever won over the code, the
test would fail to connect (and never reach a real address)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential

from session_helpers import KEY, TOKEN
from voiceagent import AgentConfig, MemoryAudio, SessionOptions, VoiceAgentSession
from voiceagent.emulator import Emulator
from voiceagent.testing import EmulatorCredential

ENV_KEY = "env-key-from-the-samples-dotenv-0123456789"
SAMPLES_DOTENV = {
    "AZURE_VOICELIVE_ENDPOINT": "http://127.0.0.1:1",
    "VOICELIVE_ENDPOINT": "http://127.0.0.1:1",
    "AZURE_VOICELIVE_API_KEY": ENV_KEY,
    "AGENT_NAME": "env-agent",
    "PROJECT_NAME": "env-project",
    "AGENT_VERSION": "9",
    "CONVERSATION_ID": "conv_from_env",
    "FOUNDRY_RESOURCE_OVERRIDE": "env-resource",
    "AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID": "env-client-id",
    "VOICE_NAME": "en-US-Andrew:DragonHDLatestNeural",
    "VOICELIVE_MODEL": "gpt-4o-env",
    "AZURE_VOICELIVE_MODEL": "gpt-4o-env",
    "VOICELIVE_API_VERSION": "2026-07-15",
}


@pytest.fixture
def dotenv_loaded(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SAMPLES_DOTENV.items():
        monkeypatch.setenv(name, value)


pytestmark = pytest.mark.usefixtures("dotenv_loaded")


async def ready(session: VoiceAgentSession, emu: Emulator) -> Any:
    async with session:
        return await emu.wait_for_session(timeout=5)


async def test_agent_mode_with_a_token_credential_ignores_the_env_key() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        agent = AgentConfig(agent_name="concierge", project_name="contoso")
        session = VoiceAgentSession(
            emu.endpoint, agent, credential=EmulatorCredential(TOKEN), audio=MemoryAudio()
        )
        server = await ready(session, emu)
    assert server.headers.get("authorization") == f"Bearer {TOKEN}"
    assert "api-key" not in server.headers
    assert server.query["agent-name"] == "concierge"  # AGENT_NAME does not override the code
    assert "model" not in server.query  # VOICELIVE_MODEL is not sent next to an agent
    assert "conversation-id" not in server.query  # CONVERSATION_ID is read only by from_env()


async def test_model_mode_with_a_key_in_code_uses_that_key() -> None:
    async with Emulator(api_key=KEY, realtime=False) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            audio=MemoryAudio(),
        )
        server = await ready(session, emu)
    assert server.headers.get("api-key") == KEY
    assert server.query["model"] == "gpt-realtime"


async def test_model_mode_with_a_token_credential_ignores_the_env_key() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=EmulatorCredential(TOKEN),
            audio=MemoryAudio(),
        )
        server = await ready(session, emu)
    assert server.headers.get("authorization") == f"Bearer {TOKEN}"


async def test_model_mode_without_a_credential_takes_the_env_key() -> None:
    async with Emulator(api_key=ENV_KEY, realtime=False) as emu:
        session = VoiceAgentSession(emu.endpoint, model="gpt-realtime", audio=MemoryAudio())
        server = await ready(session, emu)
    assert server.headers.get("api-key") == ENV_KEY


async def test_voice_from_env_only_through_from_env() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        agent = AgentConfig(agent_name="concierge", project_name="contoso")
        explicit = VoiceAgentSession(
            emu.endpoint,
            agent,
            credential=EmulatorCredential(TOKEN),
            audio=MemoryAudio(),
            options=SessionOptions(voice="alloy"),
        )
        server = await ready(explicit, emu)
        update = await server.wait_for_client_event("session.update", timeout=5)
    voice = update["session"]["voice"]
    name = voice if isinstance(voice, str) else voice["name"]
    assert name == "alloy"  # VOICE_NAME does not override the code
    assert SessionOptions.from_env().voice is not None  # asked for on purpose: it is read


async def test_the_emulator_fixture_works_with_the_samples_env(
    voicelive_emulator: Emulator,
) -> None:
    session = VoiceAgentSession(
        voicelive_emulator.endpoint,
        AgentConfig(agent_name="concierge", project_name="contoso"),
        credential=EmulatorCredential("anything"),
        audio=MemoryAudio(speed=8.0),
        greeting="Hello.",
    )
    turn: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    session.once("voiceagent.turn", turn.set_result)
    async with session:
        assert (await asyncio.wait_for(turn, 10)).text == "Hello."
