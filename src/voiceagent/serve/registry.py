"""The live conversations of one server, whatever their channel (browser, twilio, acs).

Every channel asks :meth:`SessionRegistry.admit` before it builds a session, so the
conversation past ``max_sessions`` (or any conversation while draining) is refused before a
Voice Live connection is opened. The registry also ends conversations that outlive
``max_duration_s`` or stay silent for ``idle_timeout_s`` (by closing their session, which tells
the service what the user heard), and feeds health, drain and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from ..session.session import VoiceAgentSession

__all__ = [
    "TOO_MANY_SESSIONS",
    "Conversation",
    "SessionRegistry",
    "find_registry",
    "install_registry",
]

log = logging.getLogger("voiceagent.serve")

TOO_MANY_SESSIONS = 4429
"""Close code for a refused conversation on an open socket (the call-center accelerator's)."""

# What counts as the conversation being alive: someone spoke or the agent answered.
_ACTIVITY_EVENTS = (
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "response.done",
)
_numbers = itertools.count(1)


@dataclass(eq=False)
class Conversation:
    """One admitted conversation: no personal data, only what an operator needs.

    Attributes:
        id: A server-local number (``c-17``), not the caller's or the service's id.
        channel: ``"browser"``, ``"twilio"``, ``"acs"``, ...
        started_at: ``time.monotonic()`` at admission.
        last_activity: ``time.monotonic()`` of the last speech or response.
        session: The conversation's session once built (None before).
        end_reason: Why the registry ended it (time limit, idle), None otherwise.
    """

    channel: str
    id: str = field(default_factory=lambda: f"c-{next(_numbers)}")
    started_at: float = field(default_factory=time.monotonic)
    last_activity: float = field(default_factory=time.monotonic)
    session: VoiceAgentSession | None = None
    end_reason: str | None = None
    on_attach: list[Callable[[Conversation], None]] = field(default_factory=list, repr=False)

    def touch(self) -> None:
        """Note activity now (resets the idle timer)."""
        self.last_activity = time.monotonic()

    def attach(self, session: VoiceAgentSession) -> None:
        """Bind the conversation's session: its speech and responses count as activity."""
        self.session = session
        self.touch()
        for event in _ACTIVITY_EVENTS:
            session.on(event, self._on_activity)
        for hook in self.on_attach:
            hook(self)

    async def _on_activity(self, _event: Any) -> None:
        self.touch()

    @property
    def state(self) -> str:
        """The session's lifecycle state (``"admitted"`` before the session exists)."""
        return "admitted" if self.session is None else self.session.state.value


Listener = Callable[[str, Conversation | None, str], None]
"""``listener(what, conversation, channel)``: admitted, attached, refused or released."""


class SessionRegistry:
    """Admission, limits and the list of live conversations, shared by every channel.

    Args:
        max_sessions: Conversations at once; the next one is refused.
        max_duration_s: A conversation is closed after this long (None: no limit).
        idle_timeout_s: A conversation with no speech and no response for this long is closed
            (None: no limit).

    Raises:
        ValueError: a limit is not positive.
    """

    def __init__(
        self,
        max_sessions: int = 50,
        *,
        max_duration_s: float | None = 3600.0,
        idle_timeout_s: float | None = None,
    ) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be at least 1, got {max_sessions}")
        for name, value in (("max_duration_s", max_duration_s), ("idle_timeout_s", idle_timeout_s)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive (or None for no limit), got {value}")
        self.max_sessions = max_sessions
        self.max_duration_s = max_duration_s
        self.idle_timeout_s = idle_timeout_s
        self.draining = False
        self.listeners: list[Listener] = []
        self._live: set[Conversation] = set()
        self._empty = asyncio.Event()
        self._empty.set()
        self._watchdog: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Future[None]] = set()

    @property
    def live(self) -> frozenset[Conversation]:
        """The conversations admitted and not yet released."""
        return frozenset(self._live)

    @property
    def ready(self) -> bool:
        """Whether a new conversation would be admitted now."""
        return not self.draining and len(self._live) < self.max_sessions

    def count_by_channel(self) -> dict[str, int]:
        """Live conversations per channel."""
        return dict(Counter(c.channel for c in self._live))

    def admit(self, channel: str) -> Conversation | None:
        """A new conversation on ``channel``, or None when full or draining (refuse it)."""
        if self.turn_away(channel):
            return None
        conversation = Conversation(channel)
        conversation.on_attach.append(lambda c: self._tell("attached", c, c.channel))
        self._live.add(conversation)
        self._empty.clear()
        self._start_watchdog()
        self._tell("admitted", conversation, channel)
        return conversation

    def turn_away(self, channel: str) -> bool:
        """Whether a new conversation on ``channel`` is refused now; if so, counted as refused.

        For a channel that can decline before the conversation exists: a carrier's webhook
        answers ``<Reject>`` or rejects the call instead of connecting a stream to refuse.
        """
        if self.ready:
            return False
        why = "draining" if self.draining else f"full ({self.max_sessions} live)"
        log.warning("refused a %s conversation: %s", channel, why)
        self._tell("refused", None, channel)
        return True

    def release(self, conversation: Conversation) -> None:
        """The conversation has ended (safe twice)."""
        if conversation not in self._live:
            return
        self._live.discard(conversation)
        if not self._live:
            self._empty.set()
        self._tell("released", conversation, conversation.channel)

    def start_drain(self) -> None:
        """Refuse every new conversation from now on; live ones go on."""
        self.draining = True

    async def wait_empty(self, timeout: float | None = None) -> bool:
        """Wait until no conversation is live; False if ``timeout`` passed first."""
        try:
            await asyncio.wait_for(self._empty.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close_all(self) -> None:
        """Close every live conversation's session, each telling the service what was heard."""
        from ..session.factory import close_sessions

        await close_sessions([c.session for c in self._live if c.session is not None])

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view: counts by channel, each conversation's age, state and idle time."""
        now = time.monotonic()
        return {
            "live": len(self._live),
            "max_sessions": self.max_sessions,
            "draining": self.draining,
            "by_channel": self.count_by_channel(),
            "conversations": [
                {
                    "id": c.id,
                    "channel": c.channel,
                    "state": c.state,
                    "age_s": round(now - c.started_at, 3),
                    "idle_s": round(now - c.last_activity, 3),
                }
                for c in sorted(self._live, key=lambda c: c.started_at)
            ],
        }

    async def aclose(self) -> None:
        """Stop the watchdog (the app is shutting down)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None

    def _tell(self, what: str, conversation: Conversation | None, channel: str) -> None:
        for listener in self.listeners:
            try:
                listener(what, conversation, channel)
            except Exception:  # a broken listener never refuses or keeps a conversation
                log.exception("a registry listener failed")

    def _start_watchdog(self) -> None:
        if self._watchdog is None and (self.max_duration_s or self.idle_timeout_s):
            self._watchdog = asyncio.ensure_future(self._watch())

    def _overdue(self, conversation: Conversation, now: float) -> str | None:
        if self.max_duration_s and now - conversation.started_at >= self.max_duration_s:
            return "the conversation reached its time limit"
        if self.idle_timeout_s and now - conversation.last_activity >= self.idle_timeout_s:
            return "the conversation was idle too long"
        return None

    async def _watch(self) -> None:
        limits = [v for v in (self.max_duration_s, self.idle_timeout_s) if v]
        tick = min(1.0, min(limits) / 4)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for conversation in list(self._live):
                reason = self._overdue(conversation, now)
                session = conversation.session
                if reason is None or session is None or conversation.end_reason is not None:
                    continue
                conversation.end_reason = reason
                log.info("ending conversation %s: %s", conversation.id, reason)
                closing = asyncio.ensure_future(session.aclose())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)


_REGISTRY: web.AppKey[SessionRegistry] = web.AppKey("voiceagent_registry", SessionRegistry)


def install_registry(app: web.Application, registry: SessionRegistry) -> SessionRegistry:
    """Make ``registry`` the one every channel of ``app`` admits through (once per app)."""
    existing = app.get(_REGISTRY)
    if existing is not None:
        return existing
    app[_REGISTRY] = registry

    async def stop(_app: web.Application) -> None:
        await registry.aclose()

    app.on_cleanup.append(stop)
    return registry


def find_registry(app: web.Application) -> SessionRegistry | None:
    """The registry installed on ``app`` (None: this app admits without one)."""
    return app.get(_REGISTRY)
