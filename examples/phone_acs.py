"""A phone agent on Azure Communication Services: Event Grid answers, ACS streams to this server.

    VOICEAGENT_PUBLIC_URL=https://voice.example.com ACS_CONNECTION_STRING=... \\
    ACS_EVENTS_SECRET=<16+ random characters> ACS_RESOURCE_ID=<immutable id> \\
    python examples/phone_acs.py             # Azure (VOICELIVE_ENDPOINT, AGENT_NAME, ...):
                                             # subscribe IncomingCall (Event Grid, webhook) to
                                             # https://voice.example.com/acs/events?code=<secret>
    python examples/phone_acs.py --emulator  # offline: a fake ACS opens the media socket with a
                                             # signed JWT (keys from a local JWKS), speaks,
                                             # hears the answer, hangs up, exit

The media socket is accepted for a call this server answered (the token minted into the transport
URL) or with a valid ACS JWT (RS256, ACS's issuer, audience = your resource id); PCM 24 kHz both
ways, no resampling.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import socket
import sys
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from voiceagent import AgentConfig, SessionFactory
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve.telephony import add_phone_routes
from voiceagent.testing import EmulatorCredential
from voiceagent.testing.carriers import FakeAcsCall

EMULATED = "--emulator" in sys.argv[1:]
ACS_ISSUER = "https://acscallautomation.communication.azure.com"
RESOURCE_ID = "00000000-example-acs-resource"


class ShowTurns:
    """Builds each call's session with ``factory`` and prints what is said on it."""

    def __init__(self, factory: SessionFactory) -> None:
        self.factory = factory
        self.answered: asyncio.Queue[str] = asyncio.Queue()

    def create(self, **kwargs: Any) -> Any:
        session = self.factory.create(**kwargs)

        def show(turn: Any) -> None:
            print(f"{turn.role}: {turn.text}", flush=True)
            if turn.role == "assistant":
                self.answered.put_nowait(turn.text)

        session.on("voiceagent.turn", show)
        return session


def voice_like_pcm(seconds: float) -> bytes:
    """A voiced sound (a 140 Hz buzz with harmonics, PCM16 24 kHz), then 1 s of silence."""
    samples = bytearray()
    for n in range(int(24000 * seconds)):
        t = n / 24000
        value = sum(math.sin(2 * math.pi * 140 * k * t) / k for k in range(1, 6))
        samples += int(6000 * value).to_bytes(2, "little", signed=True)
    return bytes(samples) + bytes(48000)


def bound_socket() -> tuple[socket.socket, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"127.0.0.1:{sock.getsockname()[1]}"


async def serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


async def offline() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # ACS's, in real life
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key())) | {"kid": "acs", "alg": "RS256"}

    async def keys(request: web.Request) -> web.Response:
        return web.json_response({"keys": [jwk]})

    script = AgentScript(rules=[("opening hours", "We are open from nine to five.")])
    async with Emulator(realtime=False, script=script, always_transcribe=True) as emulator:
        factory = SessionFactory(
            emulator.endpoint,
            AgentConfig(agent_name="concierge", project_name="emulator"),
            credential=EmulatorCredential(),
        )
        turns = ShowTurns(factory)
        jwks = web.Application()
        jwks.router.add_get("/calling/keys", keys)
        jwks_sock, jwks_host = bound_socket()
        phone_sock, phone_host = bound_socket()
        app = web.Application()
        add_phone_routes(
            app,
            turns,
            public_url=f"http://{phone_host}",
            twilio_auth_token=secrets.token_hex(16),  # /twilio/voice is on too: nobody signs
            acs_resource_id=RESOURCE_ID,
            acs_jwks_url=f"http://{jwks_host}/calling/keys",
        )
        runners = [await serve(jwks, jwks_sock), await serve(app, phone_sock)]
        try:
            now = int(time.time())
            claims = {"iss": ACS_ISSUER, "aud": RESOURCE_ID, "iat": now, "exp": now + 300}
            token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "acs"})
            url = f"ws://{phone_host}/media/acs"
            print(f"acs: streaming a call to {url} with a signed JWT", flush=True)
            async with FakeAcsCall(url, headers={"Authorization": f"Bearer {token}"}) as call:
                emulator.script.user_says("What are your opening hours?")
                await call.speak(voice_like_pcm(1.5))
                await asyncio.wait_for(turns.answered.get(), 60)
                await call.wait_played(500)
                print(f"acs: the caller heard {call.played_ms:.0f} ms of the answer", flush=True)
        finally:
            for runner in runners:
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
    app = web.Application()
    add_phone_routes(
        app,
        factory,
        public_url=os.environ["VOICEAGENT_PUBLIC_URL"],
        twilio_auth_token=os.environ.get("TWILIO_AUTH_TOKEN"),
        acs_connection_string=os.environ["ACS_CONNECTION_STRING"],
        acs_events_secret=os.environ["ACS_EVENTS_SECRET"],
        acs_resource_id=os.environ.get("ACS_RESOURCE_ID"),
    )
    web.run_app(app, host="127.0.0.1", port=8080)


if __name__ == "__main__":
    main()
