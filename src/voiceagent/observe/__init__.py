"""Observers of a session: metrics (always on) and OpenTelemetry tracing (opt-in).

They subscribe to the session's events from outside and never branch inside the core. See
``docs/metrics.md``.
"""

from .metrics import FIGURES, MetricsCollector, SessionMetrics, percentile

__all__ = ["FIGURES", "MetricsCollector", "SessionMetrics", "percentile"]
