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
import json
import math
import os
import secrets
import sys
from typing import Any

from aiohttp import ClientSession, CookieJar, web

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


def voice_like_pcm(seconds: float) -> bytes:
    """A voiced sound (a 140 Hz buzz with harmonics, PCM16 24 kHz), then 1 s of silence."""
    samples = bytearray()
    for n in range(int(24000 * seconds)):
        t = n / 24000
        value = sum(math.sin(2 * math.pi * 140 * k * t) / k for k in range(1, 6))
        samples += int(6000 * value).to_bytes(2, "little", signed=True)
    return bytes(samples) + bytes(48000)


async def talk_like_a_page(base: str, emulator: Emulator) -> None:
    """What the page does, in a few lines: log in, open the socket, speak, read captions."""
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # cookies for an IP
        await http.get(base + "login")  # keeps the session cookie
        origin = base.rstrip("/")
        async with http.ws_connect(base + "voice/ws", headers={"Origin": origin}) as ws:
            await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
            emulator.script.user_says("What is the weather like in Paris?")
            speech = voice_like_pcm(1.5)  # the emulator "hears" the line queued above
            item, played, seq, received = None, {}, 0, 0
            async for msg in ws:
                if msg.type.name == "BINARY":  # the agent's audio, for the item announced
                    # a page plays it and reports what its speaker output; this script
                    # pretends each frame was played as it came
                    played[item] = played.get(item, 0) + len(msg.data) // 2
                    received += len(msg.data) // 2  # since the last clear
                    report = {"seq": seq, "frames": played, "received": received, "idle": True}
                    await ws.send_str(json.dumps({"type": "played", **report}))
                    continue
                message = json.loads(msg.data)
                if message["type"] == "audio":
                    item = message["item_id"]
                if message["type"] == "clear":  # barge-in: drop what is queued, say so
                    seq, received = message["seq"], 0
                    await ws.send_str(json.dumps({"type": "cleared", "seq": seq, "frames": played}))
                if message == {"type": "state", "state": "listening"}:
                    for i in range(0, len(speech), 4800):  # 100 ms frames, PCM16 24 kHz
                        await ws.send_bytes(speech[i : i + 4800])
                if message["type"] == "caption" and message["final"]:
                    print(f"caption ({message['role']}): {message['text']}")
                    if message["role"] == "assistant":
                        break


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
