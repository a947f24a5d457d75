"""The event registry: decorated handlers, patterns, once/off, and error isolation.

Pure: no I/O, no knowledge of the network or audio. The session feeds it events in order.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from .events import HandlerFailed, check_event_name

__all__ = ["EventRegistry", "Handler"]

log = logging.getLogger(__name__)

Handler = Callable[[Any], "Awaitable[None] | None"]
H = TypeVar("H", bound=Handler)


@dataclass(eq=False)
class _Entry:
    pattern: str
    handler: Handler
    once: bool

    def matches(self, event_type: str) -> bool:
        if self.pattern == "*":
            return True
        if self.pattern.endswith(".*"):
            return event_type.startswith(self.pattern[:-1])
        return event_type == self.pattern


class EventRegistry:
    """Handlers by event name or pattern, run in registration order.

    Sync handlers are called inline; coroutine functions are awaited. A handler that raises is
    logged with its traceback and reported as a :class:`~voiceagent.events.HandlerFailed` event
    to handlers of ``"voiceagent.handler_error"``; the other handlers still run. A handler
    registered twice runs twice (nothing is ever silently replaced).
    """

    def __init__(self) -> None:
        self._entries: list[_Entry] = []

    @overload
    def on(self, event: str) -> Callable[[H], H]: ...
    @overload
    def on(self, event: str, handler: H) -> H: ...

    def on(self, event: str, handler: H | None = None) -> Callable[[H], H] | H:
        """Register ``handler`` for ``event`` (a type, ``"*"`` or ``"prefix.*"``).

        Works as a decorator (``@registry.on("response.done")``) and as a call.

        Raises:
            ValueError: unknown event name (the message suggests the closest one).
        """
        return self._add(event, handler, once=False)

    @overload
    def once(self, event: str) -> Callable[[H], H]: ...
    @overload
    def once(self, event: str, handler: H) -> H: ...

    def once(self, event: str, handler: H | None = None) -> Callable[[H], H] | H:
        """Like :meth:`on`, but the handler is removed after its first call."""
        return self._add(event, handler, once=True)

    def off(self, event: str, handler: Handler | None = None) -> int:
        """Remove ``handler`` (every registration of it) for ``event``, or all of ``event``'s.

        Returns:
            How many registrations were removed.
        """
        before = len(self._entries)
        self._entries = [
            e
            for e in self._entries
            if not (e.pattern == event and (handler is None or e.handler == handler))
        ]
        return before - len(self._entries)

    def wants(self, event_type: str) -> bool:
        """Whether any handler would run for ``event_type`` (cheap: no list is built)."""
        return any(e.matches(event_type) for e in self._entries)

    def handlers_for(self, event_type: str) -> list[Handler]:
        """The handlers an event of ``event_type`` would run, in order."""
        return [e.handler for e in self._entries if e.matches(event_type)]

    def _add(self, event: str, handler: H | None, *, once: bool) -> Callable[[H], H] | H:
        if not isinstance(event, str):
            name = getattr(event, "__name__", None)
            if callable(event) and name:
                raise TypeError(
                    f"on()/once() needs the event name before the handler {name!r}: write "
                    '@session.on("response.done"), not a bare @session.on'
                )
            raise TypeError(f"the event name must be a str such as 'response.done', got {event!r}")
        check_event_name(event)

        def register(fn: H) -> H:
            if not callable(fn):
                raise TypeError(f"handler for {event!r} must be callable, got {fn!r}")
            self._entries.append(_Entry(event, fn, once))
            return fn

        return register if handler is None else register(handler)

    async def emit(self, event: Any) -> None:
        """Run every matching handler for ``event`` (anything with a ``type`` attribute)."""
        event_type = str(getattr(event, "type", ""))
        for entry in [e for e in self._entries if e.matches(event_type)]:
            if entry.once:
                if entry not in self._entries:
                    continue  # a once-handler already consumed by a concurrent emit
                self._entries.remove(entry)
            try:
                result = entry.handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # isolation is the point: one bad handler never stops others
                await self._report(event_type, entry.handler, exc)

    async def _report(self, event_type: str, handler: Handler, exc: Exception) -> None:
        name = getattr(handler, "__qualname__", repr(handler))
        log.error("handler %s for %r raised", name, event_type, exc_info=exc)
        if event_type == HandlerFailed.type:
            return  # an error handler that fails is logged only: no loop
        await self.emit(HandlerFailed(event_type=event_type, handler_name=name, error=exc))
