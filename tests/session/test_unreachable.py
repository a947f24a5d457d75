"""An endpoint that cannot be reached at all is reported at once, with what to check."""

from __future__ import annotations

import socket

import pytest

from voiceagent import AgentConfig, ConnectError, VoiceAgentSession
from voiceagent.audio.memory import MemoryAudio
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_fails_start_without_retrying() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    session = VoiceAgentSession(
        endpoint,
        AgentConfig(agent_name="concierge", project_name="contoso"),
        credential=EmulatorCredential(),
        audio=MemoryAudio(),
    )
    retries: list[object] = []
    session.on("voiceagent.reconnecting", retries.append)
    with pytest.raises(ConnectError, match="nothing listens there") as info:
        await session.start()
    assert retries == []  # reported at the first attempt, not after the reconnect policy's ~18 s
    assert endpoint in str(info.value) and info.value.retryable is False
