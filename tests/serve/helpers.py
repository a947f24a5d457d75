"""A served app on the emulator, for the protocol and browser tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from voiceagent import AgentConfig, InputTranscription, SessionFactory, SessionOptions
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import Hooks, ServeLimits, create_app
from voiceagent.serve.settings import maybe_await
from voiceagent.testing import EmulatorCredential

LONG_REPLY = "Let me tell you a rather long story about the weather in Paris and London. " * 4


@dataclass
class Served:
    """The running app: its URL, the emulator behind it and the sessions it created."""

    url: str
    emulator: Emulator
    sessions: list[Any] = field(default_factory=list)
    new_session: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")


def emulator_factory(emu: Emulator) -> SessionFactory:
    """Sessions on ``emu`` for the Foundry agent the emulator plays."""
    return SessionFactory(
        emu.endpoint,
        AgentConfig(agent_name="concierge", project_name="emulator"),
        credential=EmulatorCredential(),
        options=SessionOptions(input_transcription=InputTranscription(model="azure-speech")),
    )


@contextlib.asynccontextmanager
async def served(
    *, hooks: Hooks | None = None, limits: ServeLimits | None = None, realtime: bool = False
) -> AsyncIterator[Served]:
    """The page app on 127.0.0.1 (any port), every session on an in-process emulator."""
    script = AgentScript(default=LONG_REPLY)
    async with Emulator(realtime=realtime, script=script, always_transcribe=True) as emu:
        factory = emulator_factory(emu)
        box = Served(url="", emulator=emu)
        user = hooks or Hooks()

        async def observe(request: Any, session: Any) -> None:
            box.sessions.append(session)
            box.new_session.put_nowait(session)
            if user.observe is not None:
                await maybe_await(user.observe(request, session))

        app = create_app(
            factory,
            hooks=Hooks(authorize=user.authorize, choose=user.choose, observe=observe),
            limits=limits,
        )
        runner = web.AppRunner(app, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        box.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        try:
            yield box
        finally:
            await runner.cleanup()
            await factory.aclose()


@contextlib.asynccontextmanager
async def serve_process(
    *args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = (), stop: str = "term"
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """``python -m voiceagent serve --emulator --port 0 ARGS`` as a child; yields its URL.

    Args:
        env: Added to this process's environment; ``unset`` names variables to remove.
        stop: How a child still running at the end is stopped: ``"term"`` (SIGTERM, then
            its exit awaited) or ``"kill"``.
    """
    environment = {**os.environ, **(env or {})}
    for name in unset:
        environment.pop(name, None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--emulator", "--port", "0", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=environment,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        found = re.search(r"open (http://\S+/)", line)
        assert found, line
        yield found.group(1), proc
    finally:
        if proc.returncode is None:
            if stop == "kill":
                proc.kill()
                await proc.wait()
            else:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 15)


async def until(ws: aiohttp.ClientWebSocketResponse, check: Any) -> dict[str, Any]:
    """The first text message from the page's socket that ``check`` accepts (binary skipped)."""
    async with asyncio.timeout(20):
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.BINARY:
                continue
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            message: dict[str, Any] = json.loads(msg.data)
            if check(message):
                return message
