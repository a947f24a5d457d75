"""function_tool / session.tool: typed functions become tool definitions; misuse fails early."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

import pytest
from azure.core.credentials import AzureKeyCredential
from pydantic import BaseModel, Field

from voiceagent import (
    AgentConfig,
    ConfigError,
    FunctionTool,
    SessionError,
    SessionOptions,
    Tool,
    VoiceAgentSession,
    function_tool,
)
from voiceagent.audio.memory import MemoryAudio
from voiceagent.testing import EmulatorCredential
from voiceagent.tools import ToolArgumentsError
from voiceagent.tools.function import encode_output

pytestmark = pytest.mark.usefixtures("clean_env")


class Place(BaseModel):
    city: str
    country: str = "FR"


@function_tool
async def get_weather(
    city: str,
    unit: Literal["C", "F"] = "C",
    days: Annotated[int, Field(ge=1, le=7)] = 1,
    place: Place | None = None,
) -> dict[str, Any]:
    """The current weather in a city.

    Args:
        city: The city, e.g. "Paris".
            Any spelling.
        unit: Celsius or Fahrenheit.
    """
    return {"city": city, "unit": unit}


def model_session(**kwargs: Any) -> VoiceAgentSession:
    return VoiceAgentSession(
        "http://127.0.0.1:1",
        model="gpt-realtime",
        credential=AzureKeyCredential("k"),
        audio=MemoryAudio(),
        **kwargs,
    )


def test_definition_from_hints_and_docstring() -> None:
    assert isinstance(get_weather, Tool) and get_weather.is_async
    d = get_weather.definition
    assert d.name == "get_weather" and d.description == "The current weather in a city."
    schema = d.parameters or {}
    assert schema["type"] == "object" and schema["required"] == ["city"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    city = {"type": "string", "description": 'The city, e.g. "Paris". Any spelling.'}
    assert props["city"] == city
    assert props["unit"]["enum"] == ["C", "F"] and props["unit"]["default"] == "C"
    assert props["days"]["minimum"] == 1 and props["days"]["maximum"] == 7
    assert "title" not in json.dumps(schema)  # pydantic's titles are noise for the model
    assert "$defs" in schema and "Place" in schema["$defs"]


def test_arguments_are_validated_and_converted() -> None:
    args = get_weather.parse('{"city":"Zürich","days":3,"place":{"city":"Bern"}}')
    assert args["city"] == "Zürich" and args["days"] == 3 and args["unit"] == "C"
    assert args["place"] == Place(city="Bern")
    with pytest.raises(ToolArgumentsError) as bad:
        get_weather.parse('{"city": 5, "days": 9, "extra": 1}')
    message = str(bad.value)
    assert "city" in message and "days" in message and "extra" in message
    with pytest.raises(ToolArgumentsError):
        get_weather.parse("not json")


def test_the_tool_stays_callable() -> None:
    assert asyncio.run(get_weather("Paris")) == {"city": "Paris", "unit": "C"}


def test_options_name_description_timeout() -> None:
    @function_tool(name="lookup-2", description="Find it.", timeout=None)
    def find(query: str) -> str:
        return query

    assert find.name == "lookup-2" and find.definition.description == "Find it."
    assert find.timeout is None and not find.is_async


def test_bad_functions_fail_at_decoration() -> None:
    with pytest.raises(ConfigError, match="needs a type hint"):

        @function_tool
        def no_hint(city):  # type: ignore[no-untyped-def]
            return city

    with pytest.raises(ConfigError, match="named parameter"):

        @function_tool
        def varargs(*cities: str) -> str:
            return ""

    with pytest.raises(ConfigError, match="not a valid tool name"):
        function_tool(name="bad name")(lambda: None)
    with pytest.raises(ConfigError, match="timeout"):
        function_tool(timeout=0)(get_weather.fn)


def test_outputs_are_text_or_json() -> None:
    assert encode_output("sunny") == "sunny"
    assert encode_output({"t": 20, "city": "Zürich"}) == '{"t": 20, "city": "Zürich"}'
    assert encode_output(Place(city="Bern")) == '{"city": "Bern", "country": "FR"}'
    with pytest.raises(TypeError):
        encode_output(object())


def test_shared_tools_go_in_each_sessions_options() -> None:
    first, second = model_session(tools=[get_weather]), model_session(tools=[get_weather])
    for session in (first, second):
        assert [t.name for t in session.options.tools] == ["get_weather"]

    @second.tool
    def local_time(city: str) -> str:
        """The time in a city."""
        return "noon"

    assert [t.name for t in second.options.tools] == ["get_weather", "local_time"]
    assert [t.name for t in first.options.tools] == ["get_weather"]
    assert local_time("x") == "noon"


def test_tools_keep_the_apps_own_function_tools() -> None:
    own = FunctionTool(name="manual", parameters={"type": "object", "properties": {}})
    session = model_session(options=SessionOptions(tools=(own,)), tools=[get_weather])
    assert [t.name for t in session.options.tools] == ["manual", "get_weather"]
    with pytest.raises(ConfigError, match="already a tool named 'manual'"):
        session.tool(name="manual")(get_weather.fn)


def test_agent_mode_refuses_client_tools() -> None:
    agent = AgentConfig(agent_name="concierge", project_name="contoso")
    session = VoiceAgentSession(
        "http://127.0.0.1:1", agent, credential=EmulatorCredential(), audio=MemoryAudio()
    )
    with pytest.raises(ConfigError, match="agent's tools run in Foundry"):
        session.tool(get_weather)
    with pytest.raises(ConfigError, match="agent's tools run in Foundry"):
        VoiceAgentSession(
            "http://127.0.0.1:1",
            agent,
            credential=EmulatorCredential(),
            audio=MemoryAudio(),
            tools=[get_weather],
        )


async def test_tools_cannot_be_added_once_started(voicelive_emulator: Any) -> None:
    session = VoiceAgentSession(
        voicelive_emulator.endpoint,
        model="gpt-realtime",
        credential=AzureKeyCredential("k"),
        audio=MemoryAudio(speed=4.0),
    )
    async with session:
        with pytest.raises(SessionError, match="before start"):
            session.tool(get_weather)
