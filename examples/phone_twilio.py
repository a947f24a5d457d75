"""A phone agent on Twilio: the voice webhook answers with TwiML, the call streams to this server.

    VOICEAGENT_PUBLIC_URL=https://voice.example.com TWILIO_AUTH_TOKEN=... \\
    python examples/phone_twilio.py             # Azure (VOICELIVE_ENDPOINT, AGENT_NAME, ...):
                                                # point your number's voice webhook at
                                                # https://voice.example.com/twilio/voice
    python examples/phone_twilio.py --emulator  # offline: a fake Twilio places one signed call,
                                                # speaks, hears the answer, hangs up, exit

Twilio's webhook is checked against ``X-Twilio-Signature``; the TwiML mints a one-time
``<Parameter>`` the media stream must present, so only calls this server answered reach the agent.
The call is u-law 8 kHz end to end (no resampling); the agent's reply stops on the line the moment
the caller speaks over it (a Twilio ``clear``).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import secrets
import socket
import sys
from typing import Any

from aiohttp import ClientSession, web
from twilio.request_validator import RequestValidator

from voiceagent import AgentConfig, SessionFactory
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve.telephony import add_phone_routes
from voiceagent.testing import EmulatorCredential
from voiceagent.testing.carriers import FakeTwilioCall

EMULATED = "--emulator" in sys.argv[1:]


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


async def call_like_twilio(
    public_url: str, auth_token: str, emulator: Emulator, turns: ShowTurns
) -> None:
    """What Twilio does: a signed webhook, then the media stream the TwiML names."""
    form = {"CallSid": "CA" + secrets.token_hex(16), "From": "+15550100", "To": "+15550199"}
    webhook = public_url + "/twilio/voice"
    signature = RequestValidator(auth_token).compute_signature(webhook, form)
    async with ClientSession() as http:
        answer = await http.post(webhook, data=form, headers={"X-Twilio-Signature": signature})
        twiml = await answer.text()
    stream = re.search(r'<Stream url="([^"]+)"', twiml)
    assert stream is not None, twiml
    parameters = dict(re.findall(r'<Parameter name="([^"]+)" value="([^"]+)"', twiml))
    print(f"twilio: streaming the call to {stream.group(1)}", flush=True)
    call = FakeTwilioCall(stream.group(1), parameters=parameters)
    call.call_sid = form["CallSid"]
    async with call:
        emulator.script.user_says("What is the weather like in Paris?")
        await call.speak(voice_like_pcm(1.5))  # the emulator "hears" the line queued above
        await turns.answered.get()
        await call.wait_played(500)
        print(f"twilio: the caller heard {call.played_ms:.0f} ms of the answer", flush=True)


async def offline() -> None:
    script = AgentScript(rules=[("weather", "It is sunny in Paris.")])
    async with Emulator(realtime=False, script=script, always_transcribe=True) as emulator:
        factory = SessionFactory(
            emulator.endpoint,
            AgentConfig(agent_name="concierge", project_name="emulator"),
            credential=EmulatorCredential(),
        )
        turns, auth_token = ShowTurns(factory), secrets.token_hex(16)  # Twilio's, in real life
        # the stream URL is built on the public URL, so bind the port before mounting the routes
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = web.Application()
        add_phone_routes(app, turns, public_url=public_url, twilio_auth_token=auth_token)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        try:
            await asyncio.wait_for(call_like_twilio(public_url, auth_token, emulator, turns), 60)
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
    app = web.Application()
    add_phone_routes(
        app,
        factory,
        public_url=os.environ["VOICEAGENT_PUBLIC_URL"],
        twilio_auth_token=os.environ.get("TWILIO_AUTH_TOKEN"),
    )
    web.run_app(app, host="127.0.0.1", port=8080)


if __name__ == "__main__":
    main()
