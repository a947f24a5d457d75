"""input_text.delta/done (the JS SDK's streamed text input) and mcp_approval_response."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from voiceagent.emulator import Emulator

from .helpers import KEY

URL = "/voice-live/realtime?api-version=2026-07-15&model=gpt-realtime"


async def _connect(http: aiohttp.ClientSession, emu: Emulator) -> Any:
    ws = await http.ws_connect(emu.endpoint + URL, headers={"api-key": KEY})
    assert json.loads((await ws.receive(timeout=5)).data)["type"] == "session.created"
    return ws


async def _until(ws: Any, *types: str) -> dict[str, Any]:
    while True:
        event = json.loads((await ws.receive(timeout=5)).data)
        if event["type"] in types:
            return dict(event)


async def test_streamed_text_is_what_the_reply_answers() -> None:
    async with Emulator(realtime=False) as emu, aiohttp.ClientSession() as http:
        ws = await _connect(http, emu)
        item = {"type": "message", "role": "user", "id": "msg-1"}
        item["content"] = [{"type": "input_text", "text": ""}]
        await ws.send_str(json.dumps({"type": "conversation.item.create", "item": item}))
        await _until(ws, "conversation.item.created")
        for chunk in ("Tell me ", "a fact ", "about the ocean."):
            delta = {"type": "input_text.delta", "id": "msg-1", "delta": chunk}
            await ws.send_str(json.dumps(delta))
        await ws.send_str(json.dumps({"type": "input_text.done", "id": "msg-1"}))
        await ws.send_str(json.dumps({"type": "response.create"}))
        done = await _until(ws, "response.done", "error")
        assert done["type"] == "response.done", done
        stored = emu.sessions[0].conversation.find("msg-1")
        assert stored is not None
        assert stored["content"][0]["text"] == "Tell me a fact about the ocean."
        assert "You said: Tell me a fact about the ocean." in json.dumps(done["response"]["output"])
        # After done, more text for that part is refused; an unknown item is named.
        late = {"type": "input_text.delta", "id": "msg-1", "delta": "!", "event_id": "e2"}
        await ws.send_str(json.dumps(late))
        error = (await _until(ws, "error"))["error"]
        assert error["event_id"] == "e2" and "already completed" in error["message"]
        await ws.send_str(json.dumps({"type": "input_text.delta", "id": "nope", "delta": "x"}))
        error = (await _until(ws, "error"))["error"]
        assert error["code"] == "item_not_found" and error["param"] == "id"
        await ws.close()


async def test_mcp_approval_response_is_validated_not_unsupported() -> None:
    async with Emulator(realtime=False) as emu, aiohttp.ClientSession() as http:
        ws = await _connect(http, emu)
        answer = {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True}
        await ws.send_str(json.dumps(answer))
        error = (await _until(ws, "error"))["error"]
        assert error["code"] == "approval_request_not_found"
        assert error["param"] == "approval_request_id" and "mcpr_1" in error["message"]
        await ws.send_str(json.dumps({"type": "mcp_approval_response", "approve": True}))
        error = (await _until(ws, "error"))["error"]
        assert error["code"] == "missing_required_parameter"
        await ws.close()
