"""Item 7: conversations persist per conversation-id across connections, per agent."""

from __future__ import annotations

from typing import Any

from azure.ai.voicelive.aio import connect
from azure.ai.voicelive.models import InputTextContentPart, UserMessageItem

from voiceagent.emulator import Emulator, ScriptContext

from .helpers import FakeTokenCredential, model_connection, recv_until


def _agent(endpoint: str, agent: str = "concierge", conversation_id: str | None = None) -> Any:
    return connect(
        endpoint=endpoint,
        credential=FakeTokenCredential(),
        agent_name=agent,
        project_name="contoso",
        conversation_id=conversation_id,
    )


async def _turn(conn: Any, text: str) -> Any:
    await conn.conversation.item.create(
        item=UserMessageItem(content=[InputTextContentPart(text=text)])
    )
    await recv_until(conn, "conversation.item.created")
    await conn.response.create()
    return (await recv_until(conn, "response.done"))[-1]


def remember(text: str, ctx: ScriptContext) -> str:
    said = [
        part.get("text")
        for item in ctx.history
        if item.get("role") == "user"
        for part in item.get("content", [])
    ]
    return f"{ctx.agent_name} heard {len(said)}: {' | '.join(str(s) for s in said)}"


async def test_resume_keeps_history_and_reports_id() -> None:
    async with Emulator(realtime=False, script=remember) as emu:
        async with _agent(emu.endpoint) as conn:
            await conn.recv()
            done = await _turn(conn, "my name is Bob")
            conversation_id = done.response["conversation_id"]
        first = await emu.wait_for_session()
        assert conversation_id == first.conversation_id
        assert conversation_id.startswith("conv_")
        async with _agent(emu.endpoint, conversation_id=conversation_id) as conn:
            created = await conn.recv()
            assert created.session["agent"]["thread_id"] == conversation_id
            done = await _turn(conn, "what is my name")
        second = await emu.wait_for_session()
        assert second.conversation_id == conversation_id
        assert done.response["conversation_id"] == conversation_id
        assert done.response.output[0]["content"][0]["transcript"] == (
            "concierge heard 2: my name is Bob | what is my name"
        )
        items = emu.conversations[conversation_id].items
        assert [i["role"] for i in items] == ["user", "assistant", "user", "assistant"]
        assert emu.conversations[conversation_id].agent_name == "concierge"


async def test_id_of_another_agent_starts_new_conversation() -> None:
    async with Emulator(realtime=False, script=remember) as emu:
        async with _agent(emu.endpoint) as conn:
            await conn.recv()
            await _turn(conn, "secret for concierge")
        conversation_id = (await emu.wait_for_session()).conversation_id
        async with _agent(emu.endpoint, agent="sales", conversation_id=conversation_id) as conn:
            await conn.recv()
            done = await _turn(conn, "hello")
        other = await emu.wait_for_session()
        assert other.conversation_id != conversation_id
        assert done.response["conversation_id"] == other.conversation_id
        assert done.response.output[0]["content"][0]["transcript"] == "sales heard 1: hello"
        assert len(emu.conversations[conversation_id].items) == 2


async def test_unknown_id_is_adopted() -> None:
    async with Emulator(realtime=False) as emu:
        async with _agent(emu.endpoint, conversation_id="conv_mine") as conn:
            await conn.recv()
            done = await _turn(conn, "hi")
        assert done.response["conversation_id"] == "conv_mine"
        assert "conv_mine" in emu.conversations


async def test_model_mode_sessions_get_their_own_conversation() -> None:
    async with Emulator(realtime=False) as emu:
        for _ in range(2):
            async with model_connection(emu.endpoint) as conn:
                await conn.recv()
                done = await _turn(conn, "hi")
                assert done.response["conversation_id"] == emu.sessions[-1].conversation_id
        assert emu.sessions[0].conversation_id != emu.sessions[1].conversation_id
