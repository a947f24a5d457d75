"""Interim responses: something to hear while a slow answer (or a tool) is on its way.

    python examples/interim_responses.py [--emulator]

The service speaks them; the app only configures them. LLM-written, or picked from your texts.
Offline, the embedded emulator is made to "think" for 1.5 s before answering, longer than the
800 ms threshold, so you hear the filler first and then the answer.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from common import EMULATED, SPEED, Replies, Target, show_turns, target

from voiceagent import (
    LlmInterimResponse,
    MemoryAudio,
    SessionOptions,
    StaticInterimResponse,
    VoiceAgentSession,
)
from voiceagent.emulator import AgentScript, Emulator, Timing
from voiceagent.testing import EmulatorCredential

LLM = LlmInterimResponse(
    triggers=("latency", "tool"),
    latency_threshold_ms=800,  # say something if the answer takes longer than this
    instructions="Say briefly that you are looking it up.",
)
STATIC = StaticInterimResponse(
    texts=("One moment, please.", "Let me check."),
    triggers=("latency",),
    latency_threshold_ms=800,
)
ANSWER = "I found a table for two at eight o'clock."


@asynccontextmanager
async def slow_target() -> AsyncIterator[Target]:
    """Azure as configured; offline, an emulator whose answers take 1.5 s to start."""
    if not EMULATED:
        async with target() as where:
            yield where
        return
    slow = Timing(think_ms=(1500.0, 1500.0))
    script = AgentScript(default=ANSWER)
    async with Emulator(realtime=True, speed=SPEED, timing=slow, script=script) as emu:
        yield Target(emu.endpoint, EmulatorCredential(), MemoryAudio(speed=SPEED), emu)


async def talk(interim: LlmInterimResponse | StaticInterimResponse) -> None:
    async with slow_target() as where:
        session = VoiceAgentSession(
            where.endpoint,
            where.agent(),
            credential=where.credential,
            audio=where.audio,
            options=SessionOptions(interim_response=interim),
        )
        show_turns(session)  # the filler is a turn of its own, before the answer
        replies = Replies(session)
        async with session:
            where.say("Find me a table for two tonight")
            # Offline the filler always plays (the emulator is slow on purpose): two replies.
            # With Azure it plays only when the answer is slow.
            await replies.wait(2 if EMULATED else 1)
        print(f"({interim.type} configured)")


async def main() -> None:
    await talk(LLM)
    await talk(STATIC)


if __name__ == "__main__":
    asyncio.run(main())
