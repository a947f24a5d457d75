"""One browser tab's conversation, whatever the web framework: socket <-> bridge <-> session.

A framework adapter (:mod:`.web` for aiohttp, :mod:`.asgi`) accepts the upgrade and hands a
:class:`PageSocket` to :func:`hold_conversation`, which owns the rest: limits, malformed frames,
the session's life and the page's ``closed`` message. Nothing a page sends can raise out of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from ..bridges.web import FrameError, WebAudioBackend, WebLimits, framing
from ..errors import VoiceAgentError
from .avatar_relay import OfferHandler, relay_avatar
from .page_events import forward_to_page
from .settings import Choice, Hooks, ServeLimits, maybe_await

if TYPE_CHECKING:
    from ..audio.base import AudioBackend
    from ..session.session import VoiceAgentSession
    from .registry import Conversation

__all__ = ["PageSocket", "SessionMaker", "hold_conversation"]

log = logging.getLogger("voiceagent.serve")

POLICY_VIOLATION = 1008
_MAX_MALFORMED = 20


class PageSocket(Protocol):
    """The accepted WebSocket, as the framework adapter wraps it."""

    async def receive(self) -> bytes | str | None:
        """The next frame from the page; None once the socket is closed."""

    async def send(self, message: bytes | str) -> None:
        """Send a frame to the page (binary for bytes, text for str)."""

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket (safe twice)."""


class SessionMaker(Protocol):
    """What builds the sessions: a :class:`~voiceagent.SessionFactory` (or the same method)."""

    def create(self, *, audio: AudioBackend, **kwargs: Any) -> VoiceAgentSession:
        """A new, unstarted session on ``audio``."""


class _RateLimit:
    """A token bucket: ``rate`` messages a second, ``rate * burst`` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.capacity = rate, rate * burst
        self.tokens, self.at = self.capacity, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


async def _write(socket: PageSocket, page: WebAudioBackend) -> None:
    while (message := await page.next_outgoing()) is not None:
        await socket.send(message)


async def _read(
    socket: PageSocket,
    page: WebAudioBackend,
    limits: ServeLimits,
    avatar_offer: OfferHandler | None = None,
) -> str:
    """Feed the page's frames to the bridge until the socket closes or the page breaks a limit.

    Returns why it stopped; a closed socket has already been reported to the bridge (and so to
    the session) with :meth:`~WebAudioBackend.peer_closed`.
    """
    rate = _RateLimit(limits.messages_per_second, limits.burst_seconds)
    malformed = 0
    while (message := await socket.receive()) is not None:
        if not rate.take():
            page.send_control(
                framing.error_message(
                    f"too many messages: at most {limits.messages_per_second:g} a second"
                )
            )
            return "the page sent too many messages"
        try:
            if isinstance(message, bytes):
                page.receive_binary(message)
            elif len(message) > limits.max_frame_bytes:
                raise FrameError(f"a text frame may be at most {limits.max_frame_bytes} bytes")
            elif avatar_offer is None or not await avatar_offer(message):
                page.receive_text(message)
        except FrameError as exc:
            malformed += 1
            page.send_control(framing.error_message(str(exc)))
            if malformed >= _MAX_MALFORMED:
                return "the page sent too many malformed frames"
    page.peer_closed("the tab closed")
    return "the tab closed"


def _describe(exc: BaseException) -> str:
    # the library's messages name the problem without secrets; anything else stays in the log
    if isinstance(exc, VoiceAgentError):
        return f"the voice service session failed: {exc}"
    return "the voice service session failed (see the server's log)"


async def hold_conversation(
    socket: PageSocket,
    maker: SessionMaker,
    *,
    request: Any = None,
    hooks: Hooks | None = None,
    limits: ServeLimits | None = None,
    conversation: Conversation | None = None,
) -> str:
    """Drive one conversation until the tab closes, the session ends or a limit is hit.

    ``conversation`` is its entry in the server's registry (which may end it: idle, too long).

    Returns:
        Why the conversation ended (also sent to the page as ``closed {reason}``).
    """
    hooks, limits = hooks or Hooks(), limits or ServeLimits()
    page = WebAudioBackend(WebLimits(max_frame_bytes=limits.max_frame_bytes))
    writer = asyncio.ensure_future(_write(socket, page))
    page.send_control(framing.state_message("connecting"))
    reason = "the conversation ended"
    session: VoiceAgentSession | None = None
    try:
        choice = await maybe_await(hooks.choose(request)) if hooks.choose else None
        choice = choice or Choice()
        kwargs: dict[str, Any] = {}
        if choice.agent is not None:
            kwargs["agent"] = choice.agent
        if choice.options is not None:
            kwargs["options"] = choice.options
        session = maker.create(audio=page, **kwargs)
        if conversation is not None:
            conversation.attach(session)
        forward_to_page(session, page)
        avatar_offer = relay_avatar(session, page)
        if hooks.observe is not None:
            await maybe_await(hooks.observe(request, session))
        reason = await _converse(socket, page, session, limits, avatar_offer)
        if conversation is not None and conversation.end_reason is not None:
            reason = conversation.end_reason
    except asyncio.CancelledError:
        reason = "the server is shutting down"
        raise
    except Exception as exc:  # one tab's failure never reaches the server or another tab
        log.warning("conversation failed: %s", type(exc).__name__, exc_info=True)
        page.send_control(framing.error_message(_describe(exc)))
        reason = "the voice service session failed"
    finally:
        if session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.aclose(), 10)
        page.send_control(framing.closed_message(reason))
        page.finish()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, 5)
        writer.cancel()
        with contextlib.suppress(Exception):
            await socket.close(1000, reason[:120])
    return reason


async def _converse(
    socket: PageSocket,
    page: WebAudioBackend,
    session: VoiceAgentSession,
    limits: ServeLimits,
    avatar_offer: OfferHandler | None = None,
) -> str:
    reader = asyncio.ensure_future(_read(socket, page, limits, avatar_offer))
    deadline = time.monotonic() + limits.max_conversation_s
    try:
        starting = asyncio.ensure_future(session.start())
        done, _ = await asyncio.wait(
            {reader, starting}, timeout=limits.max_conversation_s, return_when="FIRST_COMPLETED"
        )
        if reader in done:
            with contextlib.suppress(Exception):
                await starting
            return reader.result()
        if starting not in done:
            starting.cancel()
            return "the conversation reached its time limit"
        starting.result()  # raises if the session could not start
        remaining = max(0.0, deadline - time.monotonic())
        ended = asyncio.ensure_future(session.wait_closed())
        done, _ = await asyncio.wait(
            {reader, ended}, timeout=remaining, return_when="FIRST_COMPLETED"
        )
        if reader in done:
            ended.cancel()
            return reader.result()
        if ended in done:
            ended.result()
            return "the session closed"
        ended.cancel()
        return "the conversation reached its time limit"
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
