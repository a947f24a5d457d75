"""The session's lifecycle: one state machine instead of flags checked in thirty places."""

from __future__ import annotations

import enum

from ..errors import SessionClosedError

__all__ = ["Lifecycle", "SessionState"]


class SessionState(str, enum.Enum):
    """Where a session is in its life."""

    IDLE = "idle"
    CONNECTING = "connecting"
    READY = "ready"
    RECONNECTING = "reconnecting"
    CLOSING = "closing"
    CLOSED = "closed"


_TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.IDLE: frozenset({SessionState.CONNECTING, SessionState.CLOSING}),
    SessionState.CONNECTING: frozenset({SessionState.READY, SessionState.CLOSING}),
    SessionState.READY: frozenset({SessionState.RECONNECTING, SessionState.CLOSING}),
    SessionState.RECONNECTING: frozenset({SessionState.READY, SessionState.CLOSING}),
    SessionState.CLOSING: frozenset({SessionState.CLOSED}),
    SessionState.CLOSED: frozenset(),
}


class Lifecycle:
    """The current :class:`SessionState` and the only way to change it."""

    def __init__(self) -> None:
        self.state = SessionState.IDLE

    def to(self, new: SessionState) -> None:
        """Move to ``new``.

        Raises:
            SessionClosedError: ``new`` cannot follow the current state.
        """
        if new not in _TRANSITIONS[self.state]:
            raise SessionClosedError(f"session cannot go from {self.state.value} to {new.value}")
        self.state = new

    @property
    def closing(self) -> bool:
        """Whether the session is closing or closed."""
        return self.state in (SessionState.CLOSING, SessionState.CLOSED)
