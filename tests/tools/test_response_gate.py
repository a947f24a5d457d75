"""The session's one owner of "a response is in progress", on its own (no network)."""

from __future__ import annotations

import asyncio

from voiceagent.session.responses import BUSY, ResponseGate


class Sender:
    """Records the event ids of the response.create requests the gate sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.event = asyncio.Event()

    async def __call__(self, event_id: str) -> None:
        self.sent.append(event_id)
        self.event.set()

    async def next(self) -> str:
        await asyncio.wait_for(self.event.wait(), 2)
        self.event.clear()
        return self.sent[-1]


async def test_a_request_waits_for_the_response_in_progress() -> None:
    gate, send = ResponseGate(), Sender()
    gate.created("resp_1")
    assert gate.active and gate.active_id == "resp_1"
    request = asyncio.ensure_future(gate.request(send))
    await asyncio.sleep(0)
    assert send.sent == []  # resp_1 is still in progress
    gate.done("resp_1")
    await send.next()
    gate.created("resp_2")  # ours
    gate.done("resp_2")
    assert await asyncio.wait_for(request, 2) is True and not gate.active


async def test_refused_as_busy_it_asks_again_after_the_next_done() -> None:
    gate, send = ResponseGate(), Sender()
    request = asyncio.ensure_future(gate.request(send))
    first = await send.next()
    gate.created("resp_other")  # the app's say() got there first
    gate.refused(first, BUSY)
    await asyncio.sleep(0)
    assert len(send.sent) == 1  # not while resp_other runs
    gate.done("resp_other")
    second = await send.next()
    assert second != first
    gate.created("resp_ours")
    gate.done("resp_ours")
    assert await asyncio.wait_for(request, 2) is True


async def test_another_refusal_or_a_lost_connection_gives_up() -> None:
    gate, send = ResponseGate(), Sender()
    request = asyncio.ensure_future(gate.request(send))
    gate.refused(await send.next(), "invalid_value")
    assert await asyncio.wait_for(request, 2) is False

    gate.created("resp_1")
    waiting = asyncio.ensure_future(gate.request(send))
    await asyncio.sleep(0)
    gate.reset()  # the connection dropped: resp_1 never reports done
    assert await asyncio.wait_for(waiting, 2) is False
    assert len(send.sent) == 1 and not gate.active


async def test_cancelled_before_the_send_sends_nothing() -> None:
    gate, send = ResponseGate(), Sender()
    gate.created("resp_1")
    request = asyncio.ensure_future(gate.request(send))
    await asyncio.sleep(0)
    request.cancel()
    gate.done("resp_1")
    for _ in range(5):  # let a wrongly surviving request run
        await asyncio.sleep(0)
    assert send.sent == [] and not gate.active


def test_a_response_whose_done_never_came_is_over_when_the_next_is_created() -> None:
    # One response at a time: a lost response.done must not keep the gate busy forever (the
    # fuzz test's injected response.created held the speaker's "finished" and every follow-up).
    gate = ResponseGate()
    gate.created("resp_lost")
    gate.created("resp_2")
    assert gate.active_id == "resp_2"
    gate.done("resp_2")
    assert not gate.active
