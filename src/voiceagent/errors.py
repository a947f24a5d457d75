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
    "SessionClosedError",
    "SessionError",
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
        retryable: Whether trying again later can help (throttling, a server error, a dropped
            connection); None when unknown (decided from ``status`` and the cause).
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.retryable = retryable


class AudioError(VoiceAgentError):
    """An audio device or file could not be opened, or failed while running."""


class SessionError(VoiceAgentError):
    """The session failed in a way the library did not foresee (a bug: please report it).

    The original exception is chained as ``__cause__``.
    """


class SessionClosedError(VoiceAgentError):
    """An operation needs an open session, and the session is not open."""
