"""The tool runner through the real SDK and the emulator in its realistic timing profile."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from session_helpers import user_speech
from voiceagent import (
    SessionOptions,
    StaticInterimResponse,
    ToolCallFinished,
    TurnLogged,
)
from voiceagent.emulator import AgentScript, FunctionCall, Reply

from .helpers import (
    busy_errors,
    client_events,
    function_outputs,
    future_of,
    model_session,
    realistic_emulator,
    send_calls,
)

pytestmark = pytest.mark.usefixtures("clean_env")

WEATHER = Reply(function_call=FunctionCall("get_weather", {"city": "Paris"}))


def found(e: Any) -> bool:
    return isinstance(e, TurnLogged) and e.role == "assistant" and "found" in e.text


async def test_the_naive_pattern_is_refused_under_realistic_latency() -> None:
    """The set-up the other tests rely on: answering at arguments.done is refused."""
    async with realistic_emulator(script=AgentScript(rules=[("weather", WEATHER)])) as emu:
        session, _ = model_session(emu)

        @session.on("response.function_call_arguments.done")
        async def answer(event: Any) -> None:
            await session.send_function_result(event.call_id, "sunny", respond=False)
            await session.create_response()

        refused = future_of(session, "error")
        async with session:
            server = await emu.wait_for_session()
            await session.send_text("what is the weather in Paris")
            error = await asyncio.wait_for(refused, 10)
        assert error.error.code == "conversation_already_has_active_response"
        assert busy_errors(server)


async def test_follow_up_only_after_response_done() -> None:
    async with realistic_emulator(script=AgentScript(rules=[("weather", WEATHER)])) as emu:
        session, _ = model_session(emu)
        seen: list[dict[str, Any]] = []

        @session.tool
        def get_weather(city: str) -> dict[str, Any]:
            """The weather in a city."""
            seen.append({"city": city})
            return {"city": city, "sky": "sunny"}

        reply = future_of(session, "voiceagent.turn", found)
        async with session:
            server = await emu.wait_for_session()
            await session.send_text("what is the weather in Paris")
            turn = await asyncio.wait_for(reply, 15)
        assert seen == [{"city": "Paris"}]
        assert turn.text == 'Here is what I found: {"city": "Paris", "sky": "sunny"}'
        assert busy_errors(server) == []
        update = client_events(server, "session.update")[0]["session"]
        assert [t["name"] for t in update["tools"]] == ["get_weather"]
        assert update["tools"][0]["parameters"]["required"] == ["city"]
        kinds = [
            e["type"] if e["type"] != "conversation.item.create" else e["item"]["type"]
            for e in server.received
            if e["type"] in ("conversation.item.create", "response.create")
        ]
        # typed message, its response, then the output and exactly one follow-up
        assert kinds == ["message", "response.create", "function_call_output", "response.create"]
        assert [r.status for r in server.responses] == ["completed", "completed"]


async def test_slow_tool_with_an_interim_response_blocks_nothing() -> None:
    """A sync tool blocks its thread until the interim reply is heard: if the runner blocked
    the dispatcher, the interim caption could never arrive and the tool would time out. The
    tool then finishes while the interim reply still streams: the follow-up must wait."""
    options = SessionOptions(
        interim_response=StaticInterimResponse(texts=("One moment.",), triggers=("tool",))
    )
    async with realistic_emulator(script=AgentScript(rules=[("weather", WEATHER)])) as emu:
        session, _ = model_session(emu, options=options)
        release = threading.Event()

        @session.tool(timeout=10)
        def get_weather(city: str) -> str:
            """The weather in a city."""
            assert release.wait(10), "the interim reply never reached the handlers"
            return "sunny"

        @session.on("response.audio_transcript.delta")
        def caption(event: Any) -> None:
            release.set()  # the user hears the interim reply: the tool may finish now

        calls = future_of(session, "voiceagent.tool_call")
        reply = future_of(session, "voiceagent.turn", found)
        async with session:
            server = await emu.wait_for_session()
            await session.send_text("what is the weather in Paris")
            call = await asyncio.wait_for(calls, 15)
            interim_running = server.active_response is not None
            await asyncio.wait_for(reply, 15)
        assert call.outcome == "ok"
        assert interim_running  # the tool finished while the interim reply was streaming
        assert busy_errors(server) == []
        texts = [t.text for t in session.log.turns if t.role == "assistant"]
        assert texts == ["One moment.", "Here is what I found: sunny"]
        update = client_events(server, "session.update")[0]["session"]
        assert update["interim_response"]["triggers"] == ["tool"]
        assert len(client_events(server, "response.create")) == 2  # the text's, the follow-up


async def test_failing_and_timed_out_tools_give_the_model_an_error() -> None:
    script = AgentScript(
        rules=[
            ("fail", Reply(function_call=FunctionCall("lookup", {"what": "fail"}))),
            ("slow", Reply(function_call=FunctionCall("wait_forever", {}))),
        ]
    )
    async with realistic_emulator(script=script) as emu:
        session, _ = model_session(emu)

        @session.tool
        async def lookup(what: str) -> str:
            """Look something up."""
            raise LookupError(f"nothing about {what}")

        @session.tool(timeout=0.3)
        async def wait_forever() -> str:
            """Never answers."""
            await asyncio.Event().wait()
            return "never"

        outcomes: list[ToolCallFinished] = []
        session.on("voiceagent.tool_call", outcomes.append)
        async with session:
            server = await emu.wait_for_session()
            for text in ("please fail", "be slow"):
                reply = future_of(session, "voiceagent.turn", found)
                await session.send_text(text)
                await asyncio.wait_for(reply, 15)
        assert [(o.name, o.outcome) for o in outcomes] == [
            ("lookup", "error"),
            ("wait_forever", "timeout"),
        ]
        errors = [json.loads(o["output"])["error"] for o in function_outputs(server)]
        assert errors == [
            "the tool lookup failed: LookupError: nothing about fail",
            "the tool wait_forever did not finish within 0.3 s",
        ]
        spoken = [t.text for t in session.log.turns if t.role == "assistant"]
        assert "nothing about fail" in spoken[0] and "within 0.3 s" in spoken[1]
        assert busy_errors(server) == []


async def test_barge_in_cancels_a_running_tool() -> None:
    async with realistic_emulator(script=AgentScript(rules=[("weather", WEATHER)])) as emu:
        emu.script.user_says("never mind")
        session, audio = model_session(emu)
        started = asyncio.Event()
        cancelled = asyncio.Event()

        @session.tool
        async def get_weather(city: str) -> str:
            """The weather in a city."""
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return "sunny"

        call = future_of(session, "voiceagent.tool_call")
        answered = future_of(session, "voiceagent.turn", lambda e: e.role == "assistant")
        async with session:
            server = await emu.wait_for_session()
            await session.send_text("what is the weather in Paris")
            await asyncio.wait_for(started.wait(), 10)
            audio.feed(user_speech("never mind"))  # the user talks while the tool runs
            finished = await asyncio.wait_for(call, 10)
            await asyncio.wait_for(answered, 15)  # the user's new turn is answered
        assert cancelled.is_set()
        assert finished.outcome == "cancelled" and "user started speaking" in (finished.error or "")
        (output,) = function_outputs(server)
        assert "cancelled" in json.loads(output["output"])["error"]
        # the only response.create is the typed message's: no follow-up for a cancelled call
        assert len(client_events(server, "response.create")) == 1
        assert busy_errors(server) == []


async def test_two_calls_in_one_response_run_at_once_then_one_follow_up() -> None:
    async with realistic_emulator() as emu:
        session, _ = model_session(emu)
        started = {"a": asyncio.Event(), "b": asyncio.Event()}

        async def meet(me: str, other: str) -> str:
            started[me].set()
            await started[other].wait()  # only returns if both run at the same time
            return f"{me} done"

        @session.tool(timeout=5)
        async def tool_a() -> str:
            """A."""
            return await meet("a", "b")

        @session.tool(timeout=5)
        async def tool_b() -> str:
            """B."""
            return await meet("b", "a")

        reply = future_of(session, "voiceagent.turn", found)
        async with session:
            server = await emu.wait_for_session()
            await send_calls(server, [("call_a", "tool_a", "{}"), ("call_b", "tool_b", "{}")])
            turn = await asyncio.wait_for(reply, 15)
        assert turn.text == "Here is what I found: a done; b done"
        creates = [
            e["item"]["call_id"] if e["type"] == "conversation.item.create" else "create"
            for e in server.received
            if e["type"] in ("conversation.item.create", "response.create")
        ]
        assert creates == ["call_a", "call_b", "create"]
        assert busy_errors(server) == []


async def test_a_dropped_connection_cancels_its_calls() -> None:
    async with realistic_emulator(script=AgentScript(rules=[("weather", WEATHER)])) as emu:
        session, _ = model_session(emu)
        started = asyncio.Event()

        @session.tool
        async def get_weather(city: str) -> str:
            """The weather in a city."""
            started.set()
            await asyncio.Event().wait()
            return "sunny"

        call = future_of(session, "voiceagent.tool_call")
        back = future_of(session, "voiceagent.session_ready", lambda e: e.reconnected)
        async with session:
            first = await emu.wait_for_session()
            await session.send_text("what is the weather in Paris")
            await asyncio.wait_for(started.wait(), 10)
            await first.drop(1011)
            finished = await asyncio.wait_for(call, 10)
            await asyncio.wait_for(back, 10)
            second = await emu.wait_for_session()
            await session.send_text("hello again")  # the new connection works
            await second.wait_for_server_event("response.done", timeout=10)
        assert finished.outcome == "cancelled" and "connection was lost" in (finished.error or "")
        assert function_outputs(first) == [] and function_outputs(second) == []
        assert len(client_events(second, "response.create")) == 1  # only "hello again"'s
