"""VoiceAgentSession end to end: the real SDK over a real WebSocket to the emulator."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential

from session_helpers import KEY, TOKEN, user_speech
from voiceagent import (
    AgentConfig,
    BargeInPolicy,
    ConnectError,
    InputTranscription,
    SessionClosedError,
    SessionOptions,
    SessionState,
    VoiceAgentSession,
)
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator, Faults
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")


def future_of(session: VoiceAgentSession, event: str) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def resolve(e: Any) -> None:
        if not fut.done():
            fut.set_result(e)

    session.once(event, resolve)
    return fut


async def test_full_voice_turn_with_memory_backend() -> None:
    script = AgentScript(rules=[("weather", "It is sunny in Paris today.")])
    async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
        emu.script.user_says("what is the weather like")
        audio = MemoryAudio(speed=4.0)
        session = VoiceAgentSession(
            emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=audio,
            options=SessionOptions(input_transcription=InputTranscription(model="azure-speech")),
        )
        order: list[str] = []
        session.on("*", lambda e: order.append(e.type))
        finished = future_of(session, "voiceagent.playback_finished")
        async with session:
            assert session.state is SessionState.READY
            assert session.session_id and session.session_id.startswith("sess_")
            assert session.agent is not None and session.agent.name == "concierge"
            audio.feed(user_speech())
            await asyncio.wait_for(finished, 20)
        assert session.state is SessionState.CLOSED
    # the agent's whole reply reached the speaker, and the log says what was heard
    turns = [(t.role, t.text, t.interrupted) for t in session.log.turns]
    assert ("user", "what is the weather like", False) in turns
    assert ("assistant", "It is sunny in Paris today.", False) in turns
    assert session.conversation_id
    assert order.index("input_audio_buffer.speech_started") < order.index("response.created")
    assert order.index("response.audio.delta") < order.index("response.done")
    assert order[-1] == "voiceagent.closed"
    item_id = next(t.item_id for t in session.log.turns if t.role == "assistant")
    assert item_id is not None
    assert len(audio.played_audio(item_id)) > 24000  # over half a second of reply audio


async def test_audio_goes_to_the_backend_before_a_slow_handler_runs() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        audio = MemoryAudio(speed=4.0)
        session = VoiceAgentSession(
            emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN), audio=audio, greeting="Hi!"
        )
        release = asyncio.Event()
        queued_when_handler_ran: list[int] = []

        @session.on("response.audio.delta")
        async def slow(event: Any) -> None:
            queued_when_handler_ran.append(len(audio.played_audio(event.item_id)))
            await release.wait()  # a handler stuck for a while

        done = future_of(session, "voiceagent.turn")
        async with session:
            # playback continues although the handler is stuck on the first delta
            await audio.wait_heard(100, timeout=10)
            release.set()
            turn = await asyncio.wait_for(done, 10)
        assert turn.role == "assistant" and turn.text == "Hi!"


async def test_raising_handler_never_stops_the_session() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        audio = MemoryAudio(speed=4.0)
        session = VoiceAgentSession(
            emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=audio,
            greeting="Hello.",
        )
        errors: list[Any] = []
        session.on("voiceagent.handler_error", errors.append)

        @session.on("response.audio.delta")
        def broken(event: Any) -> None:
            raise RuntimeError("bug in the app")

        finished = future_of(session, "voiceagent.playback_finished")
        async with session:
            await asyncio.wait_for(finished, 10)
        assert errors and isinstance(errors[0].error, RuntimeError)
        assert [t.text for t in session.log.turns] == ["Hello."]


@pytest.mark.parametrize("interrupt_response", [False, True])
async def test_barge_in_mid_response(interrupt_response: bool) -> None:
    long_reply = "Let me tell you a rather long story about the weather in Paris and London. " * 3
    async with Emulator(token=TOKEN, realtime=True, script=AgentScript(default=long_reply)) as emu:
        emu.script.user_says("tell me a story", "stop")
        audio = MemoryAudio(speed=1.0)
        options = SessionOptions(turn_detection={"interrupt_response": interrupt_response})
        session = VoiceAgentSession(
            emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN), audio=audio, options=options
        )
        barge = future_of(session, "voiceagent.barge_in")
        async with session:
            server = await emu.wait_for_session(timeout=5)
            audio.feed(user_speech("tell me a story"))
            first_audio = future_of(session, "response.audio.delta")
            await asyncio.wait_for(first_audio, 15)
            await audio.wait_heard(1200, timeout=10)
            audio.feed(user_speech("stop"))  # the user talks over the agent
            event = await asyncio.wait_for(barge, 10)
            truncate = await server.wait_for_client_event("conversation.item.truncate", timeout=5)
            item_id = event.item_id
            played_at_flush = audio.played_frames(item_id)
            # nothing queued is played after the flush, although the reply goes on streaming
            await audio.wait_ticks(15, timeout=5)
            assert audio.played_frames(item_id) == played_at_flush
        cancels = [e for e in server.received if e["type"] == "response.cancel"]
        # cancel only when the service does not interrupt by itself, and never when inactive
        assert len(cancels) == (0 if interrupt_response else 1)
        assert event.response_cancelled is (not interrupt_response)
        played_ms = played_at_flush * 1000 // 24000
        assert truncate["item_id"] == item_id and truncate["content_index"] == 0
        assert abs(truncate["audio_end_ms"] - played_ms) <= 20  # one 20 ms block
        assert event.truncated and 1000 <= event.played_ms < event.received_ms
        errors = [e for e in server.sent if e["type"] == "error"]
        assert errors == []  # no response_cancel_not_active, no bad truncate
        heard = next(t for t in session.log.turns if t.role == "assistant")
        assert heard.interrupted and heard.full_text and long_reply.startswith(heard.text)
        assert 0 < len(heard.text) < len(long_reply.strip())
        # the emulator's history keeps only what was heard
        conv = emu.conversations[session.conversation_id or ""]
        stored = next(i for i in conv.items if i.get("id") == item_id)
        assert json.dumps(stored).count("rather long story") <= 1


async def test_barge_in_after_the_response_finished_sends_no_cancel() -> None:
    reply = "This reply arrives at once but takes a few seconds to play out loud."
    async with Emulator(token=TOKEN, realtime=False, script=AgentScript(default=reply)) as emu:
        emu.script.user_says("hi", "wait")
        audio = MemoryAudio(speed=1.0)
        options = SessionOptions(turn_detection={"interrupt_response": False})
        session = VoiceAgentSession(
            emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=audio,
            options=options,
            barge_in=BargeInPolicy(cancel_response="always"),
        )
        barge = future_of(session, "voiceagent.barge_in")
        done = future_of(session, "response.done")
        async with session:
            server = await emu.wait_for_session(timeout=5)
            audio.feed(user_speech("hi"))
            await asyncio.wait_for(done, 15)  # the whole reply has arrived; it is still playing
            audio.feed(user_speech("wait"))
            event = await asyncio.wait_for(barge, 10)
            await server.wait_for_client_event("conversation.item.truncate", timeout=5)
        assert not event.response_cancelled
        assert [e for e in server.received if e["type"] == "response.cancel"] == []
        assert [e for e in server.sent if e["type"] == "error"] == []


async def test_greeting_once_not_on_session_update_nor_reconnect() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        audio = MemoryAudio(speed=4.0)
        session = VoiceAgentSession(
            emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN), audio=audio, greeting="llm"
        )
        reconnected = future_of(session, "voiceagent.reconnected")
        first_turn = future_of(session, "voiceagent.turn")
        async with session:
            server = await emu.wait_for_session(timeout=5)
            await asyncio.wait_for(first_turn, 10)
            conversation = session.conversation_id
            assert conversation is not None  # known before the drop, or the test proves nothing
            await server.drop(code=1006)
            event = await asyncio.wait_for(reconnected, 15)
            second = await emu.wait_for_session(timeout=5)
            await second.wait_for_client_event("session.update", timeout=5)
            # a later session.updated must not greet again either
            updated = future_of(session, "session.updated")
            await second.send_event({"type": "session.updated", "session": second.config})
            await asyncio.wait_for(updated, 5)
        assert event.conversation_id == conversation
        assert second.query.get("conversation-id") == conversation  # resumed, history kept
        greetings = [
            e
            for s in emu.sessions
            for e in s.received
            if e["type"] == "conversation.item.create" and e["item"].get("role") == "system"
        ]
        assert len(greetings) == 1
        assert "welcome" in json.dumps(greetings[0]).lower()


async def test_pre_generated_greeting_is_spoken_verbatim() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=MemoryAudio(speed=4.0),
            greeting="Welcome to Contoso!",
        )
        turn = future_of(session, "voiceagent.turn")
        async with session:
            server = await emu.wait_for_session(timeout=5)
            create = await server.wait_for_client_event("response.create", timeout=5)
            got = await asyncio.wait_for(turn, 10)
        message = create["response"]["pre_generated_assistant_message"]
        assert message["content"][0]["text"] == "Welcome to Contoso!"
        assert got.text == "Welcome to Contoso!"


async def test_model_mode_with_api_key_and_errors_reach_handlers() -> None:
    async with Emulator(api_key=KEY, realtime=False) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            audio=MemoryAudio(speed=4.0),
        )
        errors: list[Any] = []
        got_error = future_of(session, "error")
        got_last: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        @session.on("error")
        def record(event: Any) -> None:
            errors.append(event)
            if event.error.code == "boom2":
                got_last.set_result(None)

        async with session:
            server = await emu.wait_for_session(timeout=5)
            assert server.mode == "model" and server.query["model"] == "gpt-realtime"
            assert server.headers.get("api-key") == KEY
            assert not await session.cancel_response()  # nothing active: nothing sent
            await server.send_event(
                {"type": "error", "error": {"type": "server_error", "code": "boom", "message": "x"}}
            )
            await server.send_event(
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "code": "response_cancel_not_active",
                        "message": "Cancellation failed: no active response found",
                    },
                }
            )
            await asyncio.wait_for(got_error, 5)
            await server.send_event(
                {"type": "error", "error": {"type": "server_error", "code": "boom2"}}
            )
            await asyncio.wait_for(got_last, 5)
        assert [e["type"] for e in server.received].count("response.cancel") == 0
        # events are handled in order, so the race error in between was seen and never shown
        assert [e.error.code for e in errors] == ["boom", "boom2"]


async def test_connection_failure_names_endpoint_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Emulator(token="another-token", realtime=False) as emu:
        session = VoiceAgentSession(
            emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN), audio=MemoryAudio()
        )
        with pytest.raises(ConnectError) as info:
            await session.start()
        assert session.state is SessionState.CLOSED
    message = str(info.value)
    assert "127.0.0.1" in message and "401" in message
    assert TOKEN not in message and TOKEN not in repr(info.value)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


async def test_no_secret_in_any_log_record_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with Emulator(token=TOKEN, realtime=False) as emu:
        emu.script.user_says("hello")
        audio = MemoryAudio(speed=4.0)
        agent = AGENT.with_version("4").with_resource_override("other-res", identity_client_id="mi")
        session = VoiceAgentSession(
            emu.endpoint, agent, credential=EmulatorCredential(TOKEN), audio=audio, greeting="Hi."
        )
        finished = future_of(session, "voiceagent.turn")
        async with session:
            await asyncio.wait_for(finished, 10)
            assert TOKEN not in repr(session)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Connecting to" in text  # the SDK's DEBUG URL line was emitted, and redacted
    assert TOKEN not in text and KEY not in text


async def test_reconnects_after_a_drop_mid_response_and_keeps_the_conversation() -> None:
    async with Emulator(token=TOKEN, realtime=True) as emu:
        emu.faults = Faults(drop_mid_response=True, drop_code=1011)
        session = VoiceAgentSession(
            emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=MemoryAudio(speed=2.0),
            greeting="Hello and welcome to the emulator, this greeting is long enough.",
        )
        events: list[str] = []
        session.on("voiceagent.*", lambda e: events.append(e.type))
        reconnected = future_of(session, "voiceagent.reconnected")
        async with session:
            first = await emu.wait_for_session(timeout=5)
            emu.faults = Faults()
            await asyncio.wait_for(reconnected, 15)
            assert first.closed
            assert session.state is SessionState.READY
        assert events.index("voiceagent.reconnecting") < events.index("voiceagent.reconnected")
        assert emu.sessions[1].query.get("conversation-id") == session.conversation_id
        cut = [t for t in session.log.turns if t.role == "assistant"]
        assert cut and cut[0].interrupted  # what was heard before the drop is logged as such


async def test_playback_finished_once_per_reply_despite_just_in_time_audio() -> None:
    # A real-time service delivers audio just in time: the speaker queue runs dry between
    # deltas. That is not the end of the reply; "finished" comes once, after response.done.
    async with Emulator(token=TOKEN, realtime=True) as emu:
        audio = MemoryAudio(speed=1.0)
        session = VoiceAgentSession(
            emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=audio,
            greeting="One moment please, I am looking that up.",
        )
        order: list[str] = []
        session.on("response.done", lambda e: order.append(e.type))
        session.on("voiceagent.playback_finished", lambda e: order.append(e.type))
        turn = future_of(session, "voiceagent.turn")
        async with session:
            logged = await asyncio.wait_for(turn, 15)
            await audio.wait_ticks(10, timeout=5)
        assert order == ["response.done", "voiceagent.playback_finished"]
        assert logged.text == "One moment please, I am looking that up."
        assert not logged.interrupted


async def test_agent_mode_sends_only_what_the_app_set_and_the_audio_formats() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        session = VoiceAgentSession(
            emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN), audio=MemoryAudio()
        )
        async with session:
            server = await emu.wait_for_session(timeout=5)
            update = await server.wait_for_client_event("session.update", timeout=5)
        model = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=EmulatorCredential(TOKEN),
            audio=MemoryAudio(),
        )
        async with model:
            second = await emu.wait_for_session(timeout=5)
            model_update = await second.wait_for_client_event("session.update", timeout=5)
    # the agent's own Voice Live settings (VAD, noise suppression, echo cancellation) stand
    assert set(update["session"]) == {
        "input_audio_format",
        "input_audio_sampling_rate",
        "output_audio_format",
    }
    # model mode keeps the library's defaults
    assert model_update["session"]["turn_detection"]["type"] == "server_vad"
    assert "input_audio_noise_reduction" in model_update["session"]


async def test_wait_for_reply_returns_once_the_agent_has_answered() -> None:
    script = AgentScript(rules=[("weather", "It is sunny.")])
    async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=EmulatorCredential(TOKEN),
            audio=MemoryAudio(speed=8.0),
        )
        async with session:
            with pytest.raises(TimeoutError):
                await session.wait_for_reply(timeout=0.2)  # nothing asked: no reply
            await session.send_text("what is the weather")
            await session.wait_for_reply(timeout=10)
            assert [t.text for t in session.log.turns if t.role == "assistant"] == ["It is sunny."]
            await session.send_text("and the weather tomorrow?")
            await session.wait_for_reply(timeout=10)
            assert len([t for t in session.log.turns if t.role == "assistant"]) == 2
        with pytest.raises(SessionClosedError):
            await session.wait_for_reply(timeout=1)  # closed: never waits forever
