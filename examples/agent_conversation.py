"""Talk to your Foundry agent on the default microphone and speaker until Ctrl+C.

Set the Azure samples' variables (VOICELIVE_ENDPOINT, AGENT_NAME, PROJECT_NAME; optionally
AGENT_VERSION, CONVERSATION_ID, FOUNDRY_RESOURCE_OVERRIDE, VOICE_NAME), sign in with
`az login` (agents are reached with Microsoft Entra ID), then:

    python examples/agent_conversation.py
    python examples/agent_conversation.py --emulator   # offline: one scripted exchange
"""

import asyncio

from common import EMULATED, Replies, target

from voiceagent import BargeIn, SessionOptions, TurnLogged, VoiceAgentSession


async def main() -> None:
    async with target() as where:
        session = VoiceAgentSession(
            where.endpoint,
            where.agent(),  # AgentConfig.from_env(): AGENT_NAME, PROJECT_NAME, ...
            credential=where.credential,
            audio=where.audio,
            options=SessionOptions.from_env(),  # voice from VOICE_NAME, if set
            greeting="llm",  # the agent speaks first
            log_path="out/conversation.jsonl",  # JSON Lines, what the user heard
        )

        @session.on("voiceagent.turn")
        def show(turn: TurnLogged) -> None:
            print(
                f"{turn.role:>9}: {turn.text.strip()}{' [interrupted]' if turn.interrupted else ''}"
            )

        @session.on("voiceagent.barge_in")
        def interrupted(event: BargeIn) -> None:
            print(f"(you interrupted after {event.played_ms} ms: heard {event.heard_text!r})")

        if not EMULATED:
            await session.run()  # until Ctrl+C; a reply cut by Ctrl+C is logged as interrupted
        else:
            replies = Replies(session)
            async with session:
                await replies.wait(1)  # the greeting
                where.say("What can you do?")
                await replies.wait(2)
        print("resume this conversation with CONVERSATION_ID =", session.conversation_id)


if __name__ == "__main__":
    asyncio.run(main())
