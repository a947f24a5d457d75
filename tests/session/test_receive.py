"""The receive path: no frame can break a session; only a close closes it.

Frames are injected raw by the emulator into a live session, through the real SDK over a real
WebSocket. After each bad frame the session must still be ready, on the same connection, and a
normal turn must still work.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential

from session_helpers import KEY
from voiceagent import (
    ConnectError,
    MemoryAudio,
    ProtocolViolation,
    ReconnectPolicy,
    SessionState,
    VoiceAgentSession,
)
from voiceagent.config import ConnectionConfig
from voiceagent.emulator import AgentScript, Emulator, Faults

pytestmark = pytest.mark.usefixtures("clean_env")

NOT_REPORTED = "usable as it is"

BAD_FRAMES: list[tuple[str | bytes, str | None]] = [
    ("1", None),
    ("null", None),
    ("[]", None),
    ('"x"', None),
    ("true", None),
    (b"5", None),
    ("[" * 1000 + "]" * 1000, None),
    ("{" * 5000, None),
    ("not json at all", None),
    (b"\xff\xfe\x00", None),
    ('{"type": 7}', None),
    ('{"no_type": true}', None),
    ('{"type":"response.audio.delta","item_id":"i"}', "response.audio.delta"),
    ('{"type":"response.audio.delta","item_id":"i","delta":0}', "response.audio.delta"),
    ('{"type":"response.audio.delta","item_id":"i","delta":"@@@"}', "response.audio.delta"),
    ('{"type":"response.audio.delta","item_id":"i","delta":"AAAA"}', "response.audio.delta"),
    ('{"type":"response.audio_transcript.delta","item_id":"i"}', "response.audio_transcript.delta"),
    ('{"type":"response.created"}', "response.created"),
    ('{"type":"response.done","response":null}', "response.done"),
    ('{"type":"response.done","response":{"id":"r","output":[1]}}', NOT_REPORTED),
    ('{"type":"response.done","response":{"id":"r","output":"x"}}', "response.done"),
    ('{"type":"session.updated"}', "session.updated"),
    ('{"type":"session.updated","session":{"turn_detection":"x"}}', "session.updated"),
    ('{"type":"error","error":"boom"}', "error"),
    ('{"type":"response.output_item.added"}', "response.output_item.added"),
    (
        '{"type":"response.output_item.added","item":{"type":"message"}}',
        "response.output_item.added",
    ),
    ('{"type":"conversation.item.created","item":[]}', "conversation.item.created"),
]


def model_session(emu: Emulator, **kwargs: Any) -> VoiceAgentSession:
    return VoiceAgentSession(
        emu.endpoint,
        model="gpt-realtime",
        credential=AzureKeyCredential(KEY),
        audio=kwargs.pop("audio", None) or MemoryAudio(speed=8.0),
        **kwargs,
    )


async def a_turn_still_works(session: VoiceAgentSession) -> None:
    turn: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on_turn(event: Any) -> None:
        if event.role == "assistant" and not turn.done():
            turn.set_result(event)

    session.on("voiceagent.turn", on_turn)
    await session.send_text("what is the weather")
    got = await asyncio.wait_for(turn, 10)
    assert got.text == "It is sunny."
    session.off("voiceagent.turn", on_turn)


async def test_each_bad_frame_is_reported_and_the_conversation_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = AgentScript(rules=[("weather", "It is sunny.")])
    async with Emulator(api_key=KEY, realtime=False, script=script) as emu:
        session = model_session(emu)
        violations: list[ProtocolViolation] = []
        closed: list[Any] = []
        session.on("voiceagent.protocol_error", violations.append)
        session.on("voiceagent.closed", closed.append)
        async with session:
            for frame, event_type in BAD_FRAMES:
                before = len(violations)
                seen = asyncio.get_running_loop().create_future()
                session.once("warning", lambda e, f=seen: f.done() or f.set_result(None))
                assert await emu.inject(frame) == 1
                # a well-formed event after it proves the bad one was handled, in order
                await emu.inject('{"type":"warning","warning":{"message":"next"}}')
                await asyncio.wait_for(seen, 5)
                assert session.state is SessionState.READY, frame
                if event_type == NOT_REPORTED:  # a non-item output entry is simply skipped
                    assert len(violations) == before, frame
                else:
                    assert len(violations) == before + 1, frame
                    assert violations[-1].event_type == event_type
                    assert violations[-1].problem
            await a_turn_still_works(session)
        assert len(emu.sessions) == 1  # never reconnected: no frame looked like a drop
        assert closed[0].error is None
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "bad frame" in r.message
    ]
    assert len(warnings) == len(violations)
    assert all(len(r.getMessage()) < 600 for r in warnings)  # short excerpts, not whole frames


async def test_empty_frames_are_ignored_not_taken_for_a_drop() -> None:
    script = AgentScript(rules=[("weather", "It is sunny.")])
    async with Emulator(api_key=KEY, realtime=False, script=script) as emu:
        session = model_session(emu)
        violations: list[Any] = []
        session.on("voiceagent.protocol_error", violations.append)
        async with session:
            await emu.inject("")
            await emu.inject(b"")
            await a_turn_still_works(session)
        assert len(emu.sessions) == 1 and violations == []


async def test_garbage_between_every_event_of_a_whole_conversation() -> None:
    script = AgentScript(rules=[("weather", "It is sunny.")])
    async with Emulator(api_key=KEY, realtime=False, script=script) as emu:
        emu.faults = Faults(garbage_every=1, garbage_seed=7)
        session = model_session(emu)
        violations: list[Any] = []
        session.on("voiceagent.protocol_error", violations.append)
        async with session:
            await a_turn_still_works(session)
            await a_turn_still_works(session)
        assert len(emu.sessions) == 1
        assert len(violations) > 10


async def test_a_throttled_setup_is_retried_and_then_connects() -> None:
    async with Emulator(api_key=KEY, realtime=False) as emu:
        emu.faults = Faults(error_after=1)  # a server_error before session.updated
        config = ConnectionConfig(
            endpoint=emu.endpoint,
            model="gpt-realtime",
            reconnect=ReconnectPolicy(initial_backoff=0.01, max_backoff=0.05),
        )
        session = VoiceAgentSession(
            connection=config, credential=AzureKeyCredential(KEY), audio=MemoryAudio()
        )
        retries: list[Any] = []

        def heal(event: Any) -> None:
            retries.append(event)
            emu.faults = Faults()

        session.on("voiceagent.reconnecting", heal)
        async with session:
            assert session.state is SessionState.READY
        assert len(emu.sessions) == 2 and len(retries) == 1
        assert "failed while setting up" in retries[0].reason


async def test_a_setup_error_that_persists_is_a_connect_error_with_its_cause() -> None:
    async with Emulator(api_key=KEY, realtime=False) as emu:
        emu.faults = Faults(error_after=1)
        config = ConnectionConfig(
            endpoint=emu.endpoint,
            model="gpt-realtime",
            reconnect=ReconnectPolicy(max_attempts=1, initial_backoff=0.01),
        )
        session = VoiceAgentSession(
            connection=config, credential=AzureKeyCredential(KEY), audio=MemoryAudio()
        )
        with pytest.raises(ConnectError, match="failed while setting up") as info:
            await session.start()
        assert info.value.retryable is True
        assert session.state is SessionState.CLOSED
        assert len(emu.sessions) == 2  # tried, retried once, gave up
        assert "configuration" not in str(info.value)


async def test_an_unforeseen_failure_reaches_the_app_as_a_voiceagent_error() -> None:
    # A close the session cannot recover from ends it; wait_closed() and the closed event
    # both carry a VoiceAgentError with the cause chained, never a bare exception.
    async with Emulator(api_key=KEY, realtime=False) as emu:
        session = model_session(emu)
        closed: list[Any] = []
        session.on("voiceagent.closed", closed.append)
        await session.start()
        server = await emu.wait_for_session(timeout=5)
        await server.drop(code=1008)  # policy violation: not recoverable
        with pytest.raises(ConnectError, match="1008") as info:
            await asyncio.wait_for(session.wait_closed(), 10)
        assert info.value.__cause__ is not None
        assert closed and closed[0].error is info.value
