"""What ``voiceagent.serve`` can be told: limits, allowed origins and the application's hooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import AgentConfig, ClassicAgentConfig, SessionOptions
    from ..session.session import VoiceAgentSession

__all__ = ["Choice", "Hooks", "ServeLimits"]


@dataclass(frozen=True)
class ServeLimits:
    """Bounds per conversation and per process; every one is checked on the server.

    Attributes:
        max_frame_bytes: Largest frame the page may send (default 1 s of PCM16 24 kHz audio).
        messages_per_second: Frames per second a page may send, averaged over
            ``burst_seconds`` (the page sends 50 audio frames and a few reports a second).
        burst_seconds: The window of the message-rate limit.
        max_conversation_s: A conversation is ended (``closed {reason}``) after this long.
        max_conversations: Conversations held at once; past it an upgrade gets 503.
        allowed_origins: Origins (``https://app.example.com``) allowed besides the page's own.
    """

    max_frame_bytes: int = 48_000
    messages_per_second: float = 120.0
    burst_seconds: float = 2.0
    max_conversation_s: float = 3600.0
    max_conversations: int = 50
    allowed_origins: Sequence[str] = ()


@dataclass(frozen=True)
class Choice:
    """What one conversation talks to: the agent and options for this user (None: defaults)."""

    agent: AgentConfig | ClassicAgentConfig | None = None
    options: SessionOptions | None = None


Authorize = Callable[[Any], Awaitable[bool] | bool]
"""``authorize(request) -> bool``: accept the upgrade (a cookie, a bearer token, a signed link)."""
Choose = Callable[[Any], Awaitable[Choice | None] | Choice | None]
"""``choose(request) -> Choice | None``: the agent/options for this user."""
Observe = Callable[[Any, "VoiceAgentSession"], Awaitable[None] | None]
"""``observe(request, session)``: subscribe to the session's events before it starts."""


@dataclass(frozen=True)
class Hooks:
    """The application's say in each conversation; ``request`` is the framework's request.

    Attributes:
        authorize: None accepts every same-origin upgrade (fine on loopback only).
        choose: None uses the factory's agent and options.
        observe: None adds no subscriber.
    """

    authorize: Authorize | None = None
    choose: Choose | None = None
    observe: Observe | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def maybe_await(value: Any) -> Any:
    """The value, awaited when a hook returned an awaitable."""
    if isinstance(value, Awaitable):
        return await value
    return value
