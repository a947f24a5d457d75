"""Phone barge-in benchmark: caller speech onset -> line silent at the carrier; truncation error.

Real parts: the fake carriers of ``voiceagent.testing.carriers`` (a carrier-like buffer, marks
echoed when played), aiohttp with ``voiceagent.serve.telephony.hold_call``, the real session and
SDK over a real WebSocket to the emulator. Per interruption:

* reaction: from the first frame of the caller's interrupting speech on the line to the moment
  the carrier processed ``clear``/``StopAudio`` (its buffer dropped: the line is silent). It
  contains the service's VAD latency (the emulator's) and the round trip;
* truncation error: the ``audio_end_ms`` the service received minus the ms the carrier played.

Usage: ``python bench/telephony_bargein.py [--calls 5] [--depth-ms 300]``; the last line is
``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from typing import Any

from aiohttp import web

from voiceagent import AgentConfig, VoiceAgentSession
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.emulator.voice import synthesize
from voiceagent.serve.telephony import hold_call
from voiceagent.testing import EmulatorCredential
from voiceagent.testing.carriers import FakeAcsCall, FakeTwilioCall

TOKEN = "bench-token"
REPLY = "Let me tell you a rather long story about the weather in Paris and London. " * 3


def speech(text: str) -> bytes:
    return synthesize(text).audio + bytes(24000 * 2)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_call(emu: Emulator, provider: str, depth_ms: float) -> tuple[float, float]:
    calls: asyncio.Queue[VoiceAgentSession] = asyncio.Queue()

    class Sessions:
        def create(self, *, audio: Any, **kwargs: Any) -> VoiceAgentSession:
            session = VoiceAgentSession(
                emu.endpoint,
                AgentConfig(agent_name="bench", project_name="bench"),
                credential=EmulatorCredential(TOKEN),
                audio=audio,
            )
            calls.put_nowait(session)
            return session

    async def media(request: web.Request) -> web.WebSocketResponse:
        return await hold_call(request, provider, Sessions())  # type: ignore[arg-type]

    app = web.Application()
    app.router.add_get("/media", media)
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake = FakeTwilioCall if provider == "twilio" else FakeAcsCall
    depth = depth_ms if provider == "twilio" else 20.0
    try:
        async with fake(f"ws://127.0.0.1:{port}/media", depth_ms=depth, jitter_ms=20) as call:
            await asyncio.wait_for(calls.get(), 10)
            server = await emu.wait_for_session(timeout=5)
            emu.script.user_says("tell me a story", "stop")
            await call.speak(speech("tell me a story"))
            await call.wait_played(1500, timeout=20)
            interrupt = asyncio.create_task(call.speak(speech("stop")))
            truncate = await server.wait_for_client_event("conversation.item.truncate", timeout=10)
            await call.wait_for_message(
                lambda m: "clear" in (m.get("event"),) or m.get("Kind") == "StopAudio", timeout=5
            )
            interrupt.cancel()
            reaction_ms = 1000 * (call.cleared_at[0] - call.spoke_at[-1])
            heard_ms = call.clears[0] * 1000 / call.bytes_per_frame / call.rate
            return reaction_ms, float(truncate["audio_end_ms"]) - heard_ms
    finally:
        await runner.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--depth-ms", type=float, default=300.0, help="Twilio's carrier buffer")
    args = parser.parse_args()
    out: list[str] = []
    for provider in ("twilio", "acs"):
        reactions, errors = [], []
        for _ in range(args.calls):
            script = AgentScript(default=REPLY)
            async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
                reaction, error = await one_call(emu, provider, args.depth_ms)
            reactions.append(reaction)
            errors.append(error)
            print(f"{provider}: reaction {reaction:.0f} ms, truncation error {error:+.0f} ms")
        out += [
            f"{provider}_reaction_p50_ms={statistics.median(reactions):.0f}",
            f"{provider}_reaction_p99_ms={pct(reactions, 0.99):.0f}",
            f"{provider}_trunc_err_abs_p99_ms={pct([abs(e) for e in errors], 0.99):.0f}",
        ]
    print(" ".join(out))


if __name__ == "__main__":
    asyncio.run(main())
