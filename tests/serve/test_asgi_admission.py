"""ASGIVoiceApp admits through the shared SessionRegistry: past the limit, or draining, the
upgrade is refused before any Voice Live connection (uvicorn over a real socket)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import ASGIVoiceApp, SessionRegistry

from .helpers import LONG_REPLY, emulator_factory

uvicorn = pytest.importorskip("uvicorn", reason="uvicorn not installed: pip install -e '.[dev]'")
routing = pytest.importorskip("starlette.routing", reason="starlette not installed")
applications = pytest.importorskip("starlette.applications")


@contextlib.asynccontextmanager
async def on_uvicorn(voice: ASGIVoiceApp) -> AsyncIterator[str]:
    app = applications.Starlette(routes=[routing.Mount("/voice", app=voice)])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    serving = asyncio.ensure_future(server.serve(sockets=[listening]))
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        await voice.aclose()


async def _listening(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
    async with asyncio.timeout(15):
        while True:
            msg = await ws.receive()
            assert msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), msg
            if msg.type is aiohttp.WSMsgType.TEXT and json.loads(msg.data) == {
                "type": "state",
                "state": "listening",
            }:
                return


async def test_past_the_shared_limit_the_upgrade_gets_503_and_no_voice_live_connection() -> None:
    async with Emulator(realtime=False, script=AgentScript(default=LONG_REPLY)) as emu:
        factory = emulator_factory(emu)
        registry = SessionRegistry(1)  # shared with the server's other channels
        voice = ASGIVoiceApp(factory, registry=registry)
        try:
            async with on_uvicorn(voice) as host, aiohttp.ClientSession() as http:
                url, origin = f"http://{host}/voice/ws", {"Origin": f"http://{host}"}
                first = await http.ws_connect(url, headers=origin)
                await _listening(first)
                assert registry.count_by_channel() == {"browser": 1}
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(url, headers=origin)
                assert refused.value.status == 503
                assert len(emu.sessions) == 1  # the refused one never reached Voice Live
                await first.close()
                assert await registry.wait_empty(10)  # released when its conversation ends
                registry.start_drain()
                with pytest.raises(aiohttp.WSServerHandshakeError) as draining:
                    await http.ws_connect(url, headers=origin)
                assert draining.value.status == 503 and len(emu.sessions) == 1
        finally:
            await registry.aclose()
            await factory.aclose()


async def test_without_the_http_response_extension_the_refusal_is_close_code_4429() -> None:
    registry = SessionRegistry(1)
    registry.start_drain()
    built: list[Any] = []
    voice = ASGIVoiceApp(lambda *a, **k: built.append(a), registry=registry)  # type: ignore[arg-type,return-value]
    sent: list[dict[str, Any]] = []
    events = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return events.pop(0) if events else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {
        "type": "websocket", "path": "/ws", "root_path": "", "scheme": "ws", "extensions": {},
        "headers": [(b"host", b"127.0.0.1:9"), (b"origin", b"http://127.0.0.1:9")],
    }  # fmt: skip
    await voice(scope, receive, send)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert sent[1]["code"] == 4429 and not built
    await voice.aclose()
