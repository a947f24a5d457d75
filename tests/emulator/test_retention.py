"""Memory: the emulator forgets closed sessions and prunes conversations (bounded objects)."""

from __future__ import annotations

import gc

from voiceagent.emulator import Conversation, EmulatedSession, Emulator
from voiceagent.emulator.conversations import ConversationStore

from .helpers import model_connection, recv_until, send_audio, silence, speech_pcm

CONNECTIONS = 150


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, kind))


async def test_many_connections_leave_bounded_objects() -> None:
    async with Emulator(
        realtime=False, voice="synthetic", keep_sessions=5, max_conversations=10
    ) as emu:
        for _ in range(CONNECTIONS):
            async with model_connection(emu.endpoint) as conn:
                await conn.recv()
                await conn.response.create()
                await recv_until(conn, "response.done")
        await asyncio_settle(emu)
        assert len(emu.sessions) == 5
        assert len(emu.conversations) == 10
        # Count objects, not bytes: everything else a connection made has been released.
        assert _live(EmulatedSession) <= 5
        assert _live(Conversation) <= 10 + 5  # the kept sessions hold their own conversation
        # The newest sessions are the ones kept, and wait_for_session still works.
        assert await emu.wait_for_session() is emu.sessions[0]


async def asyncio_settle(emu: Emulator) -> None:
    """Wait until every session has finished closing (the handler tasks are done)."""
    import asyncio

    while emu._serving:
        await asyncio.wait(set(emu._serving))


async def test_keep_sessions_none_keeps_all() -> None:
    async with Emulator(realtime=False, keep_sessions=None) as emu:
        for _ in range(3):
            async with model_connection(emu.endpoint) as conn:
                await conn.recv()
        await asyncio_settle(emu)
        assert len(emu.sessions) == 3
        assert [await emu.wait_for_session() for _ in range(3)] == emu.sessions


def test_conversation_store_age_and_count() -> None:
    store = ConversationStore(max_count=2, max_age_s=0.0)
    first = store.open(None, None, None)
    second = store.open("mine", None, None)
    assert set(store.by_id) == {first.id, "mine"}  # both in use: never pruned
    store.release(first)  # age limit 0: forgotten as soon as nobody uses it
    assert set(store.by_id) == {"mine"}
    store.release(second)
    assert store.by_id == {}
    counted = ConversationStore(max_count=1)
    a = counted.open(None, "agent", "project")
    counted.release(a)
    b = counted.open(None, "agent", "project")  # a is idle and over the limit
    assert set(counted.by_id) == {b.id}
    resumed = counted.open(b.id, "agent", "project")
    assert resumed is b


async def test_listening_keeps_only_a_second_of_audio_between_utterances() -> None:
    async with (
        Emulator(realtime=False, voice="synthetic", listen=True) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        emu.script.user_says("scripted, so nothing is recognised")
        await send_audio(conn, silence(3000) + speech_pcm() + silence(5000))
        await recv_until(conn, "response.done")
        # Events are handled in order: once this is answered, every append has been.
        await conn.send({"type": "conversation.item.retrieve", "item_id": "none"})
        await recv_until(conn, "error")
        session = emu.sessions[0]
        kept = len(session.input_audio._pcm)
        assert 0 < kept <= 24000 * 2 + 2 * 960 * 2  # 1 s and a block at 24 kHz
