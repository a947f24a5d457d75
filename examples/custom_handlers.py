"""Custom handlers: live captions as the words arrive, and a barge-in counter.

    python examples/custom_handlers.py [--emulator]

Server events (``response.audio_transcript.delta``) carry the SDK's typed objects; the
library's own (``voiceagent.*``) carry the dataclasses exported by ``voiceagent``.
"""

import asyncio
from typing import Any

from common import Replies, target

from voiceagent import BargeIn, TurnLogged, VoiceAgentSession
from voiceagent.emulator import AgentScript

SCRIPT = AgentScript(rules=[("news", "Here is the news. " * 8), ("enough", "All right.")])


async def main() -> None:
    async with target(SCRIPT) as where:
        session = VoiceAgentSession(
            where.endpoint, where.agent(), credential=where.credential, audio=where.audio
        )
        barge_ins = 0
        talking = asyncio.Event()

        @session.on("response.audio_transcript.delta")
        def caption(event: Any) -> None:  # words of the agent, before they are spoken
            talking.set()
            print(event.delta, end="", flush=True)

        @session.on("voiceagent.barge_in")
        def count(event: BargeIn) -> None:
            nonlocal barge_ins
            barge_ins += 1
            print(f"\n[barge-in #{barge_ins}: heard {event.heard_text!r}]")

        @session.on("voiceagent.turn")
        def final(turn: TurnLogged) -> None:  # what was heard, once the turn is over
            print(
                f"\n{turn.role}: {turn.text.strip()}{' [interrupted]' if turn.interrupted else ''}"
            )

        replies = Replies(session)
        async with session:
            where.say("What is the news?")
            await talking.wait()
            if where.audio is not None:  # offline: interrupt once 1.5 s of news has been heard
                await where.audio.wait_heard(1500)
            where.say("Enough, thanks")
            await replies.wait(2)
        print(f"barge-ins: {barge_ins}")


if __name__ == "__main__":
    asyncio.run(main())
