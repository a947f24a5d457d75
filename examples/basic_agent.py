"""Basic agent conversation: talk to a Foundry agent until it has answered one question.

python examples/basic_agent.py [--emulator]
"""

import asyncio

from common import Replies, show_turns, target

from voiceagent import VoiceAgentSession
from voiceagent.emulator import AgentScript

SCRIPT = AgentScript(rules=[("weather", "It is sunny in Paris.")])  # offline only


async def main() -> None:
    async with target(SCRIPT) as where:
        session = VoiceAgentSession(
            where.endpoint,  # None: VOICELIVE_ENDPOINT
            where.agent(),  # AgentConfig(agent_name=..., project_name=...)
            credential=where.credential,  # None: DefaultAzureCredential (agents need Entra ID)
            audio=where.audio,  # None: default microphone and speaker
        )
        show_turns(session)
        replies = Replies(session)  # before start: count every reply
        async with session:
            where.say("What is the weather like in Paris?")
            await replies.wait(1)  # stop once the agent has answered
        print("conversation:", session.conversation_id)


if __name__ == "__main__":
    asyncio.run(main())
