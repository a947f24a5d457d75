"""Item 8: fault injection (drops, delays, malformed JSON, unknown events, error events)."""

from __future__ import annotations

import asyncio
import time

import pytest
from azure.ai.voicelive.aio import ConnectionClosed
from azure.ai.voicelive.aio import ConnectionError as VoiceLiveConnectionError
from azure.ai.voicelive.models import InputTextContentPart, UserMessageItem

from voiceagent.emulator import Emulator, Faults

from .helpers import model_connection


async def test_drop_after_events_aborts_without_close_frame() -> None:
    async with Emulator(realtime=False, faults=Faults(drop_after_events=2)) as emu:
        async with model_connection(emu.endpoint) as conn:
            assert (await conn.recv()).type == "session.created"
            await conn.session.update(session={"instructions": "x"})
            assert (await conn.recv()).type == "session.updated"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(conn.recv(), 5)
            # The SDK reports an aborted socket as ConnectionClosed(1000, ...); only the
            # underlying aiohttp socket knows there was no close frame.
            assert conn._connection.close_code == 1006
        assert emu.sessions[0].closed


async def test_drop_with_close_code_1011() -> None:
    faults = Faults(drop_after_events=1, drop_code=1011)
    async with (
        Emulator(realtime=False, faults=faults) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        assert (await conn.recv()).type == "session.created"
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(conn.recv(), 5)
        assert info.value.code == 1011


async def test_drop_mid_response() -> None:
    faults = Faults(drop_mid_response=True, drop_code=1011)
    async with (
        Emulator(realtime=False, faults=faults) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="hi")])
        )
        await conn.response.create()
        seen: list[str] = []
        with pytest.raises(ConnectionClosed) as info:
            while True:
                seen.append((await asyncio.wait_for(conn.recv(), 5)).type)
        assert info.value.code == 1011
        assert seen[-1] == "response.audio.delta"
        assert "response.done" not in seen
        # The drop happened inside the response's own send, so it is already marked failed.
        assert emu.sessions[0].responses[0].status == "failed"


async def test_delay_ms() -> None:
    async with Emulator(realtime=False, faults=Faults(delay_ms=150)) as emu:
        start = time.monotonic()
        async with model_connection(emu.endpoint) as conn:
            await conn.recv()
            await conn.session.update(session={"instructions": "x"})
            await conn.recv()
        assert time.monotonic() - start >= 0.3


async def test_malformed_json() -> None:
    faults = Faults(malformed_json_after=1)
    async with (
        Emulator(realtime=False, faults=faults) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        assert (await conn.recv()).type == "session.created"
        with pytest.raises(VoiceLiveConnectionError, match="Failed to parse message"):
            await conn.recv()
        # The connection itself is still up.
        await conn.session.update(session={"instructions": "x"})
        assert (await conn.recv()).type == "session.updated"


async def test_unknown_event_and_error_event() -> None:
    faults = Faults(unknown_event_after=1, error_after=1)
    async with (
        Emulator(realtime=False, faults=faults) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        assert (await conn.recv()).type == "session.created"
        unknown = await asyncio.wait_for(conn.recv(), 5)
        assert unknown.type == "emulator.unknown_event"
        error = await asyncio.wait_for(conn.recv(), 5)
        assert error.type == "error"
        assert error.error.type == "server_error"
        assert error.error.code == "emulated_fault"


async def test_faults_apply_to_new_connections_only() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as first:
        await first.recv()
        emu.faults = Faults(drop_after_events=1, drop_code=1011)
        async with model_connection(emu.endpoint) as second:
            await second.recv()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(second.recv(), 5)
        await first.session.update(session={"instructions": "still fine"})
        assert (await first.recv()).type == "session.updated"


async def test_on_demand_drop_and_injected_event() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        s = await emu.wait_for_session()
        await s.send_event({"type": "warning", "warning": {"message": "careful", "code": "w1"}})
        warning = await conn.recv()
        assert warning.type == "warning"
        assert warning["warning"]["message"] == "careful"
        await s.drop(code=1012)
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(conn.recv(), 5)
        assert info.value.code == 1012
        assert s.closed
