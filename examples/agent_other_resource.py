"""An agent on another Foundry resource: Voice Live calls it with a managed identity.

Set FOUNDRY_RESOURCE_OVERRIDE (the resource hosting the project) and, when Voice Live must
use a user-assigned identity, AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID:

    python examples/agent_other_resource.py [--emulator]
"""

import asyncio
import os

from common import Replies, show_turns, target

from voiceagent import VoiceAgentSession


async def main() -> None:
    async with target() as where:
        agent = where.agent().with_resource_override(
            os.environ.get("FOUNDRY_RESOURCE_OVERRIDE", "contoso-foundry"),
            identity_client_id=os.environ.get("AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID"),
        )
        print("agent parameters sent:", agent.to_connect_kwargs())
        session = VoiceAgentSession(
            where.endpoint, agent, credential=where.credential, audio=where.audio
        )
        show_turns(session)
        replies = Replies(session)
        async with session:
            where.say("Hello from the other resource")
            await replies.wait(1)


if __name__ == "__main__":
    asyncio.run(main())
