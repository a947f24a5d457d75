"""Which turns get figures: a reply that speaks and calls a tool, and typed messages."""

from __future__ import annotations

import asyncio

import pytest

from session_helpers import user_speech
from voiceagent.emulator import AgentScript, FunctionCall, Reply

from .test_metrics import emulator, next_metrics, session_for

pytestmark = pytest.mark.usefixtures("clean_env")

CHECK = Reply(text="Let me check.", function_call=FunctionCall("get_weather", {"city": "Paris"}))


async def test_a_reply_that_speaks_and_calls_a_tool_counts_the_call() -> None:
    async with emulator(AgentScript(rules=[("weather", CHECK)])) as emu:
        emu.script.user_says("what is the weather in Paris")
        session, audio = session_for(emu)

        @session.tool
        async def get_weather(city: str) -> str:
            """The weather."""
            await asyncio.sleep(0.2)
            return "sunny"

        figures = next_metrics(session)
        async with session:
            audio.feed(user_speech("what is the weather in Paris"))
            turn = await asyncio.wait_for(figures, 20)  # at the end of the follow-up
            summary = session.metrics.summary()
            said = [t.text for t in session.log.turns if t.role == "assistant"]
    assert said == ["Let me check.", "Here is what I found: sunny"]
    # One turn: the filler, the tool, the follow-up; its first audio is the filler's.
    assert turn.turn == 1 and not turn.interrupted
    ((name, ms),) = turn.tool_durations_ms
    assert name == "get_weather" and ms >= 200
    received, played = turn.first_audio_received_ms, turn.first_audio_played_ms
    assert received is not None and played is not None and played >= received
    assert summary["tool_calls"] == 1 and summary["turns"] == 1
    assert "tool calls: 1" in session.metrics.format()


async def test_typed_turns_are_timed_from_the_send() -> None:
    async with emulator(AgentScript(default="Hello there, how can I help?")) as emu:
        session, _ = session_for(emu)
        figures = next_metrics(session)
        async with session:
            await session.send_text("hi")
            turn = await asyncio.wait_for(figures, 20)
    received, played = turn.first_audio_received_ms, turn.first_audio_played_ms
    # measured from the send: the think time (>= 150 ms at speed 2) and 100 ms to the audio
    assert received is not None and received >= 200
    assert played is not None and played >= received
    assert turn.user_item_id is not None and turn.user_item_id.startswith("item_va")
    assert session.metrics.summary()["first_audio_received_ms"]["count"] == 1
