"""A turn the tracker gave up is logged even when the task holding it is cancelled mid-send.

``aclose()`` cancels the receive task. A barge-in (or a ``response.done``) takes its finished
turns from the :class:`TurnTracker` first and tells the service (truncate, delete) second; if
that send waits (a congested uplink: the WebSocket writer waits for the transport to drain) and
the task is cancelled there, the turns were forgotten by the tracker and never reached the log.
The same holds for ``aclose()`` itself, cancelled by its caller (a close budget) while it tells
the service what was heard.

Loopback never congests on demand, so the SDK connection is replaced by one whose sends wait
until released (the only stand-in here); the playback, the tracker, the delivery, the log and
the speaker (MemoryAudio) are the session's own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from voiceagent import BargeInPolicy
from voiceagent.audio.codec import OutputDecoder
from voiceagent.audio.format import AudioFormat
from voiceagent.audio.memory import MemoryAudio
from voiceagent.conversation import ConversationLog
from voiceagent.dispatch import EventRegistry
from voiceagent.session.delivery import Delivery
from voiceagent.session.playback import Playback
from voiceagent.session.receive import ServiceView
from voiceagent.session.turns import TurnTracker
from voiceagent.voicelive.wire import Wire

RATE = 24000
TEXT = "Let me tell you a rather long story about the weather in Paris and in London."


class CongestedConnection:
    """Stands in for the SDK connection on a congested uplink: each send waits until released."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.sending = asyncio.Event()
        self.released = asyncio.Event()

    async def send(self, event: dict[str, Any]) -> None:
        self.sent.append(dict(event))
        self.sending.set()
        await self.released.wait()


class Listener:
    def on_input(self, pcm: bytes) -> None:
        pass

    def on_playback_idle(self) -> None:
        pass


async def _playback(connection: CongestedConnection) -> tuple[Playback, ConversationLog]:
    log = ConversationLog()
    delivery = Delivery(EventRegistry(), log, lambda event_type, problem: None)
    playback = Playback(
        TurnTracker(RATE),
        OutputDecoder("pcm16"),
        BargeInPolicy(),
        ServiceView(),
        lambda: Wire(connection),  # type: ignore[arg-type]
        delivery,
    )
    audio = MemoryAudio(speed=8.0)
    await audio.start(AudioFormat(), Listener())
    playback.audio = audio
    return playback, log


def _reply(playback: Playback, item_id: str, response_id: str, seconds: float) -> None:
    """A reply streams in: created, its item, its transcript, its audio."""
    playback.tracker.response_created(response_id)
    playback.tracker.item_added(item_id, response_id)
    playback.tracker.transcript_done(item_id, response_id, TEXT)
    playback.play(item_id, response_id, bytes(int(RATE * seconds) * 2))


async def _cancelled_while_sending(
    task: asyncio.Task[None], connection: CongestedConnection
) -> None:
    await asyncio.wait_for(connection.sending.wait(), 5)  # the task waits in a send
    task.cancel()  # as aclose() cancels the receive task (or a caller its aclose())
    with pytest.raises(asyncio.CancelledError):
        await task


def _assistant(log: ConversationLog) -> list[Any]:
    return [t for t in log.turns if t.role == "assistant"]


async def test_a_barge_in_cancelled_while_truncating_still_logs_the_partly_heard_reply() -> None:
    connection = CongestedConnection()
    playback, log = await _playback(connection)
    assert playback.audio is not None
    _reply(playback, "item_1", "resp_1", seconds=3.0)
    await playback.response_done("resp_1", ["item_1"])  # all received; still playing
    await playback.audio.wait_heard(600, timeout=10)  # type: ignore[attr-defined]

    await _cancelled_while_sending(asyncio.create_task(playback.barge_in()), connection)
    assert connection.sent[0]["type"] == "conversation.item.truncate"
    [turn] = _assistant(log)  # taken from the tracker, so it must be in the log
    assert turn.interrupted and turn.text and TEXT.startswith(turn.text) and turn.text != TEXT
    await playback.stop()  # the rest of aclose(): nothing is left open, nothing logged twice
    assert _assistant(log) == [turn] and playback.tracker.open_items == []
    await playback.audio.stop()


async def test_a_response_done_cancelled_while_deleting_still_logs_the_unheard_reply() -> None:
    connection = CongestedConnection()
    connection.released.set()  # the barge-in's sends go out
    playback, log = await _playback(connection)
    assert playback.audio is not None
    _reply(playback, "item_1", "resp_1", seconds=2.0)
    playback.audio.flush()  # nothing of it played yet when the user spoke
    await playback.barge_in()  # heard nothing while streaming: deleted once its response is done
    assert _assistant(log) == []
    connection.released.clear()
    connection.sending.clear()

    task = asyncio.create_task(playback.response_done("resp_1", ["item_1"]))
    await _cancelled_while_sending(task, connection)
    assert connection.sent[-1] == {"type": "conversation.item.delete", "item_id": "item_1"}
    [turn] = _assistant(log)
    assert turn.interrupted and turn.text == "" and turn.full_text == TEXT
    await playback.audio.stop()


@pytest.mark.parametrize("finished", [True, False], ids=["all-received", "streaming"])
async def test_aclose_cancelled_while_telling_the_service_still_logs_the_reply(
    finished: bool,
) -> None:
    connection = CongestedConnection()
    playback, log = await _playback(connection)
    assert playback.audio is not None
    _reply(playback, "item_1", "resp_1", seconds=3.0)
    if finished:
        await playback.response_done("resp_1", ["item_1"])
    await playback.audio.wait_heard(600, timeout=10)  # type: ignore[attr-defined]

    await _cancelled_while_sending(asyncio.create_task(playback.stop()), connection)
    # stopped at the first send: the truncate (or, while streaming, the cancel before it)
    assert connection.sent[-1]["type"] == (
        "conversation.item.truncate" if finished else "response.cancel"
    )
    [turn] = _assistant(log)
    assert turn.interrupted and turn.text and TEXT.startswith(turn.text) and turn.text != TEXT
    assert playback.tracker.open_items == []
    await playback.audio.stop()


def test_the_congested_connection_carries_what_wire_sends() -> None:
    # the stand-in sees exactly the events the session's Wire builds (no SDK model in between)
    async def scenario() -> list[dict[str, Any]]:
        connection = CongestedConnection()
        connection.released.set()
        await Wire(connection).truncate("item_1", 500)  # type: ignore[arg-type]
        return connection.sent

    sent = asyncio.run(scenario())
    assert sent == [
        {
            "type": "conversation.item.truncate",
            "item_id": "item_1",
            "content_index": 0,
            "audio_end_ms": 500,
        }
    ]
