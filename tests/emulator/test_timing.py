"""Timing profiles: think time before response.created, time to first audio, jitter."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest
from azure.ai.voicelive.models import InputTextContentPart, UserMessageItem

from voiceagent.emulator import Emulator, Timing

from .helpers import model_connection, recv_until


async def _timed_reply(emu: Emulator) -> tuple[float, float, float, list[Any]]:
    """(create->created, created->first audio, first audio->done) in seconds, and the events."""
    async with model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="a b")])
        )
        await recv_until(conn, "conversation.item.created")
        start = time.monotonic()
        await conn.response.create()
        marks: dict[str, float] = {}
        events: list[Any] = []
        while "response.done" not in marks:
            event = await asyncio.wait_for(conn.recv(), 10)
            events.append(event)
            marks.setdefault(str(event.type), time.monotonic())
    created = marks["response.created"]
    audio = marks["response.audio.delta"]
    return created - start, audio - created, marks["response.done"] - audio, events


async def test_realistic_profile_thinks_then_speaks_late() -> None:
    async with Emulator(timing="realistic") as emu:
        assert emu.settings.timing == Timing.REALISTIC
        think, first_audio, _, _ = await _timed_reply(emu)
    assert 0.3 <= think <= 0.7 + 0.3  # scheduling slack on a shared machine
    assert first_audio >= 0.2


async def test_custom_timing_is_deterministic_and_cancellable() -> None:
    timing = Timing(think_ms=(250.0, 250.0), first_audio_ms=150.0)
    async with Emulator(realtime=False, timing=timing) as emu:
        think, first_audio, rest, _ = await _timed_reply(emu)
        assert 0.25 <= think <= 0.25 + 0.3
        assert 0.15 <= first_audio <= 0.15 + 0.3
        assert rest < 0.3  # realtime=False: the audio itself is not paced
        # A response.cancel during the think time ends the response at once.
        async with model_connection(emu.endpoint) as conn:
            await conn.recv()
            await conn.response.create()
            session = emu.sessions[-1]
            await session.wait_for_client_event("response.create")
            start = time.monotonic()
            await conn.response.cancel()
            done = (await recv_until(conn, "response.done"))[-1]
            assert done.response.status == "cancelled"
            assert time.monotonic() - start < 0.2


async def test_default_timing_starts_at_once() -> None:
    async with Emulator(realtime=False) as emu:
        assert emu.settings.timing == Timing.IMMEDIATE
        think, first_audio, _, _ = await _timed_reply(emu)
    assert think < 0.2 and first_audio < 0.2


def test_jitter_only_delays_and_draws_are_seeded() -> None:
    timing = Timing(jitter_ms=30.0, think_ms=(300.0, 700.0), seed=3)
    draws = random.Random(timing.seed)
    jitters = [timing.jitter(draws) for _ in range(200)]
    thinks = [timing.think(draws) for _ in range(200)]
    assert all(0.0 <= v <= 0.03 for v in jitters) and max(jitters) > 0.02
    assert all(0.3 <= t <= 0.7 for t in thinks) and max(thinks) - min(thinks) > 0.2
    again = random.Random(timing.seed)
    assert [timing.jitter(again) for _ in range(200)] == jitters
    assert Timing.IMMEDIATE.jitter(again) == 0.0 == Timing.IMMEDIATE.think(again)


def test_bad_profiles_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown timing profile"):
        Emulator(timing="slow")
    with pytest.raises(ValueError, match="think_ms"):
        Timing(think_ms=(500.0, 100.0))
