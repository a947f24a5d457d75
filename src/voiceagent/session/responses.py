"""Whether a response is in progress, and when the follow-up ``response.create`` may go.

:class:`ResponseGate` is the one owner of that fact. The :class:`~.turns.TurnTracker` feeds it
``response.created`` / ``response.done`` on the receive task, in the service's order (so it is
never behind what the handlers see); the receiver feeds it the service's refusals. Barge-in,
``cancel_response``, ``send_function_result``, the speaker's "finished" and the tool runner all
ask it, through :meth:`~voiceagent.VoiceAgentSession.request_response` for the follow-up.

Why a follow-up needs care: a ``response.create`` sent while a response is in progress is
refused with ``conversation_already_has_active_response``. The gate sends it once no response
is in progress, with its own event id so a refusal is told apart from the app's, and asks
again after the next ``response.done`` when refused anyway (an interim response, or the app's
own ``say``, started meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

__all__ = ["BUSY", "ResponseGate"]

log = logging.getLogger("voiceagent.session")

BUSY = "conversation_already_has_active_response"
"""The service's error code for a ``response.create`` sent while a response is in progress."""

_ATTEMPTS = 5


class ResponseGate:
    """The responses in progress, and the follow-up requests waiting for none to be."""

    def __init__(self) -> None:
        self._active: dict[str, None] = {}  # at most one: the response in progress
        self._idle = asyncio.Event()
        self._idle.set()
        self._generation = 0  # bumped when the connection is lost: old waits are void
        # Our response.create event ids -> True (taken), False (busy) or why it was not taken.
        self._requests: dict[str, asyncio.Future[bool | str]] = {}

    # --- fed in the service's order ------------------------------------------------------

    def created(self, response_id: str) -> None:
        """``response.created``.

        The service runs one response at a time (a ``response.create`` during one is refused),
        so a new one means any earlier one is over, even if its ``response.done`` never came
        (a frame lost or garbled): otherwise one missing done would hold every follow-up and
        the speaker's "finished" forever.
        """
        self._active = {response_id: None}
        self._idle.clear()

    def done(self, response_id: str | None) -> None:
        """``response.done`` (any status); one naming no response ends every one known."""
        if response_id is None:
            self._active.clear()
        else:
            self._active.pop(response_id, None)
        if not self._active:
            self._idle.set()
        for future in self._requests.values():
            # A refusal of our response.create comes before the done of the response that was
            # in the way; a done without one means ours was accepted (and has run).
            if not future.done():
                future.set_result(True)

    def refused(self, event_id: str | None, code: str | None) -> None:
        """``error``: when it names one of our requests, that request was not taken."""
        future = self._requests.get(event_id or "")
        if future is not None and not future.done():
            future.set_result(False if code == BUSY else f"refused ({code})")

    def reset(self) -> None:
        """The connection is gone: its responses will never report done; waits are void."""
        self._active.clear()
        self._generation += 1
        self._idle.set()
        for future in self._requests.values():
            if not future.done():
                future.set_result("the connection was lost")

    # --- asked by everyone else ----------------------------------------------------------

    @property
    def active(self) -> bool:
        """True between a ``response.created`` and its ``response.done``."""
        return bool(self._active)

    @property
    def active_id(self) -> str | None:
        """The response in progress (the latest created), if any."""
        return next(reversed(self._active), None)

    async def wait_idle(self) -> None:
        """Return once no response is in progress."""
        await self._idle.wait()

    async def request(self, send: Callable[[str], Awaitable[None]]) -> bool:
        """Send a ``response.create`` (``send(event_id)``) once no response is in progress.

        Refused as busy, it is sent again after the next ``response.done`` (up to 5 times).
        Cancelling the caller before the send sends nothing.

        Returns:
            True once the service took it (its ``response.done`` came); False when it gave up:
            refused 5 times, refused for another reason, or the connection was lost.
        """
        generation = self._generation
        for _ in range(_ATTEMPTS):
            await self._idle.wait()
            if self._generation != generation:
                log.info("the follow-up response was dropped with its connection")
                return False
            event_id = f"evt_va{secrets.token_hex(8)}"
            answer: asyncio.Future[bool | str] = asyncio.get_running_loop().create_future()
            self._requests[event_id] = answer
            try:
                self._idle.clear()  # a response is coming, or a refusal
                # Shielded: a caller cancelled mid-send must not cut a frame in half.
                await asyncio.shield(send(event_id))
                outcome = await answer
            finally:
                del self._requests[event_id]
                if not self._active:
                    self._idle.set()  # our request ended without a response in progress
            if isinstance(outcome, str):
                log.warning("the follow-up response was not taken: %s", outcome)
                return False
            if outcome:
                return True
            log.info("the service was busy with another response; asking again after it")
        log.warning("gave up asking for the follow-up response after %d tries", _ATTEMPTS)
        return False
