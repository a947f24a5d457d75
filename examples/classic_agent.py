"""Classic agent-id mode: an Assistants-style agent addressed by id (deprecated by Azure).

AGENT_ID=asst_... PROJECT_NAME=... python examples/classic_agent.py [--emulator]
"""

import asyncio
import os

from common import EMULATED, Replies, show_turns, target

from voiceagent import ClassicAgentConfig, VoiceAgentSession


async def main() -> None:
    async with target() as where:
        agent = ClassicAgentConfig(
            agent_id="asst_demo" if EMULATED else os.environ["AGENT_ID"],
            project_name="demo" if EMULATED else os.environ["PROJECT_NAME"],
        )  # hub-based projects: connection_string=... instead of project_name
        session = VoiceAgentSession(
            where.endpoint, agent, credential=where.credential, audio=where.audio
        )
        show_turns(session)
        replies = Replies(session)
        async with session:
            where.say("Hello, classic agent")
            await replies.wait(1)


if __name__ == "__main__":
    asyncio.run(main())
