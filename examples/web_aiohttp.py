"""The voice page inside your own aiohttp app: mounted at /voice, behind your login.

    python examples/web_aiohttp.py              # Azure (VOICELIVE_ENDPOINT, AGENT_NAME, ...):
                                                # open http://127.0.0.1:8080/login, then /voice/
    python examples/web_aiohttp.py --emulator   # offline: one conversation over the page's
                                                # WebSocket, spoken by this script, then exit

Each browser tab is its own conversation; the key or token stays in this process. The
``authorize`` hook lets in only browsers that went through ``/login`` (a cookie here; your real
login in your app), ``choose`` could pick the agent per user, ``observe`` logs every turn.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from typing import Any

from aiohttp import web
from common import talk_like_a_page  # the browser, offline: what the page says on its socket

from voiceagent import AgentConfig, SessionFactory
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import Hooks, add_page_routes
from voiceagent.testing import EmulatorCredential

EMULATED = "--emulator" in sys.argv[1:]
LOGGED_IN: set[str] = set()


async def login(request: web.Request) -> web.Response:
    token = secrets.token_urlsafe(16)
    LOGGED_IN.add(token)
    response = web.HTTPFound("/voice/")
    response.set_cookie("session", token, httponly=True, samesite="Strict")
    return response


def authorize(request: web.Request) -> bool:
    return request.cookies.get("session") in LOGGED_IN


def observe(request: web.Request, session: Any) -> None:
    session.on("voiceagent.turn", lambda turn: print(f"{turn.role}: {turn.text}", flush=True))


def build_app(factory: SessionFactory) -> web.Application:
    app = web.Application()
    app.router.add_get("/login", login)
    add_page_routes(
        app, factory, prefix="/voice", hooks=Hooks(authorize=authorize, observe=observe)
    )
    return app


async def offline() -> None:
    script = AgentScript(rules=[("weather", "It is sunny in Paris.")])
    async with Emulator(realtime=False, script=script, always_transcribe=True) as emulator:
        factory = SessionFactory(
            emulator.endpoint,
            AgentConfig(agent_name="concierge", project_name="emulator"),
            credential=EmulatorCredential(),
        )
        runner = web.AppRunner(build_app(factory))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        try:
            await asyncio.wait_for(talk_like_a_page(f"http://127.0.0.1:{port}/", emulator), 60)
        finally:
            await runner.cleanup()
            await factory.aclose()


def main() -> None:
    if EMULATED:
        asyncio.run(offline())
        return
    factory = SessionFactory(
        os.environ.get("VOICELIVE_ENDPOINT"),
        AgentConfig(agent_name=os.environ["AGENT_NAME"], project_name=os.environ["PROJECT_NAME"]),
    )
    web.run_app(build_app(factory), host="127.0.0.1", port=8080)


if __name__ == "__main__":
    main()
