"""Resume a conversation: a second session continues the first one's history.

    python examples/resume_conversation.py [--emulator]

In your app, keep ``session.conversation_id`` and pass it back with ``AgentConfig.resume``
(or set CONVERSATION_ID; ``voiceagent run`` prints the command that does it).
"""

import asyncio

from common import Replies, Target, show_turns, target

from voiceagent import AgentConfig, VoiceAgentSession
from voiceagent.emulator import AgentScript

SCRIPT = AgentScript(rules=[("name is", "Nice to meet you."), ("my name", "You are Ada.")])


async def talk(where: Target, agent: AgentConfig, line: str) -> str | None:
    audio = where.fresh_audio()  # offline: a new virtual device per session
    session = VoiceAgentSession(where.endpoint, agent, credential=where.credential, audio=audio)
    show_turns(session)
    replies = Replies(session)
    async with session:
        where.say(line)
        await replies.wait(1)
    return session.conversation_id


async def main() -> None:
    async with target(SCRIPT) as where:
        agent = where.agent()
        conversation = await talk(where, agent, "My name is Ada")
        print("first session, conversation:", conversation)
        assert conversation is not None
        again = await talk(where, agent.resume(conversation), "What is my name?")
        print("second session, conversation:", again)


if __name__ == "__main__":
    asyncio.run(main())
