"""Per-turn metrics through the real SDK and the emulator in its realistic timing profile."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential

from session_helpers import user_speech
from voiceagent import TurnMetrics, VoiceAgentSession
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator, Faults, FunctionCall, Reply
from voiceagent.observe import SessionMetrics, percentile

pytestmark = pytest.mark.usefixtures("clean_env")

KEY = "metrics-key"
STORY = "Let me tell you a rather long story about the weather in Paris and in London. " * 2


def emulator(script: AgentScript) -> Emulator:
    return Emulator(
        api_key=KEY, timing="realistic", faults=Faults(delay_ms=30), speed=2.0, script=script
    )


def session_for(emu: Emulator, **kwargs: Any) -> tuple[VoiceAgentSession, MemoryAudio]:
    audio = MemoryAudio(speed=2.0)
    session = VoiceAgentSession(
        emu.endpoint,
        model="gpt-realtime",
        credential=AzureKeyCredential(KEY),
        audio=audio,
        **kwargs,
    )
    return session, audio


def next_metrics(session: VoiceAgentSession) -> asyncio.Future[TurnMetrics]:
    fut: asyncio.Future[TurnMetrics] = asyncio.get_running_loop().create_future()
    session.once("voiceagent.metrics", lambda e: fut.done() or fut.set_result(e))
    return fut


async def test_time_to_first_audio_and_tool_durations(tmp_path: Path) -> None:
    script = AgentScript(
        rules=[("weather", Reply(function_call=FunctionCall("get_weather", {"city": "Paris"})))]
    )
    async with emulator(script) as emu:
        emu.script.user_says("what is the weather in Paris")
        session, audio = session_for(emu, log_path=tmp_path / "log.jsonl")

        @session.tool
        async def get_weather(city: str) -> str:
            """The weather."""
            await asyncio.sleep(0.3)  # the tool's own work
            return "sunny"

        figures = next_metrics(session)
        async with session:
            audio.feed(user_speech("what is the weather in Paris"))
            turn = await asyncio.wait_for(figures, 20)
    assert turn.turn == 1 and not turn.interrupted and turn.user_item_id
    received, played = turn.first_audio_received_ms, turn.first_audio_played_ms
    assert received is not None and played is not None
    # two responses' think time (>= 300 ms each) + 200 ms to audio + the tool's 300 ms
    assert 1000 <= received < 4000
    assert played >= received  # played can never come before received
    assert played - received < 500
    ((name, ms),) = turn.tool_durations_ms
    assert name == "get_weather" and 300 <= ms < 1000
    assert session.metrics.turns == [turn]
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    (record,) = [r for r in records if r["kind"] == "metrics"]
    assert record["first_audio_played_ms"] == played and "text" not in record
    assert session.log.metrics[0]["turn"] == 1


async def test_barge_in_reaction_and_truncation_point() -> None:
    async with emulator(AgentScript(default=STORY)) as emu:
        emu.script.user_says("tell me a story", "stop")
        session, audio = session_for(emu)
        barge: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        session.once("voiceagent.barge_in", barge.set_result)
        figures = next_metrics(session)
        async with session:
            audio.feed(user_speech("tell me a story"))
            await audio.wait_heard(1000, timeout=15)
            audio.feed(user_speech("stop"))
            event = await asyncio.wait_for(barge, 10)
            turn = await asyncio.wait_for(figures, 10)
            summary = session.metrics.summary()
    assert turn.interrupted and turn.truncated_at_ms == event.played_ms
    assert turn.item_id == event.item_id
    reaction = turn.barge_in_reaction_ms
    assert reaction is not None and 0 <= reaction < 200  # flushed at once: silent next block
    played = turn.first_audio_played_ms
    assert played is not None and turn.first_audio_received_ms is not None
    assert played >= turn.first_audio_received_ms
    assert summary["turns"] >= 1 and summary["barge_ins"] == 1
    assert summary["barge_in_reaction_ms"]["count"] == 1


def test_summary_percentiles_and_text() -> None:
    metrics = SessionMetrics(
        [
            TurnMetrics(turn=i, first_audio_received_ms=float(v), first_audio_played_ms=v + 50.0)
            for i, v in enumerate([100, 200, 300, 400, 1000], start=1)
        ]
        + [TurnMetrics(turn=6, tool_durations_ms=(("a", 20.0), ("b", 40.0)), underruns=2)]
    )
    s = metrics.summary()
    assert s["turns"] == 6 and s["tool_calls"] == 2 and s["underruns"] == 2
    assert s["first_audio_received_ms"]["p50"] == 300.0
    assert s["first_audio_played_ms"]["max"] == 1050.0
    assert s["tool_ms"]["mean"] == 30.0
    assert s["barge_in_reaction_ms"]["count"] == 0
    assert percentile([1.0, 2.0], 50) == 1.5 and percentile([], 90) is None
    text = metrics.format()
    assert "first audio played: p50 350 ms" in text and "tool calls: 2" in text


def test_latency_chart_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from voiceagent.observe.chart import plot_latency

    metrics = SessionMetrics(
        [
            TurnMetrics(turn=1, first_audio_received_ms=600.0, first_audio_played_ms=640.0),
            TurnMetrics(
                turn=2,
                first_audio_received_ms=900.0,
                first_audio_played_ms=950.0,
                barge_in_reaction_ms=15.0,
                interrupted=True,
                tool_durations_ms=(("get_weather", 300.0),),
            ),
        ]
    )
    out = plot_latency(metrics, tmp_path / "latency.png")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000
