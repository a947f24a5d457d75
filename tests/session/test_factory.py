"""SessionFactory: one configuration and one credential for many sessions, against the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from session_helpers import TOKEN
from voiceagent import AgentConfig, ConfigError, SessionFactory, SessionState
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")


class ClosableCredential(EmulatorCredential):
    """An emulator token credential that counts instances and closes, as DefaultAzureCredential."""

    instances: list[ClosableCredential] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(TOKEN)
        self.closed = 0
        ClosableCredential.instances.append(self)

    async def close(self) -> None:
        self.closed += 1


async def test_two_sessions_share_one_credential_and_both_talk() -> None:
    script = AgentScript(rules=[("weather", "It is sunny.")])
    shared = ClosableCredential()
    async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
        async with SessionFactory(emu.endpoint, AGENT, credential=shared) as factory:
            assert factory.credential is shared
            one = factory.create(audio=MemoryAudio(speed=8.0))
            two = factory.create(audio=MemoryAudio(speed=8.0))
            async with one, two:
                assert one.session_id != two.session_id
                await one.send_text("what is the weather")
                await two.send_text("the weather please")
                await asyncio.gather(one.wait_for_reply(timeout=10), two.wait_for_reply(timeout=10))
            assert one.state is two.state is SessionState.CLOSED
            assert shared.closed == 0  # closing a session never closes the shared credential
        assert shared.closed == 0  # the caller's credential stays the caller's
    # both sessions asked the one credential object for their token
    assert len(shared.scopes) == 2
    for session in (one, two):
        texts = [t.text for t in session.log.turns if t.role == "assistant"]
        assert texts == ["It is sunny."]


def test_without_a_credential_one_default_credential_is_built_and_closed_by_the_factory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import azure.identity.aio

    ClosableCredential.instances.clear()
    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", ClosableCredential)
    factory = SessionFactory("https://contoso.services.ai.azure.com", AGENT)
    sessions = [factory.create(audio=MemoryAudio()) for _ in range(3)]
    assert len(ClosableCredential.instances) == 1  # one credential, not one per session
    assert factory.credential is ClosableCredential.instances[0]

    async def close() -> None:
        for session in sessions:
            await session.aclose()  # idle sessions close at once
        assert ClosableCredential.instances[0].closed == 0
        await factory.aclose()
        await factory.aclose()

    asyncio.run(close())
    assert ClosableCredential.instances[0].closed == 1
    assert len(ClosableCredential.instances) == 1


def test_a_forgotten_audio_is_an_error_not_the_sound_card() -> None:
    factory = SessionFactory(
        "https://contoso.services.ai.azure.com", AGENT, credential=EmulatorCredential()
    )
    with pytest.raises(ConfigError, match="needs audio="):
        factory.create()
    with pytest.raises(ConfigError, match="credential"):
        factory.create(audio=MemoryAudio(), credential=EmulatorCredential())


def test_a_local_endpoint_without_a_credential_fails_before_building_one() -> None:
    with pytest.raises(ConfigError, match="local endpoint"):
        SessionFactory("http://127.0.0.1:9", AGENT)


async def test_close_all_closes_every_open_session_concurrently() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        factory = SessionFactory(emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN))
        sessions = [factory.create(audio=MemoryAudio()) for _ in range(3)]
        for session in sessions:
            await session.start()
        await factory.close_all()
        assert all(s.state is SessionState.CLOSED for s in sessions)
        await factory.aclose()
        with pytest.raises(ConfigError, match="closed"):
            factory.create(audio=MemoryAudio())
