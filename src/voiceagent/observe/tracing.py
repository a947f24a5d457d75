"""Opt-in OpenTelemetry spans of a session, from its events (never from inside the core).

:func:`trace_session` subscribes to a session and records:

* ``voiceagent.session``: from the first ``voiceagent.session_ready`` to ``voiceagent.closed``
  (session and conversation ids, mode, voice, counts of turns, barge-ins and reconnects);
* ``voiceagent.turn``: one per turn, with the figures of its ``voiceagent.metrics`` event;
* ``voiceagent.barge_in``: heard/received ms, whether the library cancelled and truncated;
* ``voiceagent.reconnect``: from ``voiceagent.reconnecting`` to ``voiceagent.reconnected``;
* ``voiceagent.tool_call``: name, call id, outcome and duration of each tool the library ran.

No secrets ever (keys, tokens and URLs are not attributes), and no transcript text unless
``record_text=True``. The SDK's own spans (connect, send) are switched on separately with
:func:`voiceagent.voicelive.telemetry.instrument_sdk`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..events import (
    BargeIn,
    Reconnected,
    Reconnecting,
    SessionClosed,
    SessionReady,
    ToolCallFinished,
    TurnLogged,
    TurnMetrics,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from ..session.session import VoiceAgentSession

__all__ = ["SessionTracer", "trace_session"]

_SCOPE = "voiceagent"


def _epoch_ns(monotonic_s: float) -> int:
    """A ``time.monotonic()`` instant as the epoch nanoseconds OpenTelemetry wants."""
    return time.time_ns() - int((time.monotonic() - monotonic_s) * 1e9)


class SessionTracer:
    """The spans of one session (see the module docstring); made by :func:`trace_session`."""

    def __init__(self, session: VoiceAgentSession, tracer: Tracer, *, record_text: bool) -> None:
        self._tracer = tracer
        self._record_text = record_text
        self._mode = "model" if _model_mode(session) else "agent"
        self._session_span: Span | None = None
        self._turn: Span | None = None
        self._reconnect: Span | None = None
        self._counts = {"turns": 0, "barge_ins": 0, "reconnects": 0, "tool_calls": 0}
        on = session.on
        on("voiceagent.session_ready", self._ready)
        on("input_audio_buffer.speech_stopped", self._turn_start)
        on("response.created", self._response_created)
        on("voiceagent.metrics", self._turn_end)
        on("voiceagent.turn", self._turn_text)
        on("voiceagent.barge_in", self._barge_in)
        on("voiceagent.reconnecting", self._reconnecting)
        on("voiceagent.reconnected", self._reconnected)
        on("voiceagent.tool_call", self._tool_call)
        on("voiceagent.closed", self._closed)

    def _context(self) -> Any:
        from opentelemetry import trace

        parent = self._turn or self._session_span
        return trace.set_span_in_context(parent) if parent is not None else None

    # --- session and reconnects ----------------------------------------------------------

    def _ready(self, event: SessionReady) -> None:
        if self._session_span is None:
            self._session_span = self._tracer.start_span(
                "voiceagent.session", attributes={"voiceagent.mode": self._mode}
            )
        span = self._session_span
        for key, value in (
            ("gen_ai.voice.session_id", event.session_id),
            ("gen_ai.conversation.id", event.conversation_id),
            ("gen_ai.agent.name", event.agent.name if event.agent else None),
            ("voiceagent.voice", event.voice),
        ):
            if value is not None:
                span.set_attribute(key, value)

    def _reconnecting(self, event: Reconnecting) -> None:
        if self._reconnect is None:
            self._counts["reconnects"] += 1
            self._reconnect = self._tracer.start_span(
                "voiceagent.reconnect", context=self._session_context()
            )
        span = self._reconnect
        span.set_attribute("voiceagent.reconnect.attempt", event.attempt)
        if event.close_code is not None:
            span.set_attribute("voiceagent.reconnect.close_code", event.close_code)

    def _reconnected(self, event: Reconnected) -> None:
        if self._reconnect is not None:
            self._reconnect.set_attribute("voiceagent.reconnect.attempts", event.attempt)
            self._reconnect.end()
            self._reconnect = None

    def _session_context(self) -> Any:
        from opentelemetry import trace

        span = self._session_span
        return trace.set_span_in_context(span) if span is not None else None

    # --- turns ---------------------------------------------------------------------------

    def _turn_start(self, event: Any) -> None:
        if self._turn is None:
            self._counts["turns"] += 1
            self._turn = self._tracer.start_span("voiceagent.turn", context=self._session_context())

    def _response_created(self, event: Any) -> None:
        self._turn_start(event)  # a turn no speech began (greeting, typed text)

    def _turn_end(self, event: TurnMetrics) -> None:
        span = self._turn
        if span is None:
            return
        span.set_attribute("voiceagent.turn.number", event.turn)
        span.set_attribute("voiceagent.turn.interrupted", event.interrupted)
        for name in (
            "first_audio_received_ms",
            "first_audio_played_ms",
            "barge_in_reaction_ms",
            "truncated_at_ms",
            "underruns",
            "item_id",
            "response_id",
        ):
            value = getattr(event, name)
            if value is not None:
                span.set_attribute(f"voiceagent.turn.{name}", value)
        span.set_attribute("voiceagent.turn.tool_calls", len(event.tool_durations_ms))
        span.end()
        self._turn = None

    def _turn_text(self, event: TurnLogged) -> None:
        if self._record_text and self._turn is not None:
            self._turn.set_attribute(f"voiceagent.turn.{event.role}_text", event.text)

    def _barge_in(self, event: BargeIn) -> None:
        self._counts["barge_ins"] += 1
        attributes: dict[str, Any] = {
            "voiceagent.barge_in.played_ms": event.played_ms,
            "voiceagent.barge_in.received_ms": event.received_ms,
            "voiceagent.barge_in.response_cancelled": event.response_cancelled,
            "voiceagent.barge_in.truncated": event.truncated,
        }
        if event.item_id is not None:
            attributes["voiceagent.barge_in.item_id"] = event.item_id
        if self._record_text:
            attributes["voiceagent.barge_in.heard_text"] = event.heard_text
        self._tracer.start_span(
            "voiceagent.barge_in", context=self._context(), attributes=attributes
        ).end()

    def _tool_call(self, event: ToolCallFinished) -> None:
        self._counts["tool_calls"] += 1
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": event.name,
            "gen_ai.tool.call.id": event.call_id,
            "voiceagent.tool.outcome": event.outcome,
            "voiceagent.tool.duration_ms": round(event.duration_ms, 1),
        }
        if event.error is not None and self._record_text:
            attributes["voiceagent.tool.error"] = event.error
        span = self._tracer.start_span(
            "voiceagent.tool_call",
            context=self._context(),
            attributes=attributes,
            start_time=_epoch_ns(event.started_at),
        )
        if event.outcome != "ok":
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, event.outcome))
        span.end()

    def _closed(self, event: SessionClosed) -> None:
        for span in (self._turn, self._reconnect):
            if span is not None:
                span.end()
        self._turn = self._reconnect = None
        span = self._session_span
        if span is None:
            return
        for key, value in self._counts.items():
            span.set_attribute(f"voiceagent.session.{key}", value)
        if event.error is not None:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, type(event.error).__name__))
        span.end()
        self._session_span = None


def _model_mode(session: VoiceAgentSession) -> bool:
    return getattr(session, "_agent_config", None) is None


def trace_session(
    session: VoiceAgentSession,
    *,
    tracer_provider: TracerProvider | None = None,
    record_text: bool = False,
) -> SessionTracer:
    """Record OpenTelemetry spans of ``session`` (call it before ``start()``).

    Args:
        session: The session to trace.
        tracer_provider: Where spans go; the global provider by default.
        record_text: Also record transcripts (what the user said, what they heard) and tool
            error messages. Off by default: they are personal data.

    Raises:
        ImportError: OpenTelemetry is missing (``pip install 'voiceagent[tracing]'``).
    """
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ImportError(
            f"tracing needs OpenTelemetry: pip install 'voiceagent[tracing]' ({exc})"
        ) from exc
    tracer = trace.get_tracer(_SCOPE, tracer_provider=tracer_provider)
    return SessionTracer(session, tracer, record_text=record_text)
