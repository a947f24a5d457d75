"""What a response says: compact function arguments, tool_choice, and the bare-create greeting."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.ai.voicelive.models import (
    FunctionTool,
    InputTextContentPart,
    RequestSession,
    ResponseCreateParams,
    SystemMessageItem,
    ToolChoiceFunctionSelection,
    UserMessageItem,
)

from voiceagent.emulator import AgentScript, Emulator, FunctionCall, Reply, ScriptContext

from .helpers import model_connection, recv_until, types_of

TOOLS = [
    FunctionTool(name="get_weather", description="Weather", parameters={"type": "object"}),
    FunctionTool(name="get_time", description="Time", parameters={"type": "object"}),
]


async def _turn(conn: Any, text: str, **create: Any) -> list[Any]:
    await conn.conversation.item.create(
        item=UserMessageItem(content=[InputTextContentPart(text=text)])
    )
    await recv_until(conn, "conversation.item.created")
    await conn.response.create(**create)
    return await recv_until(conn, "response.done")


def _calls(events: list[Any]) -> list[tuple[str, str]]:
    return [
        (e.name, e.arguments) for e in events if e.type == "response.function_call_arguments.done"
    ]


def _said(events: list[Any]) -> str:
    done = [e for e in events if e.type == "response.audio_transcript.done"]
    return str(done[0].transcript) if done else ""


async def test_function_arguments_are_compact_json_with_non_ascii_kept() -> None:
    args = {"city": "Zürich", "units": ["°C", "km/h"], "note": "東京"}
    script = AgentScript(
        rules=[("weather", Reply(function_call=FunctionCall("get_weather", args)))]
    )
    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        events = await _turn(conn, "weather please")
        deltas = "".join(
            e.delta for e in events if e.type == "response.function_call_arguments.delta"
        )
        expected = '{"city":"Zürich","units":["°C","km/h"],"note":"東京"}'
        assert _calls(events) == [("get_weather", expected)]
        assert deltas == expected
        assert json.loads(expected) == args
        item = next(e for e in events if e.type == "response.output_item.done").item
        assert item["arguments"] == expected


async def test_named_tool_choice_calls_that_function_without_a_scripted_call() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(
            session=RequestSession(
                tools=TOOLS, tool_choice=ToolChoiceFunctionSelection(name="get_time")
            )
        )
        updated = (await recv_until(conn, "session.updated"))[-1]
        assert updated.session["tool_choice"] == {"type": "function", "name": "get_time"}
        events = await _turn(conn, "hello")
        assert _calls(events) == [("get_time", "{}")]
        assert "response.audio.delta" not in types_of(events)


async def test_named_tool_choice_keeps_a_scripted_call_to_that_function() -> None:
    call = FunctionCall("get_weather", {"city": "Oslo"})
    script = AgentScript(default=Reply(function_call=call))
    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        choice = ToolChoiceFunctionSelection(name="get_weather")
        events = await _turn(
            conn, "hi", response=ResponseCreateParams(tools=TOOLS, tool_choice=choice)
        )
        assert _calls(events) == [("get_weather", '{"city":"Oslo"}')]


async def test_required_tool_choice_calls_the_first_tool() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(session=RequestSession(tools=TOOLS, tool_choice="required"))
        await recv_until(conn, "session.updated")
        assert _calls(await _turn(conn, "hello")) == [("get_weather", "{}")]


@pytest.mark.parametrize("where", ["session", "response"])
async def test_none_tool_choice_never_calls(where: str) -> None:
    script = AgentScript(default=Reply("Checking.", FunctionCall("get_weather", {"city": "Oslo"})))
    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        create: dict[str, Any] = {}
        if where == "session":
            await conn.session.update(session=RequestSession(tools=TOOLS, tool_choice="none"))
            await recv_until(conn, "session.updated")
        else:
            create["response"] = ResponseCreateParams(tool_choice="none")
        events = await _turn(conn, "weather?", **create)
        assert _calls(events) == []
        assert "function_call" not in json.dumps([e.as_dict() for e in events])
        assert _said(events) == "Checking."
        # auto (the default) calls as scripted
        events = await _turn(conn, "weather?", response=ResponseCreateParams(tool_choice="auto"))
        assert _calls(events) == [("get_weather", '{"city":"Oslo"}')]


async def test_bare_response_create_on_empty_conversation_is_a_greeting() -> None:
    seen: list[str] = []

    def kinds(text: str, ctx: ScriptContext) -> str:
        seen.append(ctx.kind)
        return f"[{ctx.kind}]"

    script = AgentScript(greeting="Welcome to Contoso!", default=kinds)
    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.response.create()
        assert _said(await recv_until(conn, "response.done")) == "Welcome to Contoso!"
        # Once something was said, a bare response.create is no greeting any more.
        await conn.response.create()
        assert _said(await recv_until(conn, "response.done")) == "[none]"
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        # A system message without a greeting request still leaves the conversation empty.
        await conn.conversation.item.create(
            item=SystemMessageItem(content=[InputTextContentPart(text="Be brief.")])
        )
        await recv_until(conn, "conversation.item.created")
        await conn.response.create()
        said = _said(await recv_until(conn, "response.done"))
        assert said == "Hello! How can I help you today?"


async def test_response_create_with_instructions_is_not_a_bare_greeting() -> None:
    script = AgentScript(greeting="Welcome!", default="Not a greeting.")
    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.response.create(response=ResponseCreateParams(instructions="Say bye."))
        assert _said(await recv_until(conn, "response.done")) == "Not a greeting."
