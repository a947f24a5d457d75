"""Raw frame injection (session and emulator), the garbage-frame fault, and ``faults = None``."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from azure.ai.voicelive.models import InputTextContentPart, UserMessageItem

from voiceagent.emulator import DEFAULT_GARBAGE_FRAMES, Emulator, Faults

from .helpers import KEY, model_connection, recv_until

URL_QUERY = "/voice-live/realtime?api-version=2026-07-15&model=gpt-realtime"


async def _raw_ws(emu: Emulator, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    return await http.ws_connect(emu.endpoint + URL_QUERY, headers={"api-key": KEY})


async def _frames_until(
    ws: aiohttp.ClientWebSocketResponse, event_type: str
) -> list[aiohttp.WSMessage]:
    """Every frame up to and including the first real event of ``event_type``."""
    frames: list[aiohttp.WSMessage] = []
    while True:
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), msg
        frames.append(msg)
        if msg.type == aiohttp.WSMsgType.TEXT:
            try:
                event = json.loads(msg.data)
            except ValueError:
                continue
            # A real event has an event_id (a garbage frame may borrow the type).
            if isinstance(event, dict) and event.get("type") == event_type and "event_id" in event:
                return frames


def _as_frame(msg: aiohttp.WSMessage) -> str | bytes:
    return bytes(msg.data) if msg.type == aiohttp.WSMsgType.BINARY else str(msg.data)


async def test_session_inject_sends_exact_text_and_binary_frames() -> None:
    async with Emulator(realtime=False) as emu, aiohttp.ClientSession() as http:
        ws = await _raw_ws(emu, http)
        assert json.loads((await ws.receive(timeout=5)).data)["type"] == "session.created"
        session = await emu.wait_for_session()
        sent_before = len(session.sent)
        await session.inject('{"type": "response.done", "response": null}')
        await session.inject(b"\x07")
        await session.inject("")
        text = await ws.receive(timeout=5)
        assert (text.type, text.data) == (
            aiohttp.WSMsgType.TEXT,
            '{"type": "response.done", "response": null}',  # no event_id added, spacing kept
        )
        binary = await ws.receive(timeout=5)
        assert (binary.type, binary.data) == (aiohttp.WSMsgType.BINARY, b"\x07")
        empty = await ws.receive(timeout=5)
        assert (empty.type, empty.data) == (aiohttp.WSMsgType.TEXT, "")
        assert len(session.sent) == sent_before  # not recorded
        await ws.close()


async def test_emulator_inject_reaches_every_open_session() -> None:
    async with Emulator(realtime=False) as emu, aiohttp.ClientSession() as http:
        sockets = [await _raw_ws(emu, http) for _ in range(3)]
        for ws in sockets:
            await ws.receive(timeout=5)  # session.created
        sessions = [await emu.wait_for_session() for _ in sockets]
        await sessions[2].drop(1011)
        assert (await sockets[2].receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE
        assert await emu.inject("[]") == 2
        for ws in sockets[:2]:
            msg = await ws.receive(timeout=5)
            assert (msg.type, msg.data) == (aiohttp.WSMsgType.TEXT, "[]")
        for ws in sockets[:2]:
            await ws.close()


async def test_injected_non_object_reaches_the_sdk_as_is() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        assert await emu.inject("null") == 1
        # The SDK cannot parse a non-object frame (protocol page §7): proof it got it verbatim.
        with pytest.raises(Exception):  # noqa: B017 - AttributeError today, any in future
            await asyncio.wait_for(conn.recv(), 5)


async def _garbage_run(faults: Faults) -> tuple[list[str | bytes], list[str]]:
    """One text turn over a raw socket: (every frame, the types of the valid events)."""
    async with Emulator(realtime=False, faults=faults) as emu, aiohttp.ClientSession() as http:
        ws = await _raw_ws(emu, http)
        await ws.send_str(
            json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "hi"}],
                    },
                }
            )
        )
        await ws.send_str(json.dumps({"type": "response.create"}))
        frames = [_as_frame(m) for m in await _frames_until(ws, "response.done")]
        await ws.close()
        valid = [e["type"] for e in emu.sessions[0].sent]
        return frames, valid


async def test_garbage_every_interleaves_malformed_frames_deterministically() -> None:
    faults = Faults(garbage_every=3, garbage_seed=7)
    frames, valid = await _garbage_run(faults)
    garbage = [f for f in frames if isinstance(f, bytes) or f in DEFAULT_GARBAGE_FRAMES]
    events = [f for f in frames if not (isinstance(f, bytes) or f in DEFAULT_GARBAGE_FRAMES)]
    # Every valid event arrives, in order; one garbage frame follows every third of them.
    assert [json.loads(f)["type"] for f in events] == valid
    # (the reader stops at response.done, before a garbage frame that may follow it)
    assert len(garbage) == (len(valid) - 1) // 3
    assert len(set(garbage)) > 1
    positions = [i for i, f in enumerate(frames) if isinstance(f, bytes) or f in garbage]
    assert positions == [4 * k + 3 for k in range(len(garbage))]
    # Same seed, same sequence; another seed, another sequence.
    again, _ = await _garbage_run(faults)
    assert [f for f in again if isinstance(f, bytes) or f in DEFAULT_GARBAGE_FRAMES] == garbage
    other, _ = await _garbage_run(Faults(garbage_every=3, garbage_seed=8))
    assert [f for f in other if isinstance(f, bytes) or f in DEFAULT_GARBAGE_FRAMES] != garbage


async def test_garbage_frames_option_and_every_one() -> None:
    faults = Faults(garbage_every=1, garbage_frames=(b"\x01", '{"type":"response.done"}'))
    frames, valid = await _garbage_run(faults)
    assert len(frames) == 2 * len(valid) - 1  # the reader stops at response.done
    assert all(f in faults.garbage_frames for f in frames[1::2])
    assert {type(f) for f in frames[1::2]} == {bytes, str}


def test_garbage_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="garbage_every"):
        Faults(garbage_every=0)


async def test_faults_none_means_no_faults() -> None:
    async with Emulator(realtime=False) as emu:
        emu.faults = None
        async with model_connection(emu.endpoint) as conn:
            assert (await conn.recv()).type == "session.created"
            await conn.conversation.item.create(
                item=UserMessageItem(content=[InputTextContentPart(text="hi")])
            )
            await conn.response.create()
            events = await recv_until(conn, "response.done")
            assert events[-1].response.status == "completed"
        assert emu.sessions[0].faults == Faults()
    async with (
        Emulator(realtime=False, faults=None) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        assert (await conn.recv()).type == "session.created"
