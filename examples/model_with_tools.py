"""Model mode with an API key and a function tool, against the local emulator.

Runs with no Azure account: the emulator scripts the model's function call. Point
`endpoint`/`credential` at your Voice Live resource to run the same code for real.
"""

import asyncio
import json
from typing import Any

from azure.core.credentials import AzureKeyCredential

from voiceagent import FunctionTool, MemoryAudio, SessionOptions, VoiceAgentSession
from voiceagent.emulator import AgentScript, Emulator, FunctionCall, Reply, ScriptContext

WEATHER = FunctionTool(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


def emulated_model(user_text: str, context: ScriptContext) -> Reply:
    """Plays the model: asks for the tool, then answers from its output."""
    if context.kind == "function_output":
        result = json.loads(context.function_outputs[-1]["output"])
        return Reply(text=f"It is {result['sky']} in {result['city']}.")
    return Reply(function_call=FunctionCall(name="get_weather", arguments='{"city": "Paris"}'))


async def main() -> None:
    async with Emulator(api_key="local-key", script=AgentScript(default=emulated_model)) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential("local-key"),
            options=SessionOptions(tools=(WEATHER,), voice="alloy"),
            audio=MemoryAudio(),
        )
        answered = asyncio.Event()

        @session.on("response.function_call_arguments.done")
        async def call_tool(event: Any) -> None:
            args = json.loads(event.arguments)
            result = json.dumps({"city": args["city"], "sky": "sunny"})
            await session.send_function_result(event.call_id, result)

        @session.on("voiceagent.turn")
        def show(turn: Any) -> None:
            print(f"{turn.role}: {turn.text}")
            if turn.role == "assistant":
                answered.set()

        async with session:
            await session.send_text("What's the weather in Paris?")
            await asyncio.wait_for(answered.wait(), 30)


if __name__ == "__main__":
    asyncio.run(main())
