"""Counting the agent's replies, to stop once it has answered (no hand-written stop logic)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["ReplyCounter"]


class ReplyCounter:
    """Counts the agent's finished turns and the user's spoken turns of a session.

    An assistant turn is counted when it is logged: once the user has heard it (or cut it off).

    Args:
        session: The :class:`~voiceagent.VoiceAgentSession` to watch.
    """

    def __init__(self, session: Any) -> None:
        self.count = 0
        """Assistant turns logged so far."""
        self.turns = 0
        """User speech turns the service detected (``speech_stopped``)."""
        self._changed = asyncio.Event()
        session.on("voiceagent.turn", self._turn)
        session.on("input_audio_buffer.speech_stopped", self._speech_stopped)

    def _turn(self, turn: Any) -> None:
        if turn.role == "assistant":
            self.count += 1
            self._changed.set()

    def _speech_stopped(self, event: Any) -> None:
        self.turns += 1
        self._changed.set()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds (checked whenever a count changes)."""
        while not predicate():
            self._changed.clear()
            await self._changed.wait()

    async def wait_for(self, count: int) -> None:
        """Wait until ``count`` assistant turns have been logged in all."""
        await self.wait_until(lambda: self.count >= count)
