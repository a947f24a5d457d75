"""``/metrics`` counts conversations, refusals, reconnects and latencies; one app's don't leak."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from session_helpers import user_speech
from voiceagent.serve.registry import SessionRegistry

from .ops_helpers import Ops, open_tab, operated, until

CHUNK = 4800


async def scrape(
    ops: Ops, http: aiohttp.ClientSession
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http.get(ops.url + "metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def speak(ops: Ops, ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
    ops.emulator.script.user_says(text)
    pcm = user_speech(text)
    for i in range(0, len(pcm), CHUNK):
        await ws.send_bytes(pcm[i : i + CHUNK])


async def test_metrics_count_conversations_refusals_and_turn_latency() -> None:
    async with operated(SessionRegistry(1)) as ops, aiohttp.ClientSession() as http:
        tab = await open_tab(ops, http)
        refused = http.ws_connect(ops.url + "ws", headers={"Origin": ops.origin})
        try:
            await refused
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 503
        session = next(iter(ops.registry.live)).session
        assert session is not None
        turn: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        session.once("voiceagent.metrics", lambda e: turn.done() or turn.set_result(e))
        await speak(ops, tab, "hello")
        await until(tab, lambda m: m["type"] == "caption" and m["role"] == "assistant")
        await speak(ops, tab, "stop please")  # a barge-in ends the turn
        clear = await until(tab, lambda m: m["type"] == "clear")
        await tab.send_str(json.dumps({"type": "cleared", "seq": clear["seq"], "frames": {}}))
        await asyncio.wait_for(turn, 15)
        seen = await scrape(ops, http)
        browser = (("channel", "browser"),)
        assert seen[("voiceagent_sessions_live", browser)] == 1
        assert seen[("voiceagent_conversations_total", browser)] == 1
        assert seen[("voiceagent_refusals_total", browser)] == 1
        assert seen[("voiceagent_event_loop_lag_seconds_count", ())] >= 1
        assert seen[("voiceagent_turn_latency_seconds_count", ())] == 1
        await tab.close()
        assert await ops.registry.wait_empty(10)
        seen = await scrape(ops, http)
        assert seen[("voiceagent_sessions_live", browser)] == 0


async def test_a_killed_voice_live_connection_in_one_conversation_leaves_the_other_alone() -> None:
    async with operated(SessionRegistry(2)) as ops, aiohttp.ClientSession() as http:
        first, second = await open_tab(ops, http), await open_tab(ops, http)
        victim, other = ops.emulator.sessions[0], ops.emulator.sessions[1]
        await victim.drop(1011)
        await until(first, lambda m: m.get("type") == "state" and m.get("state") == "listening")
        assert not other.closed
        ops.emulator.script.user_says("are you there")
        pcm = user_speech("are you there")
        for i in range(0, len(pcm), CHUNK):
            await second.send_bytes(pcm[i : i + CHUNK])
        await until(second, lambda m: m["type"] == "caption" and m["role"] == "assistant")
        seen = await scrape(ops, http)
        assert seen[("voiceagent_reconnects_total", (("channel", "browser"),))] == 1
        assert seen[("voiceagent_voicelive_close_codes_total", (("code", "1011"),))] == 1
        assert ops.registry.count_by_channel() == {"browser": 2}
        await first.close()
        await second.close()


async def test_two_apps_in_one_process_keep_their_own_counters() -> None:
    async with (
        operated(SessionRegistry(1)) as one,
        operated(SessionRegistry(1)) as two,
        aiohttp.ClientSession() as http,
    ):
        tab = await open_tab(one, http)
        ones, twos = await scrape(one, http), await scrape(two, http)
        key = ("voiceagent_conversations_total", (("channel", "browser"),))
        assert ones[key] == 1 and key not in twos
        await tab.close()


async def test_the_services_errors_are_counted_by_code() -> None:
    async with operated(SessionRegistry(1)) as ops, aiohttp.ClientSession() as http:
        tab = await open_tab(ops, http)
        session = next(iter(ops.registry.live)).session
        assert session is not None
        seen_error: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        session.once("error", lambda e: seen_error.done() or seen_error.set_result(e))
        error = {"type": "invalid_request_error", "code": "rate_limit_exceeded", "message": "x"}
        await ops.emulator.sessions[0].send_event({"type": "error", "error": error})
        await asyncio.wait_for(seen_error, 10)
        seen = await scrape(ops, http)
        assert seen[("voiceagent_errors_total", (("code", "rate_limit_exceeded"),))] == 1
        await tab.close()
