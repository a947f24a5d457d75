"""Event names a handler can subscribe to, and the library's own events.

Two families share one namespace:

* **Server events**: every ``type`` of the SDK's ``ServerEventType`` enum (``"session.updated"``,
  ``"response.audio.delta"``, ...). Handlers receive the SDK's typed event objects.
* **Library events**: what the session itself observes (ready, barge-in, playback finished,
  reconnecting, a turn logged, a handler error, closed). They are named ``"voiceagent.*"``, a
  prefix the service never uses, so the two families cannot collide. Handlers receive the frozen
  dataclasses below, each with a ``type`` attribute like the server events.

Patterns: ``"*"`` matches every event; ``"response.*"`` matches every name starting with
``"response."``. :func:`check_event_name` rejects an unknown name at registration with the
closest known name, so a typo fails at once instead of never firing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from .protocol.names import SERVER_EVENT_TYPES

__all__ = [
    "LIBRARY_EVENT_TYPES",
    "SERVER_EVENT_TYPES",
    "AgentInfo",
    "BargeIn",
    "DtmfReceived",
    "HandlerFailed",
    "LibraryEvent",
    "PlaybackFinished",
    "ProtocolViolation",
    "Reconnected",
    "Reconnecting",
    "SessionClosed",
    "SessionReady",
    "ToolCallFinished",
    "TurnLogged",
    "TurnMetrics",
    "check_event_name",
    "field_of",
]


@dataclass(frozen=True)
class AgentInfo:
    """The Foundry agent the service reports in ``session.updated`` (agent mode only)."""

    name: str | None = None
    description: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class LibraryEvent:
    """Base of the library's own events."""

    type: ClassVar[str]


@dataclass(frozen=True)
class SessionReady(LibraryEvent):
    """The service confirmed the configuration (first ``session.updated``); audio is flowing.

    Sent once per connection: again after a reconnect, with ``reconnected=True``.
    """

    type: ClassVar[str] = "voiceagent.session_ready"
    session_id: str | None
    conversation_id: str | None
    agent: AgentInfo | None
    voice: str | None
    reconnected: bool = False


@dataclass(frozen=True)
class BargeIn(LibraryEvent):
    """The user spoke over the agent: its queued audio was dropped.

    Attributes:
        item_id: The assistant item that was playing, if any.
        played_ms: Milliseconds of that item the user actually heard.
        received_ms: Milliseconds of that item received from the service so far.
        response_cancelled: Whether the library sent ``response.cancel``.
        truncated: Whether the library sent ``conversation.item.truncate``.
        heard_text: The part of the agent's transcript the user heard (estimated in proportion
            to the audio heard, cut at a word boundary).
    """

    type: ClassVar[str] = "voiceagent.barge_in"
    item_id: str | None
    played_ms: int
    received_ms: int
    response_cancelled: bool
    truncated: bool
    heard_text: str = ""


@dataclass(frozen=True)
class PlaybackFinished(LibraryEvent):
    """Everything the agent said so far has been played to the user."""

    type: ClassVar[str] = "voiceagent.playback_finished"
    item_id: str | None


@dataclass(frozen=True)
class Reconnecting(LibraryEvent):
    """The connection dropped with a recoverable code; the session will retry after ``delay_s``."""

    type: ClassVar[str] = "voiceagent.reconnecting"
    attempt: int
    delay_s: float
    close_code: int | None
    reason: str


@dataclass(frozen=True)
class Reconnected(LibraryEvent):
    """A new connection is up, resuming ``conversation_id`` when the service supports it."""

    type: ClassVar[str] = "voiceagent.reconnected"
    attempt: int
    conversation_id: str | None


@dataclass(frozen=True)
class TurnLogged(LibraryEvent):
    """A finished turn was added to the conversation log.

    Attributes:
        role: ``"user"`` or ``"assistant"``.
        text: What the user said (transcribed) or what the user heard of the agent.
        item_id: The conversation item.
        interrupted: True when the user cut the agent off; ``text`` is then the heard part and
            ``full_text`` what the agent would have said.
    """

    type: ClassVar[str] = "voiceagent.turn"
    role: Literal["user", "assistant"]
    text: str
    item_id: str | None
    interrupted: bool = False
    full_text: str | None = None


@dataclass(frozen=True)
class HandlerFailed(LibraryEvent):
    """A user handler raised; the session logged it and carried on."""

    type: ClassVar[str] = "voiceagent.handler_error"
    event_type: str
    handler_name: str
    error: BaseException = field(compare=False)


@dataclass(frozen=True)
class ProtocolViolation(LibraryEvent):
    """The service sent a frame the session could not use; it was skipped, the session goes on.

    Attributes:
        event_type: The frame's ``type`` when it had one.
        problem: What was wrong (e.g. ``"not JSON"``, ``"'delta' is missing"``).
        excerpt: The start of the frame, with secrets redacted.
    """

    type: ClassVar[str] = "voiceagent.protocol_error"
    event_type: str | None
    problem: str
    excerpt: str


@dataclass(frozen=True)
class SessionClosed(LibraryEvent):
    """The session has closed; ``error`` says why when it was not asked to.

    ``error`` is always a :class:`~voiceagent.VoiceAgentError` (its cause chained) or None when
    the app closed the session (or the audio backend's peer went away).

    Attributes:
        error: What closed the session, when it failed (None after ``aclose()`` or a hang-up).
        reason: Why the audio backend closed it (``AudioListener.on_closed``: a closed tab, a
            caller who hung up), or the audio error's message (``on_error``); "" otherwise.
    """

    type: ClassVar[str] = "voiceagent.closed"
    error: BaseException | None = field(default=None, compare=False)
    reason: str = ""


@dataclass(frozen=True)
class DtmfReceived(LibraryEvent):
    """The caller pressed a key on the phone's keypad (telephony bridges).

    Published by the layer that attaches a telephony backend to the session
    (``voiceagent.bridges.telephony``); one event per key press.

    Attributes:
        digit: ``"0"``-``"9"``, ``"*"``, ``"#"`` (or ``"A"``-``"D"`` where the carrier passes them).
    """

    type: ClassVar[str] = "voiceagent.dtmf"
    digit: str


@dataclass(frozen=True)
class ToolCallFinished(LibraryEvent):
    """A tool the library ran for the model has finished (``@session.tool``, ``tools=``).

    Attributes:
        name: The tool's name.
        call_id: The model's ``call_id``.
        response_id: The response that carried the call.
        outcome: ``"ok"``, ``"error"`` (it raised), ``"timeout"``, ``"invalid_arguments"`` or
            ``"cancelled"`` (the user spoke, the response was cancelled or the session closed).
        duration_ms: From the start of the call to its end, in milliseconds.
        error: What the model was told when the outcome is not ``"ok"``.
        started_at: ``time.monotonic()`` when the call started.
    """

    type: ClassVar[str] = "voiceagent.tool_call"
    name: str
    call_id: str
    response_id: str | None
    outcome: Literal["ok", "error", "timeout", "invalid_arguments", "cancelled"]
    duration_ms: float
    error: str | None = None
    started_at: float = 0.0


@dataclass(frozen=True)
class TurnMetrics(LibraryEvent):
    """One turn's latency figures (``session.metrics`` keeps them all).

    A turn runs from the end of the user's speech (``input_audio_buffer.speech_stopped``), or
    from a response that no speech asked for (a greeting, a typed message), to the end of the
    agent's audio: played out, cut by the user, or cut by the close. Times are measured on the
    event loop when the session handles each event; ``None`` means "did not happen".

    Attributes:
        turn: 1 for the session's first turn, then 2, 3, ...
        user_item_id: The user's input item (speech turns).
        item_id: The first assistant item with audio.
        response_id: The response that carried that audio.
        first_audio_received_ms: Speech end -> first agent audio received from the service.
        first_audio_played_ms: Speech end -> first agent audio frame played by the backend
            (never earlier than received).
        barge_in_reaction_ms: The user started speaking over the agent -> playback silent,
            from the backend's counters (``stats.last_flush_silent_at`` for device backends,
            else the moment its played-frame count stopped growing).
        truncated_at_ms: Where the agent's audio was cut (ms of it the user heard).
        underruns: Times playback ran dry mid-item during the turn (backends with ``stats``).
        tool_durations_ms: ``(tool name, ms)`` of each tool the library ran in the turn.
        interrupted: The user cut the agent off.
    """

    type: ClassVar[str] = "voiceagent.metrics"
    turn: int
    user_item_id: str | None = None
    item_id: str | None = None
    response_id: str | None = None
    first_audio_received_ms: float | None = None
    first_audio_played_ms: float | None = None
    barge_in_reaction_ms: float | None = None
    truncated_at_ms: int | None = None
    underruns: int | None = None
    tool_durations_ms: tuple[tuple[str, float], ...] = ()
    interrupted: bool = False


LIBRARY_EVENT_TYPES: frozenset[str] = frozenset(
    cls.type
    for cls in (
        SessionReady,
        BargeIn,
        PlaybackFinished,
        Reconnecting,
        Reconnected,
        TurnLogged,
        HandlerFailed,
        ProtocolViolation,
        SessionClosed,
        ToolCallFinished,
        TurnMetrics,
        DtmfReceived,
    )
)
"""Every event type the library itself emits."""

_ALL = SERVER_EVENT_TYPES | LIBRARY_EVENT_TYPES


def field_of(event: Any, *path: str) -> Any:
    """``event.a.b`` for the SDK's typed events and plain mappings alike; None when missing.

    For subscribers (tools, metrics, tracing) that must not break on a field the service left
    out.
    """
    for name in path:
        if event is None:
            return None
        try:
            event = event[name]
        except (KeyError, TypeError, IndexError):
            event = getattr(event, name, None)
    return event


def check_event_name(name: str) -> str:
    """Validate an event name or pattern for registration and return it.

    Raises:
        ValueError: the name is neither a known event type, ``"*"``, nor a ``"prefix.*"``
            pattern matching at least one known type; the message names the closest match.
    """
    if name == "*" or name in _ALL:
        return name
    if name.endswith(".*"):
        prefix = name[:-1]
        if any(known.startswith(prefix) for known in _ALL):
            return name
        raise ValueError(f"event pattern {name!r} matches no known event type")
    close = difflib.get_close_matches(name, sorted(_ALL), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"unknown event type {name!r}{hint} "
        "(server event types come from azure.ai.voicelive.models.ServerEventType; "
        "the library's own start with 'voiceagent.')"
    )
