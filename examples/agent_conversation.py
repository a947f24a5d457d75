"""Talk to your Foundry agent on the default microphone and speaker.

Set the Azure samples' variables (VOICELIVE_ENDPOINT, AGENT_NAME, PROJECT_NAME; optionally
AGENT_VERSION, CONVERSATION_ID, FOUNDRY_RESOURCE_OVERRIDE, VOICE_NAME), sign in with
`az login` (the agent is reached with Microsoft Entra ID), then: python agent_conversation.py
"""

import asyncio
import logging

from voiceagent import AgentConfig, BargeIn, SessionOptions, TurnLogged, VoiceAgentSession


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    session = VoiceAgentSession(
        agent=AgentConfig.from_env(),
        options=SessionOptions.from_env(instructions="Keep answers short: this is a voice call."),
        greeting="llm",
        log_path="conversation.jsonl",
    )

    @session.on("voiceagent.turn")
    def show(turn: TurnLogged) -> None:
        print(f"{turn.role:>9}: {turn.text}{' [interrupted]' if turn.interrupted else ''}")

    @session.on("voiceagent.barge_in")
    def interrupted(event: BargeIn) -> None:
        print(f"(you interrupted after {event.played_ms} ms: heard {event.heard_text!r})")

    await session.run()  # until Ctrl+C
    print("resume this conversation with CONVERSATION_ID =", session.conversation_id)


if __name__ == "__main__":
    asyncio.run(main())
