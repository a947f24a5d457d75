"""Fault injection settings: what an emulated connection does wrong on purpose."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["DEFAULT_GARBAGE_FRAMES", "Faults", "GarbageFrames"]

DEFAULT_GARBAGE_FRAMES: tuple[str | bytes, ...] = (
    "1",
    "null",
    "[]",
    '"x"',
    "",
    b"\x00",
    '{"type":"response.audio.delta"}',
    '{"type":"response.audio.delta","delta":5}',
    '{"type":"response.done","response":null}',
    '{"type":"response.done","response":{"status":7,"output":"x"}}',
    '{"type":"session.updated","session":"x"}',
    '{"type":"conversation.item.created","item":[]}',
    '{"type":"response.audio_transcript.delta","delta":null}',
    '{"type":"error","error":null}',
    '{"type":7}',
    '{"no_type":true}',
)
"""Malformed frames a real client must survive: JSON that is not an object (``1``, ``null``,
``[]``, ``"x"``), an empty text frame (the SDK reports it as a drop), a 1-byte binary frame, and
known event types with missing or mistyped fields (the SDK parses them without complaint and
fails only when a field is used)."""


@dataclass(frozen=True)
class Faults:
    """Faults a connection injects, counted in server events sent on that connection.

    Counts include ``session.created`` and events injected with ``send_event``, but not the
    frames the faults themselves inject (nor frames sent with ``inject``).

    A connection copies the emulator's ``faults`` when it opens, so changing
    ``Emulator.faults`` affects only connections opened afterwards. ``None`` means no faults.

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
        garbage_every: After every this many events, send one malformed frame picked from
            ``garbage_frames``. ``None`` disables it.
        garbage_frames: The frames to pick from (``str``: a text frame, ``bytes``: a binary
            frame), sent exactly as given.
        garbage_seed: Seed of the pick: every connection with the same faults sends the same
            sequence of frames.
    """

    drop_after_events: int | None = None
    drop_code: int = 1006
    drop_mid_response: bool = False
    delay_ms: float = 0
    malformed_json_after: int | None = None
    unknown_event_after: int | None = None
    error_after: int | None = None
    garbage_every: int | None = None
    garbage_frames: tuple[str | bytes, ...] = DEFAULT_GARBAGE_FRAMES
    garbage_seed: int = 0

    def __post_init__(self) -> None:
        if self.garbage_every is not None and self.garbage_every < 1:
            raise ValueError("garbage_every must be at least 1")
        if self.garbage_every is not None and not self.garbage_frames:
            raise ValueError("garbage_frames must not be empty")


class GarbageFrames:
    """The deterministic sequence of malformed frames one connection interleaves.

    Args:
        faults: The connection's faults (``garbage_every``, ``garbage_frames``,
            ``garbage_seed``).
    """

    def __init__(self, faults: Faults) -> None:
        self._every = faults.garbage_every
        self._frames = faults.garbage_frames
        self._random = random.Random(faults.garbage_seed)

    def after(self, events_sent: int) -> str | bytes | None:
        """The frame to send after the ``events_sent``-th event, or ``None``."""
        if self._every is None or events_sent % self._every != 0:
            return None
        return self._frames[self._random.randrange(len(self._frames))]
