"""Whether and when to reconnect: the one place that decides.

A connection that ends is either recoverable (the network dropped, the service restarted or is
throttling: try again after a :class:`Backoff` delay, resuming the conversation) or final (a
normal or policy close, bad credentials, a refused configuration).
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

import aiohttp
from azure.ai.voicelive.aio import ConnectionClosed
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError
from azure.core.exceptions import ClientAuthenticationError

from ..errors import ConfigError, ConnectError
from ..protocol.close_codes import ABNORMAL_CLOSURE, NO_CLOSE_FRAME_REASON, RECOVERABLE_CLOSE_CODES

if TYPE_CHECKING:
    from ..config import ReconnectPolicy

__all__ = ["Backoff", "close_code", "is_recoverable", "should_reconnect"]


def should_reconnect(code: int, policy: ReconnectPolicy) -> bool:
    """Whether a connection that closed with ``code`` should be reopened under ``policy``."""
    return policy.max_attempts > 0 and code in RECOVERABLE_CLOSE_CODES


def close_code(exc: BaseException) -> int | None:
    """The WebSocket close code carried by ``exc`` (the SDK's ``ConnectionClosed``), if any.

    The SDK reports a socket that died without a closing handshake (TCP reset, abort) as
    ``ConnectionClosed(1000, "Connection closed")``, as if it were a normal close; this returns
    1006 (abnormal closure) for it. A real close frame with 1000 arrives with an empty reason.
    """
    if not isinstance(exc, ConnectionClosed):
        return None
    code = exc.code
    if not isinstance(code, int):
        return None
    if code == 1000 and exc.reason == NO_CLOSE_FRAME_REASON:
        return ABNORMAL_CLOSURE
    return int(code)


def is_recoverable(exc: BaseException) -> bool:
    """Whether reconnecting after ``exc`` can help.

    True for closes with a code in :data:`RECOVERABLE_CLOSE_CODES`, transport errors and
    timeouts, and refused handshakes with HTTP 408, 429 or 5xx. False for a normal or policy
    close, other HTTP statuses (bad credentials, endpoint, parameters), credential failures and
    configuration errors.

    Args:
        exc: The exception that ended (or failed to open) a connection.

    Returns:
        Whether to try again (with a :class:`Backoff` delay).
    """
    if isinstance(exc, ConnectionClosed):
        return close_code(exc) in RECOVERABLE_CLOSE_CODES
    if isinstance(exc, ConnectError):
        if exc.retryable is not None:
            return exc.retryable
        if exc.status is not None:
            return exc.status in (408, 429) or exc.status >= 500
        return not isinstance(exc.__cause__, ClientAuthenticationError)
    if isinstance(exc, ConfigError):
        return False
    if isinstance(exc, SdkConnectionError):
        # "Failed to parse message" is a protocol error, not a transport one.
        return isinstance(exc.__cause__, (aiohttp.ClientError, OSError, asyncio.TimeoutError))
    return isinstance(exc, (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError))


class Backoff:
    """Exponential reconnect delays with jitter, bounded in size and number.

    Delay ``n`` (from 0) is ``min(max_backoff, initial_backoff * 2**n)`` times a random factor
    in ``[1 - jitter, 1 + jitter]``, capped at ``max_backoff``. After ``max_attempts`` delays,
    :meth:`next_delay` returns ``None``. Call :meth:`reset` once a connection is healthy again.

    Args:
        policy: The reconnect policy (default: :class:`~voiceagent.config.ReconnectPolicy()`).
        rng: A random generator (for reproducible tests).
    """

    def __init__(self, policy: ReconnectPolicy | None = None, *, rng: random.Random | None = None):
        if policy is None:
            from ..config import ReconnectPolicy

            policy = ReconnectPolicy()
        self._policy = policy
        self._rng = rng or random.Random()
        self._attempts = 0

    @property
    def attempts(self) -> int:
        """Delays handed out since the last reset."""
        return self._attempts

    @property
    def exhausted(self) -> bool:
        """Whether all attempts are used up."""
        return self._attempts >= self._policy.max_attempts

    def next_delay(self) -> float | None:
        """The seconds to wait before the next attempt, or ``None`` when attempts are used up."""
        if self.exhausted:
            return None
        policy = self._policy
        base = min(policy.max_backoff, policy.initial_backoff * 2.0 ** min(self._attempts, 62))
        factor = 1.0 + policy.jitter * self._rng.uniform(-1.0, 1.0)
        self._attempts += 1
        return max(0.0, min(policy.max_backoff, base * factor))

    def reset(self) -> None:
        """Start counting attempts from zero again."""
        self._attempts = 0
