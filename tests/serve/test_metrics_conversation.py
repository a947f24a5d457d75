"""``/metrics`` histograms fed by real conversations: barge-in -> silent, and tool latency.

A served app (``create_app``) on 127.0.0.1, a page's socket spoken to by this test, every session
on the emulator; the figures are read back from the Prometheus text over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from azure.core.credentials import AzureKeyCredential
from prometheus_client.parser import text_string_to_metric_families

from session_helpers import user_speech
from voiceagent import (
    InputTranscription,
    SessionFactory,
    SessionOptions,
    ToolCallFinished,
    TurnMetrics,
    function_tool,
)
from voiceagent.emulator import AgentScript, Emulator, FunctionCall, Reply
from voiceagent.serve import Hooks, create_app

from .helpers import LONG_REPLY, until

pytestmark = pytest.mark.usefixtures("clean_env")

KEY = "metrics-test-key"
CHUNK = 4800
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@function_tool
async def get_weather(city: str) -> str:
    """The weather in a city.

    Args:
        city: The city, e.g. "Paris".
    """
    await asyncio.sleep(0.05)
    return f"sunny in {city}"


@dataclass
class Served:
    url: str
    emulator: Emulator
    events: list[Any] = field(default_factory=list)
    seen: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)


@contextlib.asynccontextmanager
async def served(script: AgentScript) -> AsyncIterator[Served]:
    """``create_app`` in model mode with the ``get_weather`` tool; records each session's
    turn figures and tool calls as the library reports them."""
    async with Emulator(api_key=KEY, script=script, always_transcribe=True) as emu:
        factory = SessionFactory(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            options=SessionOptions(input_transcription=InputTranscription(model="azure-speech")),
            tools=[get_weather],
        )
        box = Served("", emu)

        def observe(_request: Any, session: Any) -> None:
            for name in ("voiceagent.metrics", "voiceagent.tool_call"):
                session.on(name, lambda e: (box.events.append(e), box.seen.put_nowait(e)))

        runner = web.AppRunner(create_app(factory, hooks=Hooks(observe=observe)))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        box.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        try:
            yield box
        finally:
            await runner.cleanup()
            await factory.aclose()


async def tab(box: Served, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(box.url + "ws", headers={"Origin": box.url.rstrip("/")})
    await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
    await until(ws, lambda m: m == {"type": "state", "state": "listening"})
    return ws


async def speak(box: Served, ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
    box.emulator.script.user_says(text)
    pcm = user_speech(text)
    for i in range(0, len(pcm), CHUNK):
        await ws.send_bytes(pcm[i : i + CHUNK])


async def next_event(box: Served, check: Any) -> Any:
    async with asyncio.timeout(20):
        while not check(event := await box.seen.get()):
            pass
        return event


async def scrape(box: Served, http: aiohttp.ClientSession) -> Samples:
    async with http.get(box.url + "metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_a_barge_in_is_counted_in_the_barge_in_silence_histogram() -> None:
    async with served(AgentScript(default=LONG_REPLY)) as box, aiohttp.ClientSession() as http:
        ws = await tab(box, http)
        assert (await scrape(box, http))[("voiceagent_barge_in_silence_seconds_count", ())] == 0
        await speak(box, ws, "hello")
        item = (await until(ws, lambda m: m["type"] == "audio"))["item_id"]
        await ws.send_str(json.dumps({"type": "played", "frames": {item: 4800}, "received": 4800}))
        await speak(box, ws, "stop please")  # over the long reply: a barge-in
        clear = await until(ws, lambda m: m["type"] == "clear")
        cleared = {"type": "cleared", "seq": clear["seq"], "frames": {item: 9600}}
        await ws.send_str(json.dumps(cleared))  # the page's player is silent
        turn = await next_event(
            box, lambda e: isinstance(e, TurnMetrics) and e.barge_in_reaction_ms is not None
        )
        seen = await scrape(box, http)
        assert seen[("voiceagent_barge_in_silence_seconds_count", ())] == 1
        got = seen[("voiceagent_barge_in_silence_seconds_sum", ())]
        assert got == pytest.approx(turn.barge_in_reaction_ms / 1000)
        await ws.close()


async def test_a_tool_call_is_counted_in_the_tool_latency_histogram_by_tool_and_outcome() -> None:
    weather = Reply(function_call=FunctionCall("get_weather", {"city": "Paris"}))
    script = AgentScript(rules=[("weather", weather)])
    async with served(script) as box, aiohttp.ClientSession() as http:
        ws = await tab(box, http)
        await speak(box, ws, "what is the weather in Paris")
        call = await next_event(box, lambda e: isinstance(e, ToolCallFinished))
        assert (call.name, call.outcome) == ("get_weather", "ok")
        seen = await scrape(box, http)
        labels = (("outcome", "ok"), ("tool", "get_weather"))
        assert seen[("voiceagent_tool_latency_seconds_count", labels)] == 1
        got = seen[("voiceagent_tool_latency_seconds_sum", labels)]
        assert got == pytest.approx(call.duration_ms / 1000) and got >= 0.05
        await until(ws, lambda m: m["type"] == "caption" and "sunny" in m.get("text", ""))
        await ws.close()
