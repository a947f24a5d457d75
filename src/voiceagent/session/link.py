"""The session's connection: open, configure, wait until ready, reopen after a drop.

One place decides what an error during set-up means:

* ``error`` before ``session.updated`` about the configuration (``invalid_request_error``) is a
  :class:`~voiceagent.ConfigError`: retrying cannot help;
* throttling and server errors are :class:`~voiceagent.ConnectError` with ``retryable=True``;
* a refused handshake, a timeout or a drop during set-up is a ``ConnectError`` (retryable when
  :func:`~voiceagent.voicelive.reconnect.is_recoverable` says so).

:meth:`Link.open` retries retryable failures with the reconnect policy's backoff, so a service
that is briefly throttling or restarting does not fail ``start()``, and a drop at any stage
reconnects into the same conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..conversation import SessionInfo
from ..errors import ConfigError, ConnectError
from ..events import Reconnected, Reconnecting, SessionReady
from ..protocol.close_codes import RECOVERABLE_CLOSE_CODES
from ..voicelive.connector import VoiceLiveConnector
from ..voicelive.reconnect import Backoff, is_recoverable
from ..voicelive.wire import ConnectionLost, InboundEvent, MalformedFrame, Wire
from .delivery import Delivery
from .receive import Receiver

if TYPE_CHECKING:
    from ..config import AgentConfig, ClassicAgentConfig, SessionOptions

__all__ = ["Link"]

log = logging.getLogger("voiceagent.session")

_THROTTLING = frozenset(
    {"rate_limit_exceeded", "too_many_requests", "throttled", "quota_exceeded", "server_busy"}
)
_SERVER = frozenset(
    {"server_error", "internal_error", "service_unavailable", "internal_server_error"}
)

Frame = InboundEvent | MalformedFrame | None
FrameHandler = Callable[[Frame], Awaitable[None]]


def setup_error(error: dict[str, object], endpoint: str) -> ConfigError | ConnectError:
    """What an ``error`` event before ``session.updated`` means (see the module docstring)."""
    code = str(error.get("code") or "")
    kind = str(error.get("type") or "")
    message = str(error.get("message") or error)
    if code in _THROTTLING or kind in ("rate_limit_error", "rate_limit_exceeded"):
        return ConnectError(
            f"the service at {endpoint} is throttling ({code or kind}): {message}",
            endpoint=endpoint,
            retryable=True,
        )
    if code in _SERVER or kind in _SERVER:
        return ConnectError(
            f"the service at {endpoint} failed while setting up the session ({code or kind}): "
            f"{message}",
            endpoint=endpoint,
            retryable=True,
        )
    if kind == "invalid_request_error" or error.get("param") is not None:
        param = error.get("param")
        where = f" (field {param})" if param else ""
        return ConfigError(
            f"the service rejected the session configuration{where}: {message} (code {code}); "
            "fix that option in SessionOptions"
        )
    return ConnectError(
        f"the service at {endpoint} refused the session: {message} (code {code or kind})",
        endpoint=endpoint,
    )


class Link:
    """Owns the current connection (its :class:`Wire`) and the connector that opens it.

    Args:
        connector: Opens connections for the session's mode and credential.
        options: The session options (sent as ``session.update`` on every connection).
        ready_timeout: Seconds to wait for ``session.updated``.
    """

    def __init__(
        self, connector: VoiceLiveConnector, options: SessionOptions, ready_timeout: float
    ) -> None:
        self.connector = connector
        self.set_options(options)
        self.ready_timeout = ready_timeout
        self.wire: Wire | None = None
        self._stack: contextlib.AsyncExitStack | None = None

    def set_options(self, options: SessionOptions) -> None:
        """The options sent as ``session.update`` on every connection from now on."""
        from ..voicelive.requests import build_request_session  # pydantic loads on first use

        self._request = build_request_session(options, agent_mode=self.connector.mode != "model")

    @property
    def endpoint(self) -> str:
        """The endpoint, secrets redacted."""
        return self.connector.endpoint

    async def open(
        self,
        agent: Callable[[], AgentConfig | ClassicAgentConfig | None],
        on_frame: FrameHandler,
        is_ready: Callable[[], bool],
        *,
        on_retry: Callable[[int, float, ConnectError], None] | None = None,
        retry: bool = True,
    ) -> int:
        """Connect until ready, retrying retryable failures; returns the attempts it took.

        Args:
            agent: Gives the agent for each attempt: resuming the conversation once it is known
                (a ``session.created`` before a drop already names it).
            on_frame: Handles every frame read during set-up (session events, errors).
            is_ready: True once the frames handled so far include ``session.updated``.
            on_retry: Told before each retry (attempt number, delay, the error).
            retry: False to try once.

        Raises:
            ConfigError: The service rejected the configuration.
            ConnectError: Could not connect (the last error, when retries ran out).
        """
        backoff = Backoff(self.connector.config.reconnect)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._open_once(agent(), on_frame, is_ready)
                return attempt
            except ConnectError as exc:
                delay = backoff.next_delay() if retry and is_recoverable(exc) else None
                if delay is None:
                    raise
                log.warning("connecting failed (%s); retrying in %.1f s", exc, delay)
                if on_retry is not None:
                    on_retry(attempt, delay, exc)
                await asyncio.sleep(delay)

    async def establish(
        self,
        agent: Callable[[], AgentConfig | ClassicAgentConfig | None],
        receiver: Receiver,
        delivery: Delivery,
        *,
        reconnected: bool,
        attempt: int = 0,
    ) -> None:
        """Connect until ready (:meth:`open`) and announce it: a log record and the events.

        Args:
            agent: Gives the agent for each attempt.
            receiver: Handles the frames read during set-up; its view says when it is ready.
            delivery: Takes set-up events for the handlers, library events, and the log's
                session record (one per connection).
            reconnected: Whether this replaces a dropped connection.
            attempt: Reconnect attempts before this one.
        """
        service = receiver.service
        service.configured = False

        async def on_frame(frame: Frame) -> None:
            event = await receiver.handle(frame)
            if event is not None:
                delivery.forward(event)

        def on_retry(number: int, delay: float, error: ConnectError) -> None:
            delivery.emit(
                Reconnecting(
                    attempt=attempt + number, delay_s=delay, close_code=None, reason=str(error)
                )
            )

        tries = await self.open(agent, on_frame, lambda: service.configured, on_retry=on_retry)
        delivery.log.add_session(
            SessionInfo(
                session_id=service.session_id,
                conversation_id=service.conversation_id,
                agent=service.agent,
                voice=service.voice,
                model=self.connector.config.model,
            )
        )
        delivery.emit(
            SessionReady(
                session_id=service.session_id,
                conversation_id=service.conversation_id,
                agent=service.agent,
                voice=service.voice,
                reconnected=reconnected,
            )
        )
        if reconnected:
            delivery.emit(
                Reconnected(attempt=attempt + tries - 1, conversation_id=service.conversation_id)
            )

    async def _open_once(
        self,
        agent: AgentConfig | ClassicAgentConfig | None,
        on_frame: FrameHandler,
        is_ready: Callable[[], bool],
    ) -> None:
        stack = contextlib.AsyncExitStack()
        try:
            connection = await stack.enter_async_context(self.connector.connect(agent))
            wire = Wire(connection)
            await wire.update_session(self._request)
            await asyncio.wait_for(
                self._read_until_ready(wire, on_frame, is_ready), self.ready_timeout
            )
        except asyncio.TimeoutError:
            await stack.aclose()
            raise ConnectError(
                f"the service at {self.endpoint} did not confirm the session configuration "
                f"within {self.ready_timeout:g} s",
                endpoint=self.endpoint,
                retryable=True,
            ) from None
        except ConnectionLost as exc:
            await stack.aclose()
            raise ConnectError(
                f"the connection to {self.endpoint} closed during set-up (code {exc.code})",
                endpoint=self.endpoint,
                retryable=exc.code in RECOVERABLE_CLOSE_CODES,
            ) from exc
        except BaseException:
            await stack.aclose()
            raise
        self._stack, self.wire = stack, wire

    async def _read_until_ready(
        self, wire: Wire, on_frame: FrameHandler, is_ready: Callable[[], bool]
    ) -> None:
        while True:
            frame = await wire.recv()
            if isinstance(frame, InboundEvent) and frame.type == "error":
                error = frame.data.get("error")
                if isinstance(error, dict) and error.get("code") != "response_cancel_not_active":
                    raise setup_error(error, self.endpoint)
            await on_frame(frame)
            if is_ready():
                return

    async def close(self) -> None:
        """Close the current connection, if any (never raises)."""
        stack, self._stack, self.wire = self._stack, None, None
        if stack is not None:
            try:
                await stack.aclose()
            except Exception:
                log.debug("error while closing the connection", exc_info=True)

    async def aclose(self) -> None:
        """Close the connection and the credential the connector created."""
        await self.close()
        await self.connector.aclose()
