"""Item 9: bad input never kills a connection or the emulator; many concurrent sessions."""

from __future__ import annotations

import asyncio
import base64
import json

import aiohttp
import pytest
from azure.ai.voicelive.models import InputTextContentPart, UserMessageItem

from voiceagent.emulator import AgentScript, Emulator

from .helpers import KEY, model_connection, recv_until, send_audio, silence, speech_pcm

URL_QUERY = "/voice-live/realtime?api-version=2026-07-15&model=gpt-realtime"


async def _raw_ws(emu: Emulator, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(emu.endpoint + URL_QUERY, headers={"api-key": KEY})
    created = json.loads((await ws.receive(timeout=5)).data)
    assert created["type"] == "session.created"
    return ws


async def _next_error(ws: aiohttp.ClientWebSocketResponse) -> dict[str, object]:
    while True:
        event = json.loads((await ws.receive(timeout=5)).data)
        if event["type"] == "error":
            return dict(event["error"])


async def _still_alive(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_str(json.dumps({"type": "session.update", "session": {"instructions": "ok"}}))
    while True:
        event = json.loads((await ws.receive(timeout=5)).data)
        if event["type"] == "session.updated":
            return


async def test_malformed_json_and_non_objects() -> None:
    async with Emulator(realtime=False) as emu, aiohttp.ClientSession() as http:
        ws = await _raw_ws(emu, http)
        await ws.send_str("{not json")
        assert (await _next_error(ws))["code"] == "invalid_json"
        for frame in ('"a json string"', "[1, 2]", '{"no": "type"}'):
            await ws.send_str(frame)
            assert (await _next_error(ws))["code"] == "invalid_event"
        await ws.send_bytes(b"\x00\x01")
        assert (await _next_error(ws))["code"] == "invalid_frame"
        await _still_alive(ws)
        await ws.close()


async def test_sdk_double_encoded_string_is_an_error_not_a_crash() -> None:
    # connection.send("<json>") JSON-encodes the string again: a documented SDK pitfall.
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.send(json.dumps({"type": "response.create"}))  # type: ignore[arg-type]
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.code == "invalid_event"


async def test_unknown_client_event() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.send({"type": "made.up.event", "event_id": "evt_9"})
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.param == "type"
        assert error.error["event_id"] == "evt_9"
        await conn.send({"type": "input_audio.turn.start", "turn_id": "t1"})
        assert (await recv_until(conn, "error"))[-1].error.code == "unsupported_event"
        await conn.session.update(session={"instructions": "alive"})
        assert (await recv_until(conn, "session.updated"))[-1].session["instructions"] == "alive"


async def test_oversize_frame_default_limit() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        big = base64.b64encode(bytes(4 * 1024 * 1024)).decode()  # ~5.6 MB of base64
        await conn.input_audio_buffer.append(audio=big)
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.code == "message_too_large"
        assert not emu.sessions[0].closed
        await conn.session.update(session={"instructions": "alive"})
        await recv_until(conn, "session.updated")


async def test_configurable_frame_limit() -> None:
    async with (
        Emulator(realtime=False, max_frame_bytes=10_000) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.input_audio_buffer.append(audio=base64.b64encode(bytes(9_000)).decode())
        assert (await recv_until(conn, "error"))[-1].error.code == "message_too_large"
        await conn.input_audio_buffer.append(audio=base64.b64encode(bytes(6_000)).decode())
        await conn.session.update(session={"instructions": "alive"})
        names = [e.type for e in await recv_until(conn, "session.updated")]
        assert "error" not in names


async def test_script_failure_is_an_error_event_not_a_crash() -> None:
    def broken(text: str) -> str:
        raise RuntimeError("script bug")

    async with (
        Emulator(realtime=False, script=broken) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="x")])
        )
        await conn.response.create()
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.type == "server_error"
        emu.script = AgentScript(default="fixed")
        await conn.response.create()
        done = (await recv_until(conn, "response.done"))[-1]
        assert done.response.output[0]["content"][0]["transcript"] == "fixed"


async def test_one_failing_connection_does_not_affect_another() -> None:
    async with (
        Emulator(realtime=True, speed=4.0) as emu,
        aiohttp.ClientSession() as http,
        model_connection(emu.endpoint) as good,
    ):
        await good.recv()
        good_session = await emu.wait_for_session()
        bad = await _raw_ws(emu, http)
        bad_session = await emu.wait_for_session()
        emu.script.user_says("hello")
        await send_audio(good, speech_pcm("hello there") + silence(100))
        # Meanwhile the other client misbehaves and is dropped abruptly.
        await bad.send_str("{garbage")
        await bad.send_str(json.dumps({"type": "response.cancel"}))
        await bad_session.drop(1006)
        await send_audio(good, silence(700))
        done = (await recv_until(good, "response.done"))[-1]
        assert done.response.status == "completed"
        assert not good_session.closed and bad_session.closed


async def test_many_concurrent_sessions() -> None:
    async with Emulator(realtime=False, script=lambda text: f"Echo {text}") as emu:

        async def one(i: int) -> str:
            async with model_connection(emu.endpoint) as conn:
                await conn.recv()
                await conn.conversation.item.create(
                    item=UserMessageItem(content=[InputTextContentPart(text=f"n{i}")])
                )
                await conn.response.create()
                done = (await recv_until(conn, "response.done", timeout=20))[-1]
                return str(done.response.output[0]["content"][0]["transcript"])

        results = await asyncio.gather(*(one(i) for i in range(25)))
        assert results == [f"Echo n{i}" for i in range(25)]
        assert len(emu.sessions) == 25
        assert len({s.session_id for s in emu.sessions}) == 25


async def test_stopping_the_emulator_closes_connections_with_1001() -> None:
    from azure.ai.voicelive.aio import ConnectionClosed

    emu = await Emulator(realtime=True).start()
    try:
        async with model_connection(emu.endpoint) as conn:
            await conn.recv()
            await conn.conversation.item.create(
                item=UserMessageItem(content=[InputTextContentPart(text="a long reply please")])
            )
            await conn.response.create()
            await recv_until(conn, "response.audio.delta")
            stopping = asyncio.ensure_future(emu.stop())
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    await asyncio.wait_for(conn.recv(), 5)
            assert info.value.code == 1001
            await asyncio.wait_for(stopping, 5)
    finally:
        await emu.stop()
    assert emu.sessions[0].closed


async def test_recording_can_be_turned_off_for_long_runs() -> None:
    async with (
        Emulator(realtime=False, record_events=False) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="x")])
        )
        await conn.response.create()
        done = (await recv_until(conn, "response.done"))[-1]
        assert done.response.status == "completed"
        s = emu.sessions[0]
        assert s.sent == [] and s.received == []
        assert len(emu.conversations[s.conversation_id].items) == 2
