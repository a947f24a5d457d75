"""The page's WebSocket protocol, spoken by a plain aiohttp client against the emulator."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from session_helpers import KEY, user_speech
from voiceagent.bridges.web import ASSET_NAMES
from voiceagent.serve import Hooks, ServeLimits

from .helpers import Served, served

CHUNK = 4800  # 100 ms of PCM16 24 kHz


async def send_speech(
    box: Served, ws: aiohttp.ClientWebSocketResponse, text: str = "hello"
) -> None:
    box.emulator.script.user_says(text)  # what the emulator's ears "hear" in the speech
    pcm = user_speech(text)
    for i in range(0, len(pcm), CHUNK):
        await ws.send_bytes(pcm[i : i + CHUNK])


class Page:
    """What a page would keep: control messages by type, audio bytes per item."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.audio: dict[str, int] = {}
        self.item: str | None = None

    async def until(self, check: Any, timeout: float = 15) -> dict[str, Any]:
        """Read frames until a control message satisfies ``check``; return it."""
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.ws.receive()
                if msg.type is aiohttp.WSMsgType.BINARY:
                    assert self.item is not None, "audio before its 'audio {item_id}' message"
                    self.audio[self.item] = self.audio.get(self.item, 0) + len(msg.data) // 2
                    continue
                assert msg.type is aiohttp.WSMsgType.TEXT, f"socket ended: {msg.type}"
                message = json.loads(msg.data)
                self.messages.append(message)
                if message["type"] == "audio":
                    self.item = message["item_id"]
                if check(message):
                    return message


async def open_page(
    box: Served, session: aiohttp.ClientSession, origin: str | None = None
) -> aiohttp.ClientWebSocketResponse:
    headers = {"Origin": origin or box.origin}
    ws = await session.ws_connect(box.url + "ws", headers=headers)
    await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
    return ws


def of_type(kind: str, **fields: Any) -> Any:
    return lambda m: m["type"] == kind and all(m.get(k) == v for k, v in fields.items())


async def test_the_page_and_its_files_are_served_without_any_secret() -> None:
    async with served() as box, aiohttp.ClientSession() as http:
        for name in ASSET_NAMES:
            async with http.get(box.url + ("" if name == "index.html" else name)) as resp:
                assert resp.status == 200, name
                body = await resp.text()
                assert "SECRET" not in body and "api-key" not in body.lower()
        async with http.get(box.url + "..%2Fsettings.py") as resp:
            assert resp.status == 404
        index = await (await http.get(box.url)).text()
        assert 'id="start"' in index and "Start" in index


async def test_a_conversation_barge_in_truncates_at_what_the_page_reported() -> None:
    async with served() as box, aiohttp.ClientSession() as http:
        page = Page(await open_page(box, http))
        await page.until(of_type("state", state="listening"))
        await send_speech(box, page.ws)
        user = await page.until(of_type("caption", role="user"))
        assert user["final"] and user["text"]
        await page.until(lambda m: m["type"] == "caption" and m["role"] == "assistant")
        await page.until(lambda m: page.audio and sum(page.audio.values()) > 24000)
        item = page.item
        assert item is not None
        # the page has "played" 0.5 s so far, far less than it was sent (the emulator is fast)
        report = {"type": "played", "seq": 0, "frames": {item: 12000}, "received": 24000}
        await page.ws.send_str(json.dumps(report))
        await send_speech(box, page.ws, "stop please")
        clear = await page.until(of_type("clear"))
        cleared = {"type": "cleared", "seq": clear["seq"], "frames": {item: 16800}}  # 700 ms
        await page.ws.send_str(json.dumps(cleared))
        session = box.emulator.sessions[0]
        truncate = await session.wait_for_server_event("conversation.item.truncated", timeout=10)
        assert truncate["item_id"] == item
        assert truncate["audio_end_ms"] == 700
        final = await page.until(of_type("caption", role="assistant", final=True))
        assert final["interrupted"] is True
        await page.ws.close()


async def test_a_foreign_or_missing_origin_is_refused_and_an_allowed_one_accepted() -> None:
    limits = ServeLimits(allowed_origins=("https://app.example.com",))
    async with served(limits=limits) as box, aiohttp.ClientSession() as http:
        for headers in ({"Origin": "http://evil.example"}, {}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(box.url + "ws", headers=headers)
            assert refused.value.status == 403
        assert not box.sessions
        ws = await open_page(box, http, origin="https://app.example.com")
        assert json.loads((await ws.receive()).data) == {"type": "state", "state": "connecting"}
        await ws.close()


async def test_authorize_hook_refuses_the_upgrade() -> None:
    async def authorize(request: Any) -> bool:
        return bool(request.headers.get("Cookie") == "session=ok")

    async with served(hooks=Hooks(authorize=authorize)) as box, aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await open_page(box, http)
        assert refused.value.status == 401
        ws = await http.ws_connect(
            box.url + "ws", headers={"Origin": box.origin, "Cookie": "session=ok"}
        )
        assert json.loads((await ws.receive()).data)["type"] == "state"
        await ws.close()


async def test_garbage_frames_get_errors_and_the_conversation_goes_on() -> None:
    async with served() as box, aiohttp.ClientSession() as http:
        page = Page(await open_page(box, http))
        await page.until(of_type("state", state="listening"))
        garbage: list[str | bytes] = [
            "not json",
            "[1, 2]",
            '{"type": "launch-missiles"}',
            '{"type": "played", "frames": {"x": -5}}',
            '{"type": "played", "frames": "lots"}',
            '{"type": "hello", "sample_rate": 44100}',
            b"\x01\x02\x03",
            bytes(48_002),
        ]
        for frame in garbage:
            if isinstance(frame, bytes):
                await page.ws.send_bytes(frame)
            else:
                await page.ws.send_str(frame)
            error = await page.until(of_type("error"))
            assert error["message"]
        await send_speech(box, page.ws)
        await page.until(lambda m: m["type"] == "caption" and m["role"] == "assistant")
        assert box.sessions[0].state.value == "ready"
        await page.ws.close()


async def test_closing_the_socket_ends_its_session_and_not_the_others() -> None:
    async with served() as box, aiohttp.ClientSession() as http:
        first = Page(await open_page(box, http))
        second = Page(await open_page(box, http))
        await first.until(of_type("state", state="listening"))
        await second.until(of_type("state", state="listening"))
        assert len(box.sessions) == 2
        await first.ws.close()
        done = await asyncio.wait_for(_first_closed(box.sessions), 10)
        assert sum(s.state.value == "closed" for s in box.sessions) == 1
        other = next(s for s in box.sessions if s is not done)
        assert other.state.value == "ready"
        await send_speech(box, second.ws)
        await second.until(lambda m: m["type"] == "caption" and m["role"] == "assistant")
        await second.ws.close()


async def _first_closed(sessions: list[Any]) -> Any:
    waits = {asyncio.ensure_future(s.wait_closed()): s for s in sessions}
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return waits[done.pop()]


async def test_a_page_flooding_messages_is_told_and_disconnected() -> None:
    limits = ServeLimits(messages_per_second=20, burst_seconds=1)
    async with served(limits=limits) as box, aiohttp.ClientSession() as http:
        page = Page(await open_page(box, http))
        for _ in range(100):
            await page.ws.send_bytes(bytes(960))
        error = await page.until(of_type("error"))
        assert "too many messages" in error["message"]
        closed = await page.until(of_type("closed"))
        assert "too many" in closed["reason"]
        await asyncio.wait_for(box.sessions[0].wait_closed(), 10)


async def test_the_conversation_length_limit_ends_it() -> None:
    limits = ServeLimits(max_conversation_s=1.5)
    async with served(limits=limits) as box, aiohttp.ClientSession() as http:
        page = Page(await open_page(box, http))
        closed = await page.until(of_type("closed"))
        assert "time limit" in closed["reason"]
        await asyncio.wait_for(box.sessions[0].wait_closed(), 10)


@pytest.mark.parametrize("key", [KEY, "wrong-" + KEY])
async def test_the_key_never_reaches_the_page_even_when_it_is_refused(key: str) -> None:
    from aiohttp import web
    from azure.core.credentials import AzureKeyCredential

    from voiceagent import SessionFactory
    from voiceagent.emulator import Emulator
    from voiceagent.serve import create_app

    async with Emulator(api_key=KEY, realtime=False) as emu:
        factory = SessionFactory(
            emu.endpoint, model="gpt-realtime", credential=AzureKeyCredential(key)
        )
        runner = web.AppRunner(create_app(factory))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        try:
            async with aiohttp.ClientSession() as http:
                pages = [await (await http.get(url + name)).read() for name in ASSET_NAMES]
                ws = await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
                frames: list[str | bytes] = []
                async with asyncio.timeout(20):
                    async for msg in ws:
                        frames.append(msg.data)
                        if msg.type is aiohttp.WSMsgType.TEXT and '"listening"' in msg.data:
                            break  # the right key: connected
                        if msg.type is aiohttp.WSMsgType.TEXT and '"closed"' in msg.data:
                            break  # the wrong key: refused, and the page is told
            text = [f for f in frames if isinstance(f, str)]
            if key != KEY:
                assert any('"error"' in f for f in text), text
            for blob in [*pages, *(f.encode() if isinstance(f, str) else f for f in frames)]:
                assert KEY.encode() not in blob and key.encode() not in blob
        finally:
            await runner.cleanup()
            await factory.aclose()
