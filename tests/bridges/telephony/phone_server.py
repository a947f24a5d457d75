"""A tiny phone server for the end-to-end tests: voiceagent.serve.telephony on an aiohttp app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from local_http import listening
from session_helpers import TOKEN
from voiceagent import AgentConfig, SessionOptions, VoiceAgentSession
from voiceagent.audio.base import AudioBackend
from voiceagent.bridges.telephony.backend import TelephonyBackend
from voiceagent.emulator import Emulator
from voiceagent.serve.silence import SilencePolicy
from voiceagent.serve.telephony import CallCheck, hold_call
from voiceagent.testing import EmulatorCredential

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")


class Sessions:
    """A SessionMaker against the emulator that hands each call to the test."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.calls: asyncio.Queue[tuple[VoiceAgentSession, TelephonyBackend]] = asyncio.Queue()

    def create(self, *, audio: AudioBackend, **kwargs: Any) -> VoiceAgentSession:
        assert isinstance(audio, TelephonyBackend)
        session = VoiceAgentSession(
            self.emu.endpoint,
            AGENT,
            credential=EmulatorCredential(TOKEN),
            audio=audio,
            options=SessionOptions(),
        )
        self.calls.put_nowait((session, audio))
        return session


class PhoneServer:
    """Where the fake carrier calls, and the calls the server answered."""

    def __init__(self, sessions: Sessions, url: str) -> None:
        self.sessions = sessions
        self.calls = sessions.calls
        self.url = url


@asynccontextmanager
async def phone_server(
    emu: Emulator,
    provider: str,
    check: CallCheck | None = None,
    silence: SilencePolicy | None = None,
) -> AsyncIterator[PhoneServer]:
    """Serve ``/media`` for ``provider`` on 127.0.0.1 (a free port) for the duration."""
    sessions = Sessions(emu)

    async def media(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(
            request,
            provider,  # type: ignore[arg-type]
            sessions,
            check=check,
            silence=silence,
        )

    app = web.Application()
    app.router.add_get("/media", media)
    async with listening(app) as host:
        yield PhoneServer(sessions, f"ws://{host}/media")
