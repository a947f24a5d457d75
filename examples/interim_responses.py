"""Interim responses: something to hear while a slow answer (or a tool) is on its way.

    python examples/interim_responses.py [--emulator]

The service speaks them; the app only configures them. LLM-written, or picked from your texts.
"""

import asyncio

from common import Replies, show_turns, target

from voiceagent import LlmInterimResponse, SessionOptions, StaticInterimResponse, VoiceAgentSession

LLM = LlmInterimResponse(
    triggers=("latency", "tool"),
    latency_threshold_ms=800,  # say something if the answer takes longer than this
    instructions="Say briefly that you are looking it up.",
)
STATIC = StaticInterimResponse(texts=("One moment, please.", "Let me check."))


async def talk(interim: LlmInterimResponse | StaticInterimResponse) -> None:
    async with target() as where:
        session = VoiceAgentSession(
            where.endpoint,
            where.agent(),
            credential=where.credential,
            audio=where.audio,
            options=SessionOptions(interim_response=interim),
        )
        show_turns(session)
        replies = Replies(session)
        async with session:
            where.say("Find me a table for two tonight")
            await replies.wait(1)
        print(f"({interim.type} configured)")


async def main() -> None:
    await talk(LLM)
    await talk(STATIC)


if __name__ == "__main__":
    asyncio.run(main())
