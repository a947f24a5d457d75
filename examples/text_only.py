"""A text-only session: typed messages in, text out; no audio devices at all.

python examples/text_only.py [--emulator]
"""

import asyncio

from common import Replies, show_turns, target

from voiceagent import NullAudio, SessionOptions, VoiceAgentSession


async def main() -> None:
    async with target() as where:
        session = VoiceAgentSession(
            where.endpoint,
            where.agent(),
            credential=where.credential,
            audio=NullAudio(),  # no microphone, no speaker
            options=SessionOptions(modalities=("text",)),  # the agent answers in text only
        )
        show_turns(session)
        replies = Replies(session)
        async with session:
            for question in ("What can you do?", "Thank you"):
                await session.send_text(question)
                await replies.next()


if __name__ == "__main__":
    asyncio.run(main())
