"""A tiny phone server for the end-to-end tests: an aiohttp media WebSocket, a session per call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import WSMsgType, web

from session_helpers import TOKEN
from voiceagent import AgentConfig, SessionOptions, VoiceAgentSession
from voiceagent.bridges.telephony.backend import TelephonyBackend
from voiceagent.emulator import Emulator
from voiceagent.events import DtmfReceived
from voiceagent.testing import EmulatorCredential

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")


async def text_frames(ws: web.WebSocketResponse) -> AsyncIterator[str]:
    """The text frames a carrier sends, until it closes the socket."""
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            yield msg.data


class PhoneServer:
    """Answers each media stream with a backend and a session against the emulator."""

    def __init__(self, emu: Emulator, provider: str, **backend_options: Any) -> None:
        self.emu = emu
        self.provider = provider
        self.backend_options = backend_options
        self.calls: asyncio.Queue[tuple[VoiceAgentSession, TelephonyBackend]] = asyncio.Queue()
        self.url = ""
        self.options = SessionOptions()

    async def media(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        make = TelephonyBackend.twilio if self.provider == "twilio" else TelephonyBackend.acs
        backend = make(ws.send_str, ws.close, **self.backend_options)
        reader = asyncio.create_task(backend.run(text_frames(ws)))
        await backend.wait_call_started(timeout=5)
        session = VoiceAgentSession(
            self.emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=backend,
            options=self.options,
        )
        backend.on_dtmf = lambda digit: session.publish(DtmfReceived(digit))
        await self.calls.put((session, backend))
        async with session:
            await session.wait_closed()
        await asyncio.wait_for(reader, 5)
        return ws


@asynccontextmanager
async def phone_server(emu: Emulator, provider: str, **options: Any) -> AsyncIterator[PhoneServer]:
    """Serve ``/media`` on 127.0.0.1 (a free port) for the duration."""
    server = PhoneServer(emu, provider, **options)
    app = web.Application()
    app.router.add_get("/media", server.media)
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"ws://127.0.0.1:{port}/media"
    try:
        yield server
    finally:
        await runner.cleanup()
