"""Model mode: a realtime model (no agent) with an API key and your own instructions.

VOICELIVE_ENDPOINT=... AZURE_VOICELIVE_API_KEY=... python examples/model_with_key.py
python examples/model_with_key.py --emulator
"""

import asyncio
import os

from azure.core.credentials import AzureKeyCredential
from common import EMULATED, Replies, show_turns, target

from voiceagent import SessionOptions, VoiceAgentSession

OPTIONS = SessionOptions(
    instructions="You are a concise assistant for a bike shop. Answer in one sentence.",
    voice="alloy",  # an OpenAI voice; Azure voices too: "en-US-Ava:DragonHDLatestNeural"
)


async def main() -> None:
    async with target() as where:
        key = "emulator" if EMULATED else os.environ["AZURE_VOICELIVE_API_KEY"]
        session = VoiceAgentSession(
            where.endpoint,
            model="gpt-realtime",  # model mode: no AgentConfig
            credential=AzureKeyCredential(key),  # keys work in model mode only
            options=OPTIONS,
            audio=where.audio,
        )
        show_turns(session)
        replies = Replies(session)
        async with session:
            where.say("Do you repair tyres?")
            await replies.wait(1)


if __name__ == "__main__":
    asyncio.run(main())
