"""The conversation is kept whole: resumed after a drop at any stage, greeted once, and the
history and the log keep what the user heard, whatever ends the session."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from session_helpers import TOKEN, user_speech
from voiceagent import (
    AgentConfig,
    BargeInPolicy,
    ConnectionConfig,
    MemoryAudio,
    ReconnectPolicy,
    SessionState,
    VoiceAgentSession,
)
from voiceagent.emulator import AgentScript, Emulator, Faults
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")
FAST_RETRY = ReconnectPolicy(initial_backoff=0.01, max_backoff=0.05)
LONG_REPLY = "Let me tell you a rather long story about the weather in Paris and London. " * 3


def agent_session(emu: Emulator, agent: AgentConfig = AGENT, **kwargs: Any) -> VoiceAgentSession:
    return VoiceAgentSession(
        connection=ConnectionConfig(endpoint=emu.endpoint, reconnect=FAST_RETRY),
        agent=agent,
        credential=EmulatorCredential(TOKEN),
        audio=kwargs.pop("audio", None) or MemoryAudio(speed=4.0),
        **kwargs,
    )


def future_of(session: VoiceAgentSession, event: str) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    session.once(event, lambda e: fut.done() or fut.set_result(e))
    return fut


async def test_the_conversation_is_known_as_soon_as_the_session_is_ready(tmp_path: Path) -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        session = agent_session(emu, log_path=tmp_path / "log.jsonl")
        ready = future_of(session, "voiceagent.session_ready")
        async with session:
            event = await asyncio.wait_for(ready, 5)
            server = await emu.wait_for_session(timeout=5)
        # learned from session.updated (session.agent.thread_id), before any response.done
        assert event.conversation_id is not None
        assert event.conversation_id == server.conversation_id == session.conversation_id
        records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
        assert records[0]["kind"] == "session"
        assert records[0]["conversation_id"] == server.conversation_id


def _heal_on_retry(session: VoiceAgentSession, emu: Emulator) -> list[Any]:
    seen: list[Any] = []

    def heal(event: Any) -> None:
        seen.append(event)
        emu.faults = Faults()

    session.on("voiceagent.reconnecting", heal)
    return seen


@pytest.mark.parametrize(
    "stage", ["at connect", "before the first reply", "mid first reply", "later"]
)
async def test_a_drop_at_any_stage_resumes_the_same_conversation(stage: str) -> None:
    script = AgentScript(default=LONG_REPLY)
    async with Emulator(token=TOKEN, realtime=True, script=script) as emu:
        emu.faults = {
            "at connect": Faults(drop_after_events=1, drop_code=1011),  # after session.created
            "before the first reply": Faults(drop_after_events=2),  # after session.updated
            "mid first reply": Faults(drop_mid_response=True),
            "later": Faults(),
        }[stage]
        session = agent_session(emu, greeting="Hello there.")
        retries = _heal_on_retry(session, emu)
        reconnected = future_of(session, "voiceagent.reconnected")
        async with session:
            if stage == "later":
                await asyncio.wait_for(future_of(session, "voiceagent.turn"), 15)
                await emu.sessions[0].drop(code=1006)
            if stage != "at connect":
                event = await asyncio.wait_for(reconnected, 15)
                assert event.conversation_id == emu.sessions[0].conversation_id
            assert session.state is SessionState.READY
        assert retries, "the fault never fired: the test would prove nothing"
        first, *later = emu.sessions
        assert later, "no second connection"
        for again in later:
            assert again.query.get("conversation-id") == first.conversation_id
            assert again.conversation_id == first.conversation_id
        assert session.conversation_id == first.conversation_id


def _greetings(emu: Emulator) -> int:
    return sum(
        1
        for s in emu.sessions
        for e in s.received
        if e["type"] == "response.create"
        and "pre_generated_assistant_message" in (e.get("response") or {})
    )


async def test_the_greeting_is_spoken_once_per_conversation_not_on_resume() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        first = agent_session(emu, greeting="Welcome!")
        turn = future_of(first, "voiceagent.turn")
        async with first:
            await asyncio.wait_for(turn, 10)
        conversation = first.conversation_id
        assert conversation and _greetings(emu) == 1
        for _ in range(2):  # two resumes of the same conversation: no greeting
            resumed = agent_session(emu, AGENT.resume(conversation), greeting="Welcome!")
            async with resumed:
                await emu.sessions[-1].wait_for_client_event("session.update", timeout=5)
                assert resumed.conversation_id == conversation
        assert _greetings(emu) == 1
        asked2 = VoiceAgentSession(
            connection=ConnectionConfig(endpoint=emu.endpoint),
            agent=AGENT.resume(conversation),
            credential=EmulatorCredential(TOKEN),
            audio=MemoryAudio(speed=4.0),
            greeting="Welcome back!",
            greet_on_resume=True,  # the app asks for a greeting on resume
        )
        turn2 = future_of(asked2, "voiceagent.turn")
        async with asked2:
            assert (await asyncio.wait_for(turn2, 10)).text == "Welcome back!"
        assert _greetings(emu) == 2


async def test_a_reply_heard_not_at_all_is_deleted_from_the_history() -> None:
    async with Emulator(token=TOKEN, realtime=True, timing="realistic") as emu:
        emu.script.user_says("tell me a story")
        emu.script = AgentScript(default=LONG_REPLY)
        audio = MemoryAudio(speed=1.0)
        session = agent_session(emu, audio=audio, barge_in=BargeInPolicy(cancel_response="always"))
        barge = future_of(session, "voiceagent.barge_in")
        async with session:
            server = await emu.wait_for_session(timeout=5)

            async def user_speaks_at_once(event: Any) -> None:
                # the user speaks the moment the reply starts, before any of it is played
                await server.send_event(
                    {
                        "type": "input_audio_buffer.speech_started",
                        "audio_start_ms": 0,
                        "item_id": "item_user2",
                    }
                )

            session.once("response.output_item.added", user_speaks_at_once)
            await session.create_response()
            event = await asyncio.wait_for(barge, 10)
            deleted = await server.wait_for_client_event("conversation.item.delete", timeout=10)
            await server.wait_for_server_event("conversation.item.deleted", timeout=5)
        assert event.played_ms == 0 and not event.truncated
        assert deleted["item_id"] == event.item_id
        truncates = [e for e in server.received if e["type"] == "conversation.item.truncate"]
        assert truncates == []  # never a truncate at 0 ms
        assert all(i.get("id") != event.item_id for i in server.conversation.items)
        # the log never claims the user heard any of it
        assert all(t.interrupted and t.text == "" for t in session.log.turns if t.role != "user")
        assert [e for e in server.sent if e["type"] == "error"] == []


class DeafAudio(MemoryAudio):
    """A device that plays nothing: every reply is unheard however long it streams."""

    def play(self, item_id: str, pcm: bytes) -> None:
        pass


async def test_closing_while_an_unheard_reply_streams_deletes_it_and_logs_it_unheard(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "logs" / "conversation.jsonl"
    async with Emulator(token=TOKEN, realtime=True, script=AgentScript(default=LONG_REPLY)) as emu:
        session = agent_session(emu, audio=DeafAudio(speed=1.0), log_path=log_path)
        first_audio = future_of(session, "response.audio.delta")
        transcript = future_of(session, "response.audio_transcript.delta")
        async with session:
            server = await emu.wait_for_session(timeout=5)
            await session.create_response()
            delta = await asyncio.wait_for(first_audio, 15)
            await asyncio.wait_for(transcript, 15)
            # the reply is streaming and nothing of it was heard: close now
        types = [e["type"] for e in server.received]
        assert "response.cancel" in types
        deleted = [e for e in server.received if e["type"] == "conversation.item.delete"]
        assert [e["item_id"] for e in deleted] == [delta.item_id]
        assert types.index("response.cancel") < types.index("conversation.item.delete")
        assert "conversation.item.truncate" not in types  # never a truncate at 0 ms
        assert all(i.get("id") != delta.item_id for i in server.conversation.items)
        # the log keeps the reply as interrupted with nothing heard, not as said
        logged = [json.loads(line) for line in log_path.read_text().splitlines()]
        replies = [t for t in logged if t["kind"] == "turn" and t.get("item_id") == delta.item_id]
        assert len(replies) == 1 and replies[0]["interrupted"] and replies[0]["text"] == ""


async def test_closing_mid_reply_logs_what_was_heard_and_truncates_the_history(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "logs" / "conversation.jsonl"
    async with Emulator(token=TOKEN, realtime=True, script=AgentScript(default=LONG_REPLY)) as emu:
        emu.script.user_says("tell me a story")
        audio = MemoryAudio(speed=1.0)
        session = agent_session(emu, audio=audio, log_path=log_path)
        first_audio = future_of(session, "response.audio.delta")
        async with session:
            server = await emu.wait_for_session(timeout=5)
            audio.feed(user_speech("tell me a story"))
            delta = await asyncio.wait_for(first_audio, 15)
            await audio.wait_heard(1000, timeout=10)
        played_ms = audio.played_frames(delta.item_id) * 1000 // 24000
        truncate = next(e for e in server.received if e["type"] == "conversation.item.truncate")
        assert truncate["item_id"] == delta.item_id
        assert abs(truncate["audio_end_ms"] - played_ms) <= 20
        assert any(e["type"] == "response.cancel" for e in server.received)
    [turn] = [t for t in session.log.turns if t.role == "assistant"]
    assert turn.interrupted and turn.text and LONG_REPLY.startswith(turn.text)
    assert len(turn.text) < len(LONG_REPLY.strip())
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    [logged] = [r for r in records if r["kind"] == "turn" and r["role"] == "assistant"]
    assert logged["interrupted"] is True and logged["text"] == turn.text
    # transcripts are personal data: only the owner may read them
    assert stat.S_IMODE(os.stat(log_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log_path.parent).st_mode) == 0o700
