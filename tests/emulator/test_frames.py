"""No frame closes the connection: any nesting depth, any size up to the limit."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest

from voiceagent.emulator import Emulator
from voiceagent.emulator.session import MAX_JSON_DEPTH

from .helpers import KEY

URL = "/voice-live/realtime?api-version=2026-07-15&model=gpt-realtime"


async def _next(ws: Any) -> dict[str, Any]:
    message = await ws.receive(timeout=10)
    assert message.type == aiohttp.WSMsgType.TEXT, message  # not a close
    return dict(json.loads(message.data))


async def _still_usable(ws: Any) -> None:
    await ws.send_str(json.dumps({"type": "session.update", "session": {"instructions": "ok"}}))
    while (event := await _next(ws))["type"] != "session.updated":
        assert event["type"] != "error", event


def _nested(depth: int) -> str:
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return json.dumps({"type": "session.update", "session": {"metadata": "X"}}).replace(
        '"X"', inner
    )


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 5_000, 1_000_000])
async def test_deep_nesting_is_an_error_event(depth: int) -> None:
    async with Emulator(realtime=False) as emu, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(emu.endpoint + URL, headers={"api-key": KEY})
        assert (await _next(ws))["type"] == "session.created"
        await ws.send_str(_nested(depth))
        error = (await _next(ws))["error"]
        assert error["code"] == "invalid_json" and "nested deeper" in error["message"]
        assert not emu.sessions[0].closed
        await _still_usable(ws)
        await ws.close()


async def test_every_size_up_to_the_limit() -> None:
    limit = 64 * 1024
    async with (
        Emulator(realtime=False, max_frame_bytes=limit) as emu,
        aiohttp.ClientSession() as http,
    ):
        ws = await http.ws_connect(emu.endpoint + URL, headers={"api-key": KEY})
        assert (await _next(ws))["type"] == "session.created"
        head = '{"type":"input_audio_buffer.append","audio":"'
        audio_chars = (limit - len(head) - 2) // 4 * 4
        exact = head + base64.b64encode(bytes(audio_chars // 4 * 3)).decode() + '"}'
        assert len(exact) <= limit
        await ws.send_str(exact)
        await _still_usable(ws)  # accepted: no error before session.updated
        for size in (limit + 1, 2 * limit, 4 * limit - 16):
            await ws.send_str(" " * (size - 2) + "{}")
            assert (await _next(ws))["error"]["code"] == "message_too_large"
        await ws.send_str("[" * (limit // 2) + "]" * (limit // 2))
        assert (await _next(ws))["error"]["code"] == "invalid_json"
        await _still_usable(ws)
        await ws.close()
