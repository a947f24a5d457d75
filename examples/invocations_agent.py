"""An Invocations-protocol agent that Voice Live can voice: your text generator, served as SSE.

    python examples/invocations_agent.py [--port 8088]    # serve POST /invocations
    python examples/invocations_agent.py --emulator       # and talk to it offline, end to end

Voice Live posts what the user said (``{"type": "input_audio.transcription", "input": ...}``)
to ``/invocations`` and speaks the text your generator yields; dicts with a ``type`` are custom
events, which the Voice Live client receives as ``response.invocation.delta``. To be voiced, the
agent's ``agent.manifest.yaml`` declares::

    metadata:
      voiceLiveCompatible: "true"

(``voiceagent.invocations.check_manifest`` checks it). With ``--emulator`` the example starts
the agent on a loopback port, points an emulator at it (``Emulator(invocations_url=...)``) and
has a session type a question: the agent's reply is spoken back, custom event included.
"""

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from azure.core.credentials import AzureKeyCredential

from voiceagent import MemoryAudio, VoiceAgentSession
from voiceagent.emulator import Emulator
from voiceagent.invocations import create_app

FORECASTS = {"paris": "sunny and 24 degrees", "london": "grey, with light rain"}


async def reply(text: str) -> AsyncIterator[str | dict[str, Any]]:
    """The agent: any async generator of text chunks (an LLM stream, in real life)."""
    city = next((c for c in FORECASTS if c in text.lower()), None)
    yield {"type": "agent.lookup", "city": city}  # a custom event, passed through
    if city is None:
        yield "I can tell you the weather in Paris or London."
        return
    for chunk in (f"In {city.title()} ", "it is ", f"{FORECASTS[city]}."):
        yield chunk


async def talk_to_it_offline() -> None:
    runner = web.AppRunner(create_app(reply))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/invocations"
    try:
        async with Emulator(speed=4.0, invocations_url=url) as emu:
            session = VoiceAgentSession(
                emu.endpoint,
                model="gpt-realtime",
                credential=AzureKeyCredential("emulator"),
                audio=MemoryAudio(speed=4.0),
            )
            answered = asyncio.Event()

            @session.on("response.invocation.delta")
            def custom(event: Any) -> None:
                print(f"(custom event: {dict(event.delta)})", flush=True)

            @session.on("voiceagent.turn")
            def show(turn: Any) -> None:
                print(f"{turn.role}: {turn.text}", flush=True)
                if turn.role == "assistant":
                    answered.set()

            async with session:
                await session.send_text("What's the weather in Paris?")
                await asyncio.wait_for(answered.wait(), 60)
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emulator", action="store_true", help="talk to the agent offline")
    parser.add_argument("--port", type=int, default=8088, help="port to serve on (default 8088)")
    args = parser.parse_args()
    if args.emulator:
        asyncio.run(talk_to_it_offline())
    else:
        print(f"serving POST http://127.0.0.1:{args.port}/invocations (Ctrl+C to stop)")
        web.run_app(create_app(reply), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
