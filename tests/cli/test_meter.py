"""The console's microphone meter hides nothing of the backend it wraps, and reads G.711.

The session looks for optional capabilities on the backend it is given; these tests give it a
``MeteredAudio`` around backends that have each one and check that the session (the real SDK
over a real WebSocket to the emulator) behaves as it does with the bare backend.
"""

from __future__ import annotations

import asyncio
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from peer_audio import AckingPeer, UlawPeer
from session_helpers import TOKEN, user_speech
from voiceagent import AgentConfig, AudioFormat, VoiceAgentSession
from voiceagent.audio import (
    AcknowledgedFlush,
    NativeFormatBackend,
    PausableOutput,
    ReportsStats,
    SoundDeviceAudio,
)
from voiceagent.audio.memory import MemoryAudio
from voiceagent.cli.meter import MeteredAudio
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.protocol.g711 import alaw_encode, ulaw_encode
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")
LONG = "Let me tell you a rather long story about the weather in Paris and in London. " * 2
CAPABILITIES = (PausableOutput, NativeFormatBackend, AcknowledgedFlush, ReportsStats)


class CountingPeer(MemoryAudio):
    """A backend with counters (``ReportsStats``): one underrun per audio delta played."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counters = SimpleNamespace(underruns=0)

    def play(self, item_id: str, pcm: bytes) -> None:
        self.counters.underruns += 1
        super().play(item_id, pcm)

    @property
    def stats(self) -> Any:
        return self.counters


def _declared(audio: object) -> set[str]:
    return {p.__name__ for p in CAPABILITIES if isinstance(audio, p)}


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        (MemoryAudio, set()),
        (UlawPeer, {"NativeFormatBackend"}),
        (AckingPeer, {"AcknowledgedFlush"}),
        (CountingPeer, {"ReportsStats"}),
        (SoundDeviceAudio, {"PausableOutput", "ReportsStats"}),  # PortAudio loads on start only
    ],
)
def test_the_meter_declares_exactly_the_capabilities_of_the_backend_it_wraps(
    backend: type[Any], expected: set[str]
) -> None:
    inner = backend()
    meter = MeteredAudio(inner)
    assert _declared(inner) == expected
    assert _declared(meter) == expected
    assert isinstance(meter, MeteredAudio) and meter.inner is inner
    if "NativeFormatBackend" in expected:
        assert meter.native_format == inner.native_format
    if "ReportsStats" in expected:
        assert meter.stats == inner.stats
    if "PausableOutput" in expected:
        assert meter.pause_playback() is False and meter.resume_playback() is False  # idle


def _session(emu: Emulator, audio: Any, **kwargs: Any) -> VoiceAgentSession:
    return VoiceAgentSession(
        emu.endpoint, AGENT, credential=EmulatorCredential(TOKEN), audio=audio, **kwargs
    )


async def test_a_barge_in_through_the_meter_awaits_the_peers_acknowledged_flush() -> None:
    async with Emulator(token=TOKEN, realtime=False, script=AgentScript(default=LONG)) as emu:
        emu.script.user_says("tell me a story", "stop")
        peer = AckingPeer(speed=2.0)
        session = _session(emu, MeteredAudio(peer))
        barge = asyncio.get_running_loop().create_future()
        session.on("voiceagent.barge_in", lambda e: barge.done() or barge.set_result(e))
        async with session:
            server = await emu.wait_for_session(timeout=5)
            peer.feed(user_speech("tell me a story"))
            await peer.wait_heard(1500, timeout=15)
            peer.feed(user_speech("stop"))
            event = await asyncio.wait_for(barge, 15)
            truncate = await server.wait_for_client_event("conversation.item.truncate", timeout=5)
    acknowledged = peer.reported[event.item_id]
    assert peer.flushes >= 1 and acknowledged >= 1500 * 24
    # the session waited for the peer's report: without it the count is still 0
    assert truncate["audio_end_ms"] == acknowledged * 1000 // 24000
    assert event.played_ms == truncate["audio_end_ms"]


async def test_a_native_ulaw_backend_keeps_its_wire_format_through_the_meter() -> None:
    reply = "Hello, this is the phone line speaking."
    async with Emulator(token=TOKEN, realtime=False, script=AgentScript(default=reply)) as emu:
        peer = UlawPeer(speed=8.0)
        session = _session(emu, MeteredAudio(peer), greeting=reply)
        assert session.format == AudioFormat.native("g711_ulaw", 8000)
        assert session.options.output_audio_format == "g711_ulaw"
        async with session:
            server = await emu.wait_for_session(timeout=5)
            await session.wait_for_reply(timeout=15)
        assert server.config["input_audio_format"] == "g711_ulaw"
        sent = [e for e in server.sent if e["type"] == "response.audio.delta"]
    assert peer.started_with == AudioFormat.native("g711_ulaw", 8000)
    item_id = next(t.item_id for t in session.log.turns if t.role == "assistant")
    assert item_id is not None and sent
    assert peer.played_frames(item_id) == len(peer.played_audio(item_id))  # 1 byte a frame


async def test_the_backends_counters_reach_the_metrics_through_the_meter() -> None:
    async with Emulator(token=TOKEN, realtime=False, script=AgentScript(default="Sure.")) as emu:
        peer = CountingPeer(speed=8.0)
        session = _session(emu, MeteredAudio(peer))
        async with session:
            peer.feed(user_speech("hello there"))
            await session.wait_for_reply(timeout=15)
            await peer.wait_input_consumed(timeout=10)
    figures = session.metrics.turns
    assert figures and figures[-1].underruns is not None and figures[-1].underruns > 0


def _tone(amplitude: float, frames: int = 1600) -> bytes:
    t = np.arange(frames) / 8000.0
    return (np.sin(2 * math.pi * 440.0 * t) * amplitude * 32767).astype("<i2").tobytes()


@pytest.mark.parametrize(
    ("encoding", "encode"), [("g711_ulaw", ulaw_encode), ("g711_alaw", alaw_encode)]
)
def test_the_meter_measures_g711_microphone_audio_decoded(encoding: Any, encode: Any) -> None:
    async def level_of(mic: bytes) -> float:
        inner = UlawPeer(speed=20.0, silence_when_idle=False)
        meter = MeteredAudio(inner)
        got: list[bytes] = []

        class Listener:
            def on_input(self, data: bytes) -> None:
                got.append(data)

            def on_playback_idle(self) -> None:
                pass

        inner.feed(mic)
        await meter.start(AudioFormat.native(encoding, 8000), Listener())
        await inner.wait_input_consumed(timeout=5)
        await meter.stop()
        assert b"".join(got).startswith(mic)  # passed on undecoded
        return meter.level_dbfs

    half = asyncio.run(level_of(encode(_tone(0.5))))
    assert -9.5 < half < -8.5  # a sine at -6 dBFS peak has an RMS of -9 dBFS
    assert asyncio.run(level_of(encode(bytes(3200)))) < -60.0  # digital silence
