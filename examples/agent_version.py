"""Pin an agent version: talk to version "2" of the agent, not the latest.

AGENT_VERSION=2 python examples/agent_version.py    # or, offline: --emulator
"""

import asyncio

from common import Replies, show_turns, target

from voiceagent import VoiceAgentSession


async def main() -> None:
    async with target() as where:
        agent = where.agent().with_version("2")  # a new AgentConfig; the original is unchanged
        session = VoiceAgentSession(
            where.endpoint, agent, credential=where.credential, audio=where.audio
        )
        show_turns(session)
        replies = Replies(session)
        async with session:
            print("talking to:", session.agent)  # the service reports the agent it resolved
            where.say("Which version are you?")
            await replies.wait(1)


if __name__ == "__main__":
    asyncio.run(main())
