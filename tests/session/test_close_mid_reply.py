"""aclose() in the middle of a reply: the partly heard reply always reaches the conversation log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from session_helpers import TOKEN
from voiceagent import AgentConfig, VoiceAgentSession
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")
REPLY = "Let me tell you a rather long story about the weather in Paris and London. " * 3


@pytest.mark.parametrize("realtime", [True, False], ids=["streaming", "all-received"])
@pytest.mark.parametrize("heard_ms", [400, 1500])
async def test_aclose_mid_reply_logs_the_heard_part(
    heard_ms: int, realtime: bool, tmp_path: Path
) -> None:
    log_path = tmp_path / "conversation.jsonl"
    async with Emulator(token=TOKEN, realtime=realtime, script=AgentScript(default=REPLY)) as emu:
        audio = MemoryAudio(speed=1.0)
        session = VoiceAgentSession(
            emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=audio,
            log_path=log_path,
        )
        async with session:
            await session.send_text("tell me a story")
            await audio.wait_heard(heard_ms, timeout=20)
            await session.aclose()
    [turn] = [t for t in session.log.turns if t.role == "assistant"]
    assert turn.interrupted
    assert turn.text and REPLY.startswith(turn.text) and len(turn.text) < len(REPLY.strip())
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [r["text"] for r in records if r.get("role") == "assistant"] == [turn.text]


async def test_closing_many_sessions_at_once_logs_each_heard_part(tmp_path: Path) -> None:
    from voiceagent import SessionFactory

    async with Emulator(token=TOKEN, realtime=True, script=AgentScript(default=REPLY)) as emu:
        factory = SessionFactory(emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN))
        audios = [MemoryAudio(speed=1.0) for _ in range(3)]
        sessions = [
            factory.create(audio=a, log_path=tmp_path / f"{i}.jsonl") for i, a in enumerate(audios)
        ]
        for session in sessions:
            await session.start()
            await session.send_text("tell me a story")
        await asyncio.gather(*(a.wait_heard(800, timeout=20) for a in audios))
        await factory.aclose()  # closes every session concurrently
        # each service session was told what its user heard
        truncates = [
            [e for e in served.received if e.get("type") == "conversation.item.truncate"]
            for served in emu.sessions
        ]
    assert len(truncates) == 3 and all(len(t) == 1 for t in truncates), truncates
    for i, session in enumerate(sessions):
        [turn] = [t for t in session.log.turns if t.role == "assistant"]
        assert turn.interrupted and turn.text and REPLY.startswith(turn.text)
        lines = (tmp_path / f"{i}.jsonl").read_text().splitlines()
        assert any(json.loads(line).get("text") == turn.text for line in lines)
