"""A served app on the emulator, for the protocol and browser tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

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
