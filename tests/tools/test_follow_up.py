"""The follow-up response through the session's public port, under realistic latency.

The app answers a call itself at ``arguments.done``, while the carrying response is still in
progress: ``send_function_result(respond=True)`` must hold the ``response.create`` back until
that response is done (sent at once, it is refused as busy: see the naive test in
``test_runner.py``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from voiceagent import TurnLogged
from voiceagent.emulator import AgentScript, FunctionCall, Reply

from .helpers import busy_errors, client_events, future_of, model_session, realistic_emulator

pytestmark = pytest.mark.usefixtures("clean_env")

WEATHER = Reply(function_call=FunctionCall("get_weather", {"city": "Paris"}))


def found(e: Any) -> bool:
    return isinstance(e, TurnLogged) and e.role == "assistant" and "found" in e.text


async def test_send_function_result_waits_for_the_response_to_end() -> None:
    async with realistic_emulator(script=AgentScript(rules=[("weather", WEATHER)])) as emu:
        session, _ = model_session(emu)
        in_progress: list[bool] = []

        @session.on("response.function_call_arguments.done")
        async def answer(event: Any) -> None:
            in_progress.append(session.response_in_progress)
            await session.send_function_result(event.call_id, '"sunny"', respond=True)

        reply = future_of(session, "voiceagent.turn", found)
        async with session:
            server = await emu.wait_for_session()
            await session.send_text("what is the weather in Paris")
            turn = await asyncio.wait_for(reply, 15)
    assert in_progress == [True]  # the carrying response was still running when answered
    assert turn.text == 'Here is what I found: "sunny"'
    assert busy_errors(server) == []
    creates = client_events(server, "response.create")
    assert len(creates) == 2  # the typed message's and exactly one follow-up


async def test_request_response_when_idle_sends_at_once() -> None:
    async with realistic_emulator(script=AgentScript()) as emu:
        session, _ = model_session(emu)
        reply = future_of(session, "voiceagent.turn", lambda e: e.role == "assistant")
        async with session:
            server = await emu.wait_for_session()
            assert not session.response_in_progress
            assert await asyncio.wait_for(session.request_response(), 15) is True
            turn = await asyncio.wait_for(reply, 15)
            assert not session.response_in_progress
    assert turn.text  # the response the request asked for was spoken and logged
    (create,) = client_events(server, "response.create")
    assert create["event_id"].startswith("evt_va")
