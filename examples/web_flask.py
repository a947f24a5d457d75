"""The voice page next to a Flask app (like the Voice Live learning module's), on one ASGI server.

    python examples/web_flask.py              # Azure (VOICELIVE_ENDPOINT, AGENT_NAME, ...):
                                              # open http://127.0.0.1:8080/, log in, talk
    python examples/web_flask.py --emulator   # offline: one conversation over the page's
                                              # WebSocket, spoken by this script, then exit

Flask is WSGI (a thread per request) and a conversation is a long-lived asyncio task, so both
run in uvicorn: Flask through asgiref's ``WsgiToAsgi`` (its threads stay its own), the page and
its WebSocket as :class:`voiceagent.serve.ASGIVoiceApp` on the server's event loop, and a few
lines (``dispatch``) send ``/voice/...`` to the voice app and everything else to Flask. The
``authorize`` hook reads the cookie Flask's ``/login`` set; the key or token stays here.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
from http.cookies import SimpleCookie
from typing import Any

import uvicorn
from asgiref.wsgi import WsgiToAsgi
from common import talk_like_a_page  # the browser, offline: what the page says on its socket
from flask import Flask, redirect

from voiceagent import AgentConfig, SessionFactory
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import ASGIVoiceApp, Hooks
from voiceagent.testing import EmulatorCredential

EMULATED = "--emulator" in sys.argv[1:]
LOGGED_IN: set[str] = set()

flask_app = Flask(__name__)


@flask_app.get("/")
def home() -> str:
    return '<p>Your Flask app. <a href="/login">Log in and talk to the agent</a></p>'


@flask_app.get("/login")
def login() -> Any:
    token = secrets.token_urlsafe(16)
    LOGGED_IN.add(token)
    response = redirect("/voice/")
    response.set_cookie("session", token, httponly=True, samesite="Strict")
    return response


def authorize(scope: dict[str, Any]) -> bool:
    """Only browsers that went through Flask's /login (your real login in your app)."""
    cookies: SimpleCookie = SimpleCookie()
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookies.load(value.decode("latin-1"))
    morsel = cookies.get("session")
    return morsel is not None and morsel.value in LOGGED_IN


def dispatch(voice: ASGIVoiceApp, prefix: str = "/voice") -> Any:
    """One ASGI app: ``{prefix}/...`` to the voice app, everything else to Flask."""
    flask = WsgiToAsgi(flask_app)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # WsgiToAsgi takes HTTP only; the voice app drains
            await voice(scope, receive, send)
        elif scope["path"].startswith(prefix + "/"):
            # as Starlette's mount does: the full path, the prefix in root_path
            await voice({**scope, "root_path": scope.get("root_path", "") + prefix}, receive, send)
        else:
            await flask(scope, receive, send)

    return app


def build_app(factory: SessionFactory) -> Any:
    return dispatch(ASGIVoiceApp(factory, hooks=Hooks(authorize=authorize)))


async def offline() -> None:
    script = AgentScript(rules=[("weather", "It is sunny in Paris.")])
    async with Emulator(realtime=False, script=script, always_transcribe=True) as emulator:
        factory = SessionFactory(
            emulator.endpoint,
            AgentConfig(agent_name="concierge", project_name="emulator"),
            credential=EmulatorCredential(),
        )
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))  # any free port, known before the server starts
        listening.listen()  # connections wait in the backlog until uvicorn accepts them
        port = listening.getsockname()[1]
        config = uvicorn.Config(build_app(factory), log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        try:
            await asyncio.wait_for(talk_like_a_page(f"http://127.0.0.1:{port}/", emulator), 60)
        finally:
            server.should_exit = True
            await serving
            await factory.aclose()


def main() -> None:
    if EMULATED:
        asyncio.run(offline())
        return
    factory = SessionFactory(
        os.environ.get("VOICELIVE_ENDPOINT"),
        AgentConfig(agent_name=os.environ["AGENT_NAME"], project_name=os.environ["PROJECT_NAME"]),
    )
    uvicorn.run(build_app(factory), host="127.0.0.1", port=8080)


if __name__ == "__main__":
    main()
