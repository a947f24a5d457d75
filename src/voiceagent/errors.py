"""The library's exception hierarchy.

Every exception the library raises on purpose derives from :class:`VoiceAgentError`, so an
application can catch one type. Messages say what is wrong and how to fix it, and never
contain a secret (API key, token, ``agent-access-token``).
"""

from __future__ import annotations

__all__ = [
    "AudioError",
    "ConfigError",
    "ConnectError",
    "HandlerError",
    "SessionClosedError",
    "VoiceAgentError",
]


class VoiceAgentError(Exception):
    """Base class of every error raised by ``voiceagent``."""


class ConfigError(VoiceAgentError, ValueError):
    """Invalid configuration, detected before any connection is attempted."""


class ConnectError(VoiceAgentError):
    """The Voice Live service could not be reached, refused us, or dropped us for good.

    Attributes:
        endpoint: The endpoint that was tried, with every secret removed.
        status: The HTTP status of a failed handshake, when there was one.
    """

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class AudioError(VoiceAgentError):
    """An audio device or file could not be opened, or failed while running."""


class HandlerError(VoiceAgentError):
    """Wraps an exception raised by a user event handler (reported, never raised into the session).

    Attributes:
        event_type: The event type the handler was registered for.
        handler: The handler that raised.
    """

    def __init__(self, event_type: str, handler: object, error: BaseException) -> None:
        name = getattr(handler, "__qualname__", repr(handler))
        super().__init__(f"handler {name} for {event_type!r} raised {error!r}")
        self.event_type = event_type
        self.handler = handler
        self.__cause__ = error


class SessionClosedError(VoiceAgentError):
    """An operation needs an open session, and the session is not open."""
