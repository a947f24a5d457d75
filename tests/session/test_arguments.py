"""Every bad argument is a clear error at construction (or before any I/O), naming the fix."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential

from session_helpers import KEY, TOKEN
from voiceagent import (
    AgentConfig,
    AudioError,
    BargeInPolicy,
    ConfigError,
    MemoryAudio,
    NullAudio,
    SessionClosedError,
    SessionOptions,
    SessionState,
    VoiceAgentSession,
)
from voiceagent.emulator import Emulator
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")

ENDPOINT = "http://127.0.0.1:9"
AGENT = AgentConfig(agent_name="concierge", project_name="contoso")


def make(**kwargs: Any) -> VoiceAgentSession:
    base: dict[str, Any] = {"credential": EmulatorCredential(TOKEN), "audio": NullAudio()}
    base.update(kwargs)
    endpoint = base.pop("endpoint", ENDPOINT)
    agent = base.pop("agent", AGENT)
    return VoiceAgentSession(endpoint, agent, **base)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"options": {"voice": "alloy"}}, ["options", "SessionOptions(**"]),
        ({"options": "fast"}, ["options", "SessionOptions"]),
        ({"greeting": 5}, ["greeting", "int"]),
        ({"greeting": "   "}, ["greeting", "empty"]),
        ({"audio": "default"}, ["audio", "SoundDeviceAudio"]),
        ({"audio": object()}, ["audio", "AudioBackend"]),
        ({"agent": "concierge"}, ["agent", "AgentConfig(agent_name='concierge'"]),
        ({"agent": 3}, ["agent", "AgentConfig"]),
        ({"ready_timeout": -1}, ["ready_timeout", "positive"]),
        ({"ready_timeout": True}, ["ready_timeout", "number"]),
        ({"ready_timeout": float("inf")}, ["ready_timeout", "positive"]),
        ({"barge_in": "off"}, ["barge_in", "BargeInPolicy"]),
        ({"endpoint": "http://127.0.0.1:99999"}, ["99999", "port"]),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs: dict[str, Any], names: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        make(**kwargs)
    message = str(info.value)
    for name in names:
        assert name in message, message
    assert "(from environment: )" not in message


def test_greeting_llm_in_any_case_is_the_generated_greeting() -> None:
    assert make(greeting="LLM").greeting == "llm"
    assert make(greeting=" Llm ").greeting == "llm"
    assert make(greeting="Hello LLM fans").greeting == "Hello LLM fans"


def test_barge_in_policy_values_are_checked() -> None:
    with pytest.raises(ConfigError, match="cancel_response"):
        BargeInPolicy(cancel_response="sometimes")  # type: ignore[arg-type]


def test_numbers_are_not_booleans_in_options() -> None:
    with pytest.raises(ConfigError, match="temperature"):
        SessionOptions(temperature=True)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_response_output_tokens"):
        SessionOptions(max_response_output_tokens=True)  # type: ignore[arg-type]


def test_a_log_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory") as info:
        make(log_path=tmp_path)
    assert "conversation.jsonl" in str(info.value)  # suggests a file inside it
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        make(log_path=blocker / "log.jsonl")


def test_a_bare_on_decorator_names_the_fix() -> None:
    session = make()
    with pytest.raises(TypeError, match='@session.on\\("response.done"\\)'):

        @session.on  # type: ignore[call-overload]
        def handler(event: Any) -> None: ...


@pytest.mark.parametrize("text", ["", "   ", None, 5])
async def test_empty_or_non_text_messages_are_refused_and_nothing_is_sent(text: Any) -> None:
    async with Emulator(api_key=KEY, realtime=False) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            audio=MemoryAudio(),
        )
        async with session:
            server = await emu.wait_for_session(timeout=5)
            with pytest.raises(ConfigError, match="send_text"):
                await session.send_text(text)
            with pytest.raises(ConfigError, match="say"):
                await session.say(text)
        sent = [e["type"] for e in server.received]
        assert "conversation.item.create" not in sent and "response.create" not in sent
        assert session.log.turns == []


async def test_a_typed_message_is_logged_only_once_the_service_accepts_it() -> None:
    async with Emulator(api_key=KEY, realtime=False, max_frame_bytes=64 * 1024) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            audio=MemoryAudio(),
        )
        errors: list[Any] = []
        session.on("error", errors.append)
        async with session:
            server = emu.sessions[0]
            await session.send_text("x" * 100_000, respond=False)  # over the service's limit
            await server.wait_for_server_event("error", timeout=5)
            logged = asyncio.get_running_loop().create_future()
            session.once("voiceagent.turn", logged.set_result)
            await session.send_text("hello there", respond=False)
            assert (await asyncio.wait_for(logged, 5)).text == "hello there"
        assert errors  # the app saw the refusal
        # what the service refused was never said: only the accepted message is logged
        assert [(t.role, t.text) for t in session.log.turns] == [("user", "hello there")]


async def test_a_missing_microphone_fails_before_the_service_is_contacted() -> None:
    class NoMicrophone(NullAudio):
        async def start(self, fmt: Any, listener: Any) -> None:
            raise AudioError("no input device: plug in a microphone or pass WavAudio")

    async with Emulator(api_key=KEY, realtime=False) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            audio=NoMicrophone(),
        )
        with pytest.raises(AudioError, match="no input device"):
            await session.start()
        assert session.state is SessionState.CLOSED
        assert emu.sessions == []  # never connected
        with pytest.raises(SessionClosedError):
            await session.send_text("hi")
