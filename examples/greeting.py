"""Greetings: the agent speaks first, in its own words (LLM) or in yours (pre-generated).

python examples/greeting.py [--emulator]
"""

import asyncio

from common import Replies, show_turns, target

from voiceagent import VoiceAgentSession


async def greet(greeting: str) -> None:
    async with target() as where:
        session = VoiceAgentSession(
            where.endpoint,
            where.agent(),
            credential=where.credential,
            audio=where.audio,
            greeting=greeting,  # "llm": generated; any other text: spoken verbatim
        )
        show_turns(session)
        replies = Replies(session)
        async with session:
            await replies.wait(1)  # the greeting is the first reply


async def main() -> None:
    await greet("llm")
    await greet("Welcome to Contoso! How can I help?")


if __name__ == "__main__":
    asyncio.run(main())
