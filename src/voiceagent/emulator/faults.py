"""Fault injection settings: what an emulated connection does wrong on purpose."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Faults"]


@dataclass(frozen=True)
class Faults:
    """Faults a connection injects, counted in server events sent on that connection.

    Counts include ``session.created`` and events injected with ``send_event``, but not the
    frames the faults themselves inject.

    A connection copies the emulator's ``faults`` when it opens, so changing
    ``Emulator.faults`` affects only connections opened afterwards.

    Attributes:
        drop_after_events: Drop the connection right after this many server events
            (``session.created`` is event 1). ``None`` disables it.
        drop_code: How to drop: 1006 aborts the TCP connection without a close frame
            (1006 cannot be sent in a frame); any other code sends a close frame with it.
        drop_mid_response: Drop right after the first ``response.audio.delta`` of the first
            response on the connection.
        delay_ms: Extra latency before every server event, in milliseconds.
        malformed_json_after: Once, after this many events, send a frame that is not JSON.
        unknown_event_after: Once, after this many events, send an event of an unknown type
            (``emulator.unknown_event``).
        error_after: Once, after this many events, send an ``error`` event
            (type ``server_error``, code ``emulated_fault``).
    """

    drop_after_events: int | None = None
    drop_code: int = 1006
    drop_mid_response: bool = False
    delay_ms: float = 0
    malformed_json_after: int | None = None
    unknown_event_after: int | None = None
    error_after: int | None = None
