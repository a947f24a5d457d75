"""An operator's view of a served app: its registry, health routes and metrics, on the emulator."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from voiceagent import AgentConfig, InputTranscription, SessionFactory, SessionOptions
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import create_app
from voiceagent.serve.registry import SessionRegistry
from voiceagent.serve.telephony import add_media_routes
from voiceagent.testing import EmulatorCredential


@dataclass
class Ops:
    """The running app: its URL, its registry, the emulator and the factory behind it."""

    url: str
    registry: SessionRegistry
    emulator: Emulator
    factory: SessionFactory

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")


@contextlib.asynccontextmanager
async def operated(
    registry: SessionRegistry, *, operator_token: str | None = None
) -> AsyncIterator[Ops]:
    """``create_app`` plus the media routes on 127.0.0.1, every session on an emulator."""
    script = AgentScript(default="Sure, I can help with that request today.")
    async with Emulator(script=script, always_transcribe=True) as emu:
        factory = SessionFactory(
            emu.endpoint,
            AgentConfig(agent_name="concierge", project_name="emulator"),
            credential=EmulatorCredential(),
            options=SessionOptions(input_transcription=InputTranscription(model="azure-speech")),
        )
        app = create_app(factory, registry=registry, operator_token=operator_token)
        add_media_routes(app, factory)
        runner = web.AppRunner(app, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield Ops(f"http://127.0.0.1:{runner.addresses[0][1]}/", registry, emu, factory)
        finally:
            await runner.cleanup()
            await factory.aclose()


async def open_tab(ops: Ops, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    """A page's socket, past its ``hello``, once its session is listening."""
    ws = await http.ws_connect(ops.url + "ws", headers={"Origin": ops.origin})
    await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
    await until(ws, lambda m: m == {"type": "state", "state": "listening"})
    return ws


async def until(ws: aiohttp.ClientWebSocketResponse, check: object, timeout: float = 15) -> dict:  # type: ignore[type-arg]
    """Read the page's frames until a control message satisfies ``check``."""
    import asyncio

    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.BINARY:
                continue
            assert msg.type is aiohttp.WSMsgType.TEXT, f"socket ended: {msg.type} {msg.extra}"
            message = json.loads(msg.data)
            if check(message):  # type: ignore[operator]
                return message  # type: ignore[no-any-return]
