"""Events to the app's handlers, in order, off the audio path; turns to the log.

One queue, one task: the receive path and the session put server events and library events in
the queue, and the delivery task runs the matching handlers in order. Server events reach
handlers as the SDK's typed objects, built only when some handler listens to that type. Every
finished turn goes through here too: into the conversation log, then to the handlers as
``voiceagent.turn``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..conversation import ConversationLog, Turn
from ..dispatch import EventRegistry
from ..events import LibraryEvent, TurnLogged
from ..voicelive.wire import InboundEvent

__all__ = ["Delivery"]


class Delivery:
    """The handlers' queue and the conversation log.

    Args:
        registry: The handlers.
        log: The conversation log.
        report: Called for an event the SDK cannot model (event type, problem).
    """

    def __init__(
        self,
        registry: EventRegistry,
        log: ConversationLog,
        report: Callable[[str, str], None],
    ) -> None:
        self.registry = registry
        self.log = log
        self._report = report
        self._queue: asyncio.Queue[InboundEvent | LibraryEvent | None] = asyncio.Queue()
        self._assistant_turns = 0
        self._turn_logged = asyncio.Event()

    def forward(self, event: InboundEvent) -> None:
        """A server event for the handlers (none listens: dropped here, no queue hop)."""
        if self.registry.wants(event.type):
            self._queue.put_nowait(event)

    def emit(self, event: LibraryEvent) -> None:
        """A library event for the handlers."""
        self._queue.put_nowait(event)

    def log_turn(self, turn: Turn) -> None:
        """A finished turn: into the log, then ``voiceagent.turn`` for the handlers."""
        self.log.add_turn(turn)
        self.emit(
            TurnLogged(
                role=turn.role,
                text=turn.text,
                item_id=turn.item_id,
                interrupted=turn.interrupted,
                full_text=turn.full_text,
            )
        )
        if turn.role == "assistant":
            self._assistant_turns += 1
            self._turn_logged.set()

    def log_turns(self, turns: list[Turn]) -> None:
        """Several finished turns, in order."""
        for turn in turns:
            self.log_turn(turn)

    @property
    def assistant_turns(self) -> int:
        """Assistant turns logged so far (heard in full or cut off)."""
        return self._assistant_turns

    async def wait_assistant_turns(self, count: int) -> None:
        """Until at least ``count`` assistant turns have been logged."""
        while self._assistant_turns < count:
            self._turn_logged.clear()
            await self._turn_logged.wait()

    def stop(self) -> None:
        """The run loop ends after the events already queued."""
        self._queue.put_nowait(None)

    async def run(self) -> None:
        """Run handlers for each queued event, in order, until :meth:`stop`."""
        registry = self.registry
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(
                item, InboundEvent
            ):  # forward() queued it only because a handler wants it
                try:
                    typed: Any = item.typed()
                except Exception as exc:  # the SDK could not model it: report, go on
                    self._report(item.type, f"the SDK could not parse it: {exc!r}")
                    continue
                await registry.emit(typed)
            else:
                if isinstance(item, TurnLogged):
                    await self.log.written()  # a turn a handler sees is on disk already
                await registry.emit(item)
