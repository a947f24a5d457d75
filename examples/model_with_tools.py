"""Model mode with a function tool: the model asks for it, the library runs it, the model speaks.

    python examples/model_with_tools.py [--emulator]

``@session.tool`` turns a typed function into a Voice Live function tool (its name, the
docstring as description, a JSON schema from the type hints). When the model calls it, the
library validates the arguments, runs the function without holding up the voice, sends the
result, and asks for the follow-up response only once the service allows it (after the
response that carried the call is done: earlier, the service refuses it).
"""

import asyncio
import json
import os

from azure.core.credentials import AzureKeyCredential
from common import EMULATED, show_turns, target

from voiceagent import SessionOptions, VoiceAgentSession
from voiceagent.emulator import AgentScript, FunctionCall, Reply, ScriptContext


def emulated_model(user_text: str, context: ScriptContext) -> Reply:
    """Offline, plays the model: asks for the tool, then answers from its output."""
    if context.kind == "function_output":
        result = json.loads(context.function_outputs[-1]["output"])
        return Reply(text=f"It is {result['sky']} in {result['city']}.")
    return Reply(function_call=FunctionCall(name="get_weather", arguments='{"city": "Paris"}'))


async def main() -> None:
    async with target(AgentScript(default=emulated_model)) as where:
        key = "emulator" if EMULATED else os.environ["AZURE_VOICELIVE_API_KEY"]
        session = VoiceAgentSession(
            where.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(key),
            options=SessionOptions(voice="alloy"),
            audio=where.audio,
        )

        @session.tool
        async def get_weather(city: str) -> dict[str, str]:
            """Current weather for a city."""
            return {"city": city, "sky": "sunny"}  # a real app would call a weather service

        show_turns(session)
        async with session:
            await session.send_text("What's the weather in Paris?")
            await session.wait_for_reply(timeout=120)  # the answer after the tool's result


if __name__ == "__main__":
    asyncio.run(main())
