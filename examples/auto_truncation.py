"""Auto truncation: the service cuts the interrupted reply from the history by itself.

    python examples/auto_truncation.py [--emulator]

Without it, the library does the same from the audio the speaker really played (the default).
Either way the log keeps only what the user heard.
"""

import asyncio

from common import Replies, show_turns, target

from voiceagent import BargeIn, SessionOptions, TurnDetection, VoiceAgentSession
from voiceagent.emulator import AgentScript

STORY = "Once upon a time " + "there was a voice agent that talked and talked. " * 6
SCRIPT = AgentScript(rules=[("story", STORY), ("stop", "Sure, I will stop.")])


async def main() -> None:
    async with target(SCRIPT) as where:
        session = VoiceAgentSession(
            where.endpoint,
            where.agent(),
            credential=where.credential,
            audio=where.audio,
            options=SessionOptions(turn_detection=TurnDetection(auto_truncate=True)),
        )
        show_turns(session)
        replies = Replies(session)
        speaking = asyncio.Event()
        session.on("response.audio.delta", lambda event: speaking.set())

        @session.on("voiceagent.barge_in")
        def cut(event: BargeIn) -> None:
            print(f"(interrupted after {event.played_ms} of {event.received_ms} ms received)")

        async with session:
            where.say("Tell me a long story")
            await speaking.wait()  # the agent is talking...
            if where.audio is not None:  # offline: let the user hear 2 s of the story first
                await where.audio.wait_heard(2000)
            where.say("Stop, please")  # ...and the user talks over it
            await replies.wait(2)


if __name__ == "__main__":
    asyncio.run(main())
