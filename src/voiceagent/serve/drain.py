"""Graceful shutdown: the first SIGTERM/SIGINT drains, a second one closes everything at once.

Draining turns readiness off at once and refuses new conversations; live ones go on until they
end or ``timeout_s`` passes. Then each is closed, telling the service what its user heard (the
session's ``aclose``), so a rolling deploy never cuts a call that could finish.

Signals are one way to start it (``voiceagent serve``); :meth:`Drain.begin` is another (an ASGI
app's ``lifespan.shutdown`` or ``ASGIVoiceApp.drain``, where the server owns the signals).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable

from .registry import SessionRegistry

__all__ = ["DEFAULT_DRAIN_TIMEOUT_S", "SHUTTING_DOWN", "Drain"]

log = logging.getLogger("voiceagent.serve")

DEFAULT_DRAIN_TIMEOUT_S = 3600.0
"""Long enough for a phone call; Kubernetes' terminationGracePeriodSeconds must exceed it."""

SHUTTING_DOWN = "the server is shutting down"
"""The reason a conversation closed at the drain's timeout ends with."""

_WIND_DOWN_S = 15.0  # after the sessions are closed, for the channels to say goodbye


class Drain:
    """Drives one server's shutdown from its signals.

    Args:
        registry: The server's live conversations.
        timeout_s: How long live conversations may go on once draining.
        notify: Also told each step in a line (the CLI prints it: its log shows errors only).
    """

    def __init__(
        self,
        registry: SessionRegistry,
        timeout_s: float = DEFAULT_DRAIN_TIMEOUT_S,
        notify: Callable[[str], None] | None = None,
    ):
        if timeout_s < 0:
            raise ValueError(f"the drain timeout must be 0 or more seconds, got {timeout_s}")
        self.registry = registry
        self.timeout_s = timeout_s
        self.requested = asyncio.Event()
        self.forced = asyncio.Event()
        self.requested_at: float | None = None
        self._notify = notify

    def _say(self, message: str) -> None:
        log.info("%s", message)  # an expected step of shutting down, not a fault
        if self._notify is not None:
            self._notify(message)

    def install(self, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
        """Handle ``signals`` on the running loop (where the platform allows it)."""
        loop = asyncio.get_running_loop()
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.signal)

    def begin(self, note: str = "") -> bool:
        """Start draining now: readiness off at once, new conversations refused.

        Args:
            note: Appended to the notice (e.g. how to cut the drain short).

        Returns:
            False when the drain had already begun (nothing changes then).
        """
        if self.requested.is_set():
            return False
        self.requested_at = time.monotonic()
        self.registry.start_drain()  # readiness off before anything else
        self.requested.set()
        self._say(
            f"draining: {len(self.registry.live)} conversation(s) live, refusing new ones "
            f"(up to {self.timeout_s:g} s{note})"
        )
        return True

    def signal(self) -> None:
        """A shutdown signal: the first drains, the next closes everything now."""
        if not self.begin("; a second signal closes them now"):
            self._say("second shutdown signal: closing every conversation now")
            self.forced.set()

    async def run(self, close_all: Callable[[], Awaitable[None]] | None = None) -> bool:
        """Wait for a signal, then for the live conversations; close what is left.

        Args:
            close_all: Also closes the sessions (e.g. ``SessionFactory.close_all``), after the
                registry has closed those of its conversations.

        Returns:
            True when every conversation ended by itself.
        """
        await self.requested.wait()
        empty = asyncio.ensure_future(self.registry.wait_empty(self.timeout_s))
        forced = asyncio.ensure_future(self.forced.wait())
        await asyncio.wait({empty, forced}, return_when=asyncio.FIRST_COMPLETED)
        forced.cancel()
        finished = empty.done() and empty.result()
        empty.cancel()
        if not finished:
            self._say(f"closing {len(self.registry.live)} conversation(s) still live")
            for conversation in self.registry.live:  # what the page or caller is told
                conversation.end_reason = conversation.end_reason or SHUTTING_DOWN
            await self.registry.close_all()
            if close_all is not None:
                await close_all()
            await self.registry.wait_empty(_WIND_DOWN_S)
        return finished
