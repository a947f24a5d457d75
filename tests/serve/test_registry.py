"""Admission: the conversation past the limit is refused before any Voice Live connection."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from voiceagent.serve.registry import TOO_MANY_SESSIONS, SessionRegistry

from .ops_helpers import open_tab, operated, until

TWILIO_START = {
    "event": "start",
    "sequenceNumber": "1",
    "streamSid": "MZ0001",
    "start": {
        "streamSid": "MZ0001",
        "callSid": "CA0001",
        "accountSid": "AC0001",
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {},
    },
}


async def test_the_page_past_the_limit_gets_503_and_opens_no_voice_live_connection() -> None:
    async with operated(SessionRegistry(1)) as ops, aiohttp.ClientSession() as http:
        first = await open_tab(ops, http)
        assert len(ops.emulator.sessions) == 1
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ops.url + "ws", headers={"Origin": ops.origin})
        assert refused.value.status == 503
        assert len(ops.emulator.sessions) == 1  # no connection for the refused one
        await first.close()
        assert await ops.registry.wait_empty(10)
        second = await open_tab(ops, http)  # the freed place is taken again
        assert len(ops.emulator.sessions) == 2
        await second.close()


async def test_a_call_past_the_limit_is_closed_with_4429_on_its_open_socket() -> None:
    async with operated(SessionRegistry(1)) as ops, aiohttp.ClientSession() as http:
        tab = await open_tab(ops, http)
        media = await http.ws_connect(ops.url + "media/twilio")
        await media.send_str(json.dumps(TWILIO_START))
        msg = await asyncio.wait_for(media.receive(), 10)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert media.close_code == TOO_MANY_SESSIONS
        assert len(ops.emulator.sessions) == 1
        assert ops.registry.count_by_channel() == {"browser": 1}
        await tab.close()


async def test_a_call_within_the_limit_is_held_and_counted_by_channel() -> None:
    async with operated(SessionRegistry(2)) as ops, aiohttp.ClientSession() as http:
        media = await http.ws_connect(ops.url + "media/twilio")
        await media.send_str(json.dumps(TWILIO_START))
        await asyncio.wait_for(ops.emulator.wait_for_session(timeout=10), 15)
        assert ops.registry.count_by_channel() == {"twilio": 1}
        await media.close()
        assert await ops.registry.wait_empty(10)


async def test_an_idle_conversation_is_ended_with_its_reason() -> None:
    registry = SessionRegistry(2, idle_timeout_s=1.0)
    async with operated(registry) as ops, aiohttp.ClientSession() as http:
        tab = await open_tab(ops, http)
        closed = await until(tab, lambda m: m["type"] == "closed")
        assert closed["reason"] == "the conversation was idle too long"
        assert ops.emulator.sessions[0].closed


async def test_the_longest_conversation_is_ended_at_its_maximum_duration() -> None:
    registry = SessionRegistry(2, max_duration_s=1.0)
    async with operated(registry) as ops, aiohttp.ClientSession() as http:
        tab = await open_tab(ops, http)
        closed = await until(tab, lambda m: m["type"] == "closed")
        assert closed["reason"] == "the conversation reached its time limit"


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_sessions"):
        SessionRegistry(0)
    with pytest.raises(ValueError, match="idle_timeout_s"):
        SessionRegistry(1, idle_timeout_s=0)


async def test_tabs_and_calls_at_once_share_one_limit() -> None:
    async with operated(SessionRegistry(6)) as ops, aiohttp.ClientSession() as http:
        tabs = await asyncio.gather(*(open_tab(ops, http) for _ in range(3)))
        calls = []
        for n in range(3):
            media = await http.ws_connect(ops.url + "media/twilio")
            start = json.loads(json.dumps(TWILIO_START).replace("0001", f"000{n + 2}"))
            await media.send_str(json.dumps(start))
            calls.append(media)
        for _ in range(6):  # the tabs' connections, then the calls'
            await ops.emulator.wait_for_session(timeout=15)
        assert ops.registry.count_by_channel() == {"browser": 3, "twilio": 3}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ops.url + "ws", headers={"Origin": ops.origin})
        assert refused.value.status == 503
        assert len(ops.emulator.sessions) == 6
        for ws in [*tabs, *calls]:
            await ws.close()
        assert await ops.registry.wait_empty(15)
