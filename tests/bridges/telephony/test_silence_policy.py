"""A caller who says nothing is reprompted, then hung up on; speaking resets the clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from phone_server import phone_server

from session_helpers import TOKEN, user_speech
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve.silence import SilencePolicy
from voiceagent.testing.carriers import FakeTwilioCall

pytestmark = pytest.mark.usefixtures("clean_env")


def future_of(session: Any, event: str) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    session.once(event, lambda e: fut.done() or fut.set_result(e))
    return fut


async def test_a_silent_caller_is_reprompted_then_hung_up_on() -> None:
    policy = SilencePolicy(reprompt_after_s=0.3, reprompt="Still there?", hang_up_after_s=1.0)
    async with (
        Emulator(token=TOKEN, realtime=False) as emu,
        phone_server(emu, "twilio", silence=policy) as server,
        FakeTwilioCall(server.url) as call,
    ):
        session, _ = await asyncio.wait_for(server.calls.get(), 10)
        await call.wait_played(300, timeout=10)  # the reprompt reaches the caller
        await call.wait_closed_by_server(timeout=15)  # then the call ends
    assert [(t.role, t.text) for t in session.log.turns] == [("assistant", "Still there?")]


async def test_a_caller_who_speaks_is_not_hung_up_on() -> None:
    policy = SilencePolicy(reprompt_after_s=None, hang_up_after_s=1.2)
    script = AgentScript(default="Sure.")
    async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
        emu.script.user_says("hello", "hello again")
        async with (
            phone_server(emu, "twilio", silence=policy) as server,
            FakeTwilioCall(server.url) as call,
        ):
            session, _ = await asyncio.wait_for(server.calls.get(), 10)
            await asyncio.wait_for(future_of(session, "voiceagent.session_ready"), 10)
            for words in ("hello", "hello again"):
                replied = future_of(session, "voiceagent.playback_finished")
                await call.wait_ticks(35)  # 0.7 s of silence on the line
                await call.speak(user_speech(words))
                await asyncio.wait_for(replied, 15)
                # speaking reset the clock: two silences of 0.7 s and more would pass 1.2 s
                assert not call.closed_by_server.is_set()
            await call.wait_closed_by_server(timeout=15)  # silent again: hung up in the end


def test_a_policy_that_makes_no_sense_says_why() -> None:
    with pytest.raises(ValueError, match="must be longer than"):
        SilencePolicy(reprompt_after_s=10, hang_up_after_s=5)
    with pytest.raises(ValueError, match="seconds > 0"):
        SilencePolicy(reprompt_after_s=0)
