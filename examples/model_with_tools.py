"""Model mode with a function tool: the model asks for it, the app answers, the model speaks.

    python examples/model_with_tools.py [--emulator]

The function call arrives as ``response.function_call_arguments.done`` (``event.name``,
``event.call_id``, ``event.arguments`` as JSON); send the result with
``session.send_function_result``.
"""

import asyncio
import json
import os
from typing import Any

from azure.core.credentials import AzureKeyCredential
from common import EMULATED, Replies, show_turns, target

from voiceagent import FunctionTool, SessionOptions, VoiceAgentSession
from voiceagent.emulator import AgentScript, FunctionCall, Reply, ScriptContext

WEATHER = FunctionTool(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


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
            options=SessionOptions(tools=(WEATHER,), voice="alloy"),
            audio=where.audio,
        )

        @session.on("response.function_call_arguments.done")
        async def call_tool(event: Any) -> None:
            args = json.loads(event.arguments)
            result = json.dumps({"city": args["city"], "sky": "sunny"})
            await session.send_function_result(event.call_id, result)

        show_turns(session)
        replies = Replies(session)
        async with session:
            await session.send_text("What's the weather in Paris?")
            await replies.wait(1)


if __name__ == "__main__":
    asyncio.run(main())
