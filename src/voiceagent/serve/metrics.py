"""``GET /metrics``: the server's conversations in Prometheus' text format (``prometheus-client``).

Each app has its own :class:`~prometheus_client.CollectorRegistry` (several apps, or tests, in
one process never share counters). The figures come from the conversation registry (admitted,
refused, released) and from each session's library events, subscribed through its public
``on()``: ``voiceagent.metrics`` (turn latencies), ``voiceagent.tool_call``,
``voiceagent.reconnecting``, ``voiceagent.closed`` and the service's ``error`` events.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..events import field_of
from .health import loop_monitor, operator_allowed, refuse_operator
from .registry import Conversation, SessionRegistry

__all__ = ["METRICS_MISSING", "ServeMetrics", "add_metrics_route", "serve_metrics"]

_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class ServeMetrics:
    """The Prometheus collectors of one app, fed by its registry and its sessions' events.

    Raises:
        ImportError: ``prometheus-client`` is not installed (``pip install voiceagent[serve]``).
    """

    def __init__(self, registry: SessionRegistry) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.collectors = CollectorRegistry()
        r = self.collectors
        self.live = Gauge(
            "voiceagent_sessions_live", "Conversations live now", ["channel"], registry=r
        )
        self.conversations = Counter(
            "voiceagent_conversations", "Conversations admitted", ["channel"], registry=r
        )
        self.refusals = Counter(
            "voiceagent_refusals",
            "Conversations refused (full or draining)",
            ["channel"],
            registry=r,
        )
        self.reconnects = Counter(
            "voiceagent_reconnects", "Voice Live reconnect attempts", ["channel"], registry=r
        )
        self.errors = Counter(
            "voiceagent_errors", "Errors reported by the service, by code", ["code"], registry=r
        )
        self.close_codes = Counter(
            "voiceagent_voicelive_close_codes",
            "Voice Live connections dropped, by WebSocket close code",
            ["code"],
            registry=r,
        )
        self.sessions_failed = Counter(
            "voiceagent_sessions_failed", "Sessions that closed on an error", ["error"], registry=r
        )

        def histogram(name: str, text: str, labels: tuple[str, ...] = ()) -> Histogram:
            return Histogram(name, text, list(labels), buckets=_LATENCY_BUCKETS, registry=r)

        self.first_audio = histogram(
            "voiceagent_time_to_first_audio_seconds", "End of user speech to first audio played"
        )
        self.turn_latency = histogram(
            "voiceagent_turn_latency_seconds", "End of user speech to first audio received"
        )
        self.barge_in = histogram(
            "voiceagent_barge_in_silence_seconds", "User speech over the agent to playback silent"
        )
        self.tool_latency = histogram(
            "voiceagent_tool_latency_seconds", "Tool calls the library ran", ("tool", "outcome")
        )
        self.loop_lag = Histogram(
            "voiceagent_event_loop_lag_seconds",
            "How late the event loop ran a periodic wake-up",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        registry.listeners.append(self._on_registry)

    def _on_registry(self, what: str, conversation: Conversation | None, channel: str) -> None:
        if what == "refused":
            self.refusals.labels(channel).inc()
        elif what == "admitted":
            self.conversations.labels(channel).inc()
            self.live.labels(channel).inc()
        elif what == "released":
            self.live.labels(channel).dec()
        elif what == "attached" and conversation is not None:
            self._subscribe(conversation)

    def _subscribe(self, conversation: Conversation) -> None:
        session, channel = conversation.session, conversation.channel
        if session is None:
            return

        def turn(event: Any) -> None:
            for value, histogram in (
                (event.first_audio_played_ms, self.first_audio),
                (event.first_audio_received_ms, self.turn_latency),
                (event.barge_in_reaction_ms, self.barge_in),
            ):
                if value is not None:
                    histogram.observe(value / 1000)

        def tool(event: Any) -> None:
            self.tool_latency.labels(event.name, event.outcome).observe(event.duration_ms / 1000)

        def reconnecting(event: Any) -> None:
            self.reconnects.labels(channel).inc()
            code = event.close_code
            self.close_codes.labels("none" if code is None else str(code)).inc()

        def error(event: Any) -> None:
            code = field_of(event, "error", "code") or field_of(event, "error", "type")
            self.errors.labels(str(code or "unknown")).inc()

        def closed(event: Any) -> None:
            if event.error is not None:
                self.sessions_failed.labels(type(event.error).__name__).inc()

        # plain functions: counted inline, before any later subscriber sees the event
        session.on("voiceagent.metrics", turn)
        session.on("voiceagent.tool_call", tool)
        session.on("voiceagent.reconnecting", reconnecting)
        session.on("voiceagent.closed", closed)
        session.on("error", error)

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.collectors), CONTENT_TYPE_LATEST


METRICS_MISSING = "metrics need prometheus-client: pip install 'voiceagent[serve]'\n"
"""The body of the 501 ``/metrics`` answers when ``prometheus-client`` is not installed."""


def serve_metrics(registry: SessionRegistry) -> ServeMetrics | None:
    """The collectors fed by ``registry``; None when ``prometheus-client`` is missing."""
    try:
        return ServeMetrics(registry)
    except ImportError:
        return None


def add_metrics_route(
    app: web.Application, registry: SessionRegistry, *, operator_token: str | None = None
) -> ServeMetrics | None:
    """Add ``GET /metrics``; None (and a 501 route) when ``prometheus-client`` is missing."""
    metrics = serve_metrics(registry)
    if metrics is None:

        async def missing(_request: web.Request) -> web.Response:
            return web.Response(status=501, text=METRICS_MISSING)

        app.router.add_get("/metrics", missing)
        return None
    loop_monitor(app).listeners.append(metrics.loop_lag.observe)

    async def scrape(request: web.Request) -> web.Response:
        if not operator_allowed(request.headers.get("Authorization"), operator_token):
            raise refuse_operator()
        body, content_type = metrics.render()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    app.router.add_get("/metrics", scrape)
    return metrics
