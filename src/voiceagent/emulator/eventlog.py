"""An append-only list of protocol events that tests can wait on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["EventLog"]

Event = dict[str, Any]


class EventLog:
    """Events in order, plus ``take``: wait for the first matching event not yet taken."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._taken: set[int] = set()
        self._waiters: list[asyncio.Future[None]] = []

    def append(self, event: Event) -> None:
        """Record an event and wake the waiters."""
        self.events.append(event)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _find(self, start: int, event_type: str, predicate: Callable[[Event], bool] | None) -> int:
        for index in range(start, len(self.events)):
            event = self.events[index]
            if index in self._taken or event.get("type") != event_type:
                continue
            if predicate is None or predicate(event):
                return index
        return -1

    async def take(
        self,
        event_type: str,
        timeout: float = 5.0,
        predicate: Callable[[Event], bool] | None = None,
    ) -> Event:
        """Return the first event of ``event_type`` (matching ``predicate``) not taken before.

        Raises:
            TimeoutError: No such event within ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        scanned = 0
        while True:
            index = self._find(scanned, event_type, predicate)
            if index >= 0:
                self._taken.add(index)
                return self.events[index]
            scanned = len(self.events)
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [e.get("type") for e in self.events[-8:]]
                raise TimeoutError(
                    f"no {event_type!r} event within {timeout} s (last events: {recent})"
                )
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                continue
