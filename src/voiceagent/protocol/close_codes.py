"""WebSocket close codes and how the SDK disguises them."""

from __future__ import annotations

__all__ = ["ABNORMAL_CLOSURE", "NO_CLOSE_FRAME_REASON", "RECOVERABLE_CLOSE_CODES"]

ABNORMAL_CLOSURE = 1006
"""The code for a socket that dropped with no close frame (never sent in a frame)."""

RECOVERABLE_CLOSE_CODES: frozenset[int] = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})
"""Close codes after which reconnecting makes sense (going away, no status, abnormal, server
error, restart, try again later, TLS failure)."""

NO_CLOSE_FRAME_REASON = "Connection closed"
"""The reason azure-ai-voicelive (1.3.x) gives in ``ConnectionClosed(1000, ...)`` when aiohttp saw
no close frame (EOF or a transport error). A real close frame always arrives with reason ``""``,
so a 1000 with this reason is really a 1006."""
