"""ASGIVoiceApp mounted in Starlette, on uvicorn over a real socket, against the emulator."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import aiohttp
import pytest

from session_helpers import user_speech
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import ASGIVoiceApp, Hooks

from .helpers import LONG_REPLY, emulator_factory

uvicorn = pytest.importorskip("uvicorn", reason="uvicorn not installed: pip install -e '.[dev]'")
routing = pytest.importorskip("starlette.routing", reason="starlette not installed")
applications = pytest.importorskip("starlette.applications")


async def test_mounted_in_starlette_the_page_and_a_conversation_work() -> None:
    async with Emulator(realtime=False, script=AgentScript(default=LONG_REPLY)) as emu:
        factory = emulator_factory(emu)
        sessions: list[Any] = []
        voice = ASGIVoiceApp(factory, hooks=Hooks(observe=lambda req, s: sessions.append(s)))
        app = applications.Starlette(routes=[routing.Mount("/voice", app=voice)])
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        listening = socket.create_server(("127.0.0.1", 0))  # connections queue until served
        port = listening.getsockname()[1]
        serving = asyncio.ensure_future(server.serve(sockets=[listening]))
        try:
            base = f"http://127.0.0.1:{port}/voice/"
            async with aiohttp.ClientSession() as http:
                page = await http.get(base)
                assert page.status == 200 and "Start" in await page.text()
                assert (await http.get(base + "playback-worklet.js")).status == 200
                assert (await http.get(base + "nothing.js")).status == 404
                with pytest.raises(aiohttp.WSServerHandshakeError):
                    await http.ws_connect(base + "ws", headers={"Origin": "http://evil.example"})
                assert not voice.conversations
                ws = await http.ws_connect(
                    base + "ws", headers={"Origin": f"http://127.0.0.1:{port}"}
                )
                await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
                await _until(ws, lambda m: m == {"type": "state", "state": "listening"})
                emu.script.user_says("hello")
                pcm = user_speech("hello")
                for i in range(0, len(pcm), 4800):
                    await ws.send_bytes(pcm[i : i + 4800])
                await ws.send_str("garbage")
                await _until(ws, lambda m: m["type"] == "error")
                caption = await _until(
                    ws, lambda m: m["type"] == "caption" and m["role"] == "assistant"
                )
                assert caption["text"]
                await ws.close()
            await asyncio.wait_for(sessions[0].wait_closed(), 10)  # the tab closed: it ends
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, 10)
            await factory.aclose()


async def _until(ws: aiohttp.ClientWebSocketResponse, check: Any) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.BINARY:
                continue
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            message = json.loads(msg.data)
            if check(message):
                return message
