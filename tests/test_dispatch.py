import asyncio
import logging

import pytest

from voiceagent.dispatch import EventRegistry
from voiceagent.events import HandlerFailed, PlaybackFinished


class Ev:
    def __init__(self, type: str, n: int = 0) -> None:
        self.type = type
        self.n = n


async def test_handlers_run_in_registration_order_sync_and_async() -> None:
    reg = EventRegistry()
    calls: list[str] = []

    @reg.on("response.done")
    def first(e: Ev) -> None:
        calls.append("first")

    @reg.on("response.done")
    async def second(e: Ev) -> None:
        await asyncio.sleep(0)
        calls.append("second")

    reg.on("response.done", lambda e: calls.append("third"))
    await reg.emit(Ev("response.done"))
    assert calls == ["first", "second", "third"]


async def test_wildcard_and_prefix_patterns() -> None:
    reg = EventRegistry()
    seen: dict[str, list[str]] = {"all": [], "response": []}
    reg.on("*", lambda e: seen["all"].append(e.type))
    reg.on("response.*", lambda e: seen["response"].append(e.type))
    for t in ("session.updated", "response.audio.delta", "response.done", "voiceagent.barge_in"):
        await reg.emit(Ev(t))
    assert seen["all"] == [
        "session.updated",
        "response.audio.delta",
        "response.done",
        "voiceagent.barge_in",
    ]
    assert seen["response"] == ["response.audio.delta", "response.done"]


async def test_once_and_off() -> None:
    reg = EventRegistry()
    calls: list[int] = []
    reg.once("response.done", lambda e: calls.append(e.n))

    def keep(e: Ev) -> None:
        calls.append(100 + e.n)

    reg.on("response.done", keep)
    await reg.emit(Ev("response.done", 1))
    await reg.emit(Ev("response.done", 2))
    assert calls == [1, 101, 102]
    assert reg.off("response.done", keep) == 1
    await reg.emit(Ev("response.done", 3))
    assert calls == [1, 101, 102]


async def test_registering_twice_never_replaces() -> None:
    reg = EventRegistry()
    calls: list[int] = []

    def h(e: Ev) -> None:
        calls.append(1)

    reg.on("response.done", h)
    reg.on("response.done", h)
    await reg.emit(Ev("response.done"))
    assert calls == [1, 1]
    assert reg.off("response.done", h) == 2


async def test_raising_handler_is_isolated_logged_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reg = EventRegistry()
    after: list[str] = []
    reported: list[HandlerFailed] = []

    @reg.on("response.done")
    def boom(e: Ev) -> None:
        raise RuntimeError("kaput")

    reg.on("response.done", lambda e: after.append("ran"))
    reg.on("voiceagent.handler_error", reported.append)
    with caplog.at_level(logging.ERROR, logger="voiceagent.dispatch"):
        await reg.emit(Ev("response.done"))
    assert after == ["ran"]
    assert len(reported) == 1
    assert reported[0].event_type == "response.done"
    assert isinstance(reported[0].error, RuntimeError)
    assert "boom" in reported[0].handler_name
    record = next(r for r in caplog.records if "boom" in r.getMessage())
    assert record.exc_info is not None  # the traceback is logged


async def test_failing_error_handler_does_not_loop(caplog: pytest.LogCaptureFixture) -> None:
    reg = EventRegistry()

    def bad(e: object) -> None:
        raise ValueError("again")

    reg.on("response.done", bad)
    reg.on("voiceagent.handler_error", bad)
    await reg.emit(Ev("response.done"))  # returns: no recursion
    assert sum("bad" in r.getMessage() for r in caplog.records) == 2


def test_unknown_event_name_suggests_closest() -> None:
    reg = EventRegistry()
    with pytest.raises(ValueError, match="did you mean 'response.audio.delta'"):
        reg.on("response.audio.delt", lambda e: None)
    with pytest.raises(ValueError, match="matches no known event"):
        reg.on("nothing.*", lambda e: None)


async def test_library_events_carry_their_type() -> None:
    reg = EventRegistry()
    got: list[object] = []
    reg.on("voiceagent.playback_finished", got.append)
    await reg.emit(PlaybackFinished(item_id="item_1"))
    assert got == [PlaybackFinished(item_id="item_1")]
