"""The audio seam for peers, end to end: hang-up, backend failure, native G.711, acknowledged flush.

The real SDK over a real WebSocket to the emulator; the backends are MemoryAudio (a real virtual
device) given the capabilities a browser or telephony bridge declares.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import pytest

from peer_audio import AckingPeer, PeerAudio, UlawPeer
from session_helpers import TOKEN, user_speech
from voiceagent import (
    AgentConfig,
    AudioError,
    AudioFormat,
    AudioListener,
    ConfigError,
    SessionClosedError,
    SessionOptions,
    VoiceAgentSession,
)
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")
LONG = "Let me tell you a rather long story about the weather in Paris and in London. " * 2


def _session(emu: Emulator, audio: MemoryAudio, **kwargs: Any) -> VoiceAgentSession:
    return VoiceAgentSession(
        emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN), audio=audio, **kwargs
    )


def _closed_event(session: VoiceAgentSession) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    session.on("voiceagent.closed", lambda e: fut.done() or fut.set_result(e))
    return fut


async def test_a_hang_up_closes_the_session_with_its_reason_and_logs_what_was_heard() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        audio = PeerAudio(speed=2.0)
        session = _session(emu, audio, greeting=LONG)
        closed = _closed_event(session)
        await session.start()
        server = await emu.wait_for_session(timeout=5)
        await audio.wait_heard(800, timeout=10)
        audio.hang_up("the caller hung up")
        audio.hang_up("twice")  # safe to call more than once
        await asyncio.wait_for(session.wait_closed(), 10)  # a hang-up is no error
        event = await asyncio.wait_for(closed, 5)
        truncate = await server.wait_for_client_event("conversation.item.truncate", timeout=5)
    assert event.reason == "the caller hung up" and event.error is None
    heard = [t for t in session.log.turns if t.role == "assistant"]
    assert len(heard) == 1 and heard[0].interrupted
    assert 0 < len(heard[0].text) < len(LONG.strip()) and LONG.startswith(heard[0].text)
    assert truncate["audio_end_ms"] >= 800  # the service is told what was heard


async def test_a_backend_failure_closes_the_session_and_wait_closed_raises_audio_error() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        audio = PeerAudio(speed=4.0)
        session = _session(emu, audio)
        closed = _closed_event(session)
        await session.start()
        broken = ConnectionResetError("the peer's socket broke")
        audio.fail(broken)
        with pytest.raises(AudioError, match="socket broke") as caught:
            await asyncio.wait_for(session.wait_closed(), 10)
        event = await asyncio.wait_for(closed, 5)
    assert caught.value.__cause__ is broken
    assert isinstance(event.error, AudioError)
    with pytest.raises(SessionClosedError):
        await session.send_text("anyone there?")


class HangsUpWhileConnecting(PeerAudio):
    """The caller hangs up right after the bridge started, while the session connects."""

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        await super().start(fmt, listener)
        asyncio.get_running_loop().call_soon(listener.on_closed, "gone before ready")


async def test_a_hang_up_while_connecting_ends_start_at_once() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        session = _session(emu, HangsUpWhileConnecting(speed=4.0))
        closed = _closed_event(session)
        with pytest.raises(SessionClosedError, match="gone before ready"):
            await asyncio.wait_for(session.start(), 10)
        await asyncio.wait_for(session.wait_closed(), 5)  # a hang-up is no error
        event = await asyncio.wait_for(closed, 5)
    assert session.state.value == "closed"
    assert event.reason == "gone before ready" and event.error is None


@pytest.mark.parametrize("agent_mode", [True, False])
async def test_a_native_ulaw_backend_gets_the_service_bytes_untouched(agent_mode: bool) -> None:
    reply = "Hello, this is the phone line speaking."
    async with Emulator(token=TOKEN, realtime=False, script=AgentScript(default=reply)) as emu:
        audio = UlawPeer(speed=8.0, silence_when_idle=False)
        options = SessionOptions(turn_detection=None)  # the mic pattern is no speech
        if agent_mode:
            session = _session(emu, audio, greeting=reply, options=options)
        else:
            session = VoiceAgentSession(
                emu.endpoint,
                model="gpt-realtime",
                credential=EmulatorCredential(TOKEN),
                audio=audio,
                greeting=reply,
                options=options,
            )
        updated = asyncio.get_running_loop().create_future()
        session.on("session.updated", lambda e: updated.done() or updated.set_result(e))
        finished = asyncio.get_running_loop().create_future()
        session.on(
            "voiceagent.playback_finished", lambda e: finished.done() or finished.set_result(e)
        )
        mic = bytes(range(256)) * 25  # 6400 u-law bytes: 0.8 s; any byte value must survive
        async with session:
            server = await emu.wait_for_session(timeout=5)
            audio.feed(mic)
            await asyncio.wait_for(finished, 15)
            await audio.wait_input_consumed(timeout=10)
            appended = b""
            for _ in range(100):
                appended = b"".join(
                    base64.b64decode(e["audio"])
                    for e in server.received
                    if e["type"] == "input_audio_buffer.append"
                )
                if len(appended) >= len(mic):
                    break
                await server.wait_for_client_event("input_audio_buffer.append", timeout=5)
            event = await asyncio.wait_for(updated, 5)
        sent_audio = b"".join(
            base64.b64decode(e["delta"]) for e in server.sent if e["type"] == "response.audio.delta"
        )
    assert audio.started_with == AudioFormat.native("g711_ulaw", 8000)
    assert event.session.input_audio_format == "g711_ulaw"
    assert event.session.output_audio_format == "g711_ulaw"
    assert server.config["input_audio_format"] == "g711_ulaw"
    assert server.config["output_audio_format"] == "g711_ulaw"
    item_id = next(t.item_id for t in session.log.turns if t.role == "assistant")
    assert item_id is not None and len(sent_audio) > 8000  # over a second at 1 byte/frame
    assert audio.played_audio(item_id) == sent_audio  # not decoded, not resampled
    assert audio.played_frames(item_id) == len(sent_audio)  # one frame per byte
    assert appended == mic  # the microphone's bytes reached the service as they were


def test_options_that_contradict_the_native_format_fail_at_construction() -> None:
    def build(options: SessionOptions) -> VoiceAgentSession:
        return VoiceAgentSession(
            "https://contoso.services.ai.azure.com",
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=UlawPeer(),
            options=options,
        )

    with pytest.raises(ConfigError) as caught:
        build(SessionOptions(output_audio_format="pcm16"))
    message = str(caught.value)
    assert "output_audio_format='pcm16'" in message  # what the options say
    assert "g711_ulaw at 8000 Hz" in message and "UlawPeer" in message  # what the backend says
    with pytest.raises(ConfigError, match="input_audio_format='g711_alaw'"):
        build(SessionOptions(input_audio_format="g711_alaw"))
    # agreeing (or silent) options are fine, and get the backend's format
    session = build(SessionOptions(input_audio_format="g711_ulaw", voice="alloy"))
    assert session.options.output_audio_format == "g711_ulaw"
    assert session.options.input_audio_sampling_rate == 8000
    assert session.format == AudioFormat.native("g711_ulaw", 8000)


async def test_a_barge_in_truncates_at_the_count_the_peer_acknowledged_after_the_flush() -> None:
    async with Emulator(token=TOKEN, realtime=False, script=AgentScript(default=LONG)) as emu:
        emu.script.user_says("tell me a story", "stop")
        audio = AckingPeer(speed=2.0)
        session = _session(emu, audio)
        barge = asyncio.get_running_loop().create_future()
        session.on("voiceagent.barge_in", lambda e: barge.done() or barge.set_result(e))
        async with session:
            server = await emu.wait_for_session(timeout=5)
            audio.feed(user_speech("tell me a story"))
            await audio.wait_heard(1500, timeout=15)
            audio.feed(user_speech("stop"))  # the user talks over the agent
            event = await asyncio.wait_for(barge, 15)
            truncate = await server.wait_for_client_event("conversation.item.truncate", timeout=5)
    acknowledged = audio.reported[event.item_id]
    assert audio.flushes >= 1 and acknowledged >= 1500 * 24
    assert truncate["item_id"] == event.item_id
    assert truncate["audio_end_ms"] == acknowledged * 1000 // 24000  # not 0: it waited
    assert event.played_ms == truncate["audio_end_ms"]


async def test_a_peer_that_never_acknowledges_delays_the_barge_in_boundedly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="voiceagent.session")
    async with Emulator(token=TOKEN, realtime=False, script=AgentScript(default=LONG)) as emu:
        emu.script.user_says("tell me a story", "stop")
        audio = AckingPeer(acks=False, speed=2.0)
        session = _session(emu, audio)
        barge = asyncio.get_running_loop().create_future()
        session.on("voiceagent.barge_in", lambda e: barge.done() or barge.set_result(e))
        async with session:
            audio.feed(user_speech("tell me a story"))
            await audio.wait_heard(1000, timeout=15)
            audio.feed(user_speech("stop"))
            event = await asyncio.wait_for(barge, 15)  # it went on without the report
    assert event.played_ms == 0  # the last count the peer sent: none
    assert any("did not acknowledge the flush" in r.getMessage() for r in caplog.records)
