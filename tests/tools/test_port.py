"""The session's public port for plug-ins: publish and send_event, through the real SDK."""

from __future__ import annotations

import asyncio

import pytest

from voiceagent import ConfigError, ToolCallFinished
from voiceagent.emulator import AgentScript

from .helpers import client_events, future_of, model_session, realistic_emulator

pytestmark = pytest.mark.usefixtures("clean_env")


async def test_publish_reaches_the_handlers_and_send_event_the_service() -> None:
    async with realistic_emulator(script=AgentScript()) as emu:
        session, _ = model_session(emu)
        got = future_of(session, "voiceagent.tool_call")
        async with session:
            server = await emu.wait_for_session()
            event = ToolCallFinished(
                name="lookup", call_id="call_1", response_id=None, outcome="ok", duration_ms=1.0
            )
            session.publish(event)
            assert await asyncio.wait_for(got, 5) is event
            with pytest.raises(ConfigError, match="'type'"):
                await session.send_event({"item": {}})
            cleared = future_of(session, "input_audio_buffer.cleared")
            await session.send_event({"type": "input_audio_buffer.clear"})
            await asyncio.wait_for(cleared, 5)
    assert client_events(server, "input_audio_buffer.clear")
