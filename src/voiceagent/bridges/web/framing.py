"""The wire between the page and the server: what each side may send, checked on arrival.

Binary WebSocket frames carry audio, PCM16 little-endian mono at 24 kHz, both ways. Text frames
are JSON objects with a ``type``:

To the page: ``audio {item_id}`` (the binary frames that follow belong to this assistant item),
``clear {seq}`` (barge-in: drop everything queued now), ``caption {role, item_id, text, final,
interrupted}``, ``state {state}``, ``error {message}``, ``closed {reason}``.

From the page: ``hello {sample_rate}``, ``played {seq, frames: {item_id: n}, received, idle}``
(cumulative frames the playback worklet output per item; since the last ``clear`` it saw,
``seq``, the frames it was given and whether its queue is empty), ``cleared {seq, frames:
{item_id: n}}`` (the flush is done; the final counts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "SAMPLE_RATE",
    "FrameError",
    "PageMessage",
    "audio_message",
    "caption_message",
    "clear_message",
    "closed_message",
    "error_message",
    "parse_page_message",
    "state_message",
]

SAMPLE_RATE = 24000
"""Frames per second of the audio both ways (Voice Live's ``pcm16``)."""

PageState = Literal[
    "connecting", "listening", "user_speaking", "thinking", "agent_speaking", "reconnecting"
]

_MAX_ITEMS_PER_REPORT = 64
_MAX_ID_LENGTH = 128


class FrameError(ValueError):
    """A frame from the page that breaks the protocol; ``str()`` says what and how to fix it."""


@dataclass(frozen=True)
class PageMessage:
    """A checked control message from the page.

    Attributes:
        type: ``"hello"``, ``"played"`` or ``"cleared"``.
        frames: Cumulative frames played per assistant item (``played``, ``cleared``).
        received: Frames the page's player was given since the last clear (``played``).
        idle: The page's player queue is empty (``played``).
        seq: The last ``clear`` the page saw (``played``) or the one acknowledged (``cleared``).
        sample_rate: The page's capture rate (``hello``).
    """

    type: Literal["hello", "played", "cleared"]
    frames: dict[str, int] = field(default_factory=dict)
    received: int = 0
    idle: bool = False
    seq: int = 0
    sample_rate: int = SAMPLE_RATE


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FrameError(f"{what} must be a non-negative integer, got {value!r:.40}")
    return value


def _frames(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > _MAX_ITEMS_PER_REPORT:
        raise FrameError(
            f"'frames' must be an object of at most {_MAX_ITEMS_PER_REPORT} item ids to counts"
        )
    out: dict[str, int] = {}
    for key, count in value.items():
        if not key or len(key) > _MAX_ID_LENGTH:
            raise FrameError(f"an item id must be 1 to {_MAX_ID_LENGTH} characters")
        out[key] = _count(count, f"frames[{key[:40]!r}]")
    return out


def parse_page_message(text: str) -> PageMessage:
    """Parse and check one text frame from the page.

    Raises:
        FrameError: Not JSON, not an object, an unknown ``type`` or a field of the wrong kind.
    """
    try:
        data = json.loads(text)
    except ValueError:
        raise FrameError('a text frame must be a JSON object, e.g. {"type": "hello"}') from None
    if not isinstance(data, dict):
        raise FrameError("a text frame must be a JSON object with a 'type'")
    kind = data.get("type")
    if kind == "hello":
        rate = _count(data.get("sample_rate", SAMPLE_RATE), "sample_rate")
        if rate != SAMPLE_RATE:
            raise FrameError(f"the page must send PCM16 at {SAMPLE_RATE} Hz, not {rate} Hz")
        return PageMessage("hello", sample_rate=rate)
    if kind == "played":
        return PageMessage(
            "played",
            frames=_frames(data.get("frames")),
            received=_count(data.get("received", 0), "received"),
            idle=bool(data.get("idle", False)),
            seq=_count(data.get("seq", 0), "seq"),
        )
    if kind == "cleared":
        return PageMessage(
            "cleared", frames=_frames(data.get("frames")), seq=_count(data.get("seq", 0), "seq")
        )
    raise FrameError(
        f"unknown message type {str(kind)[:40]!r}: the page may send 'hello', 'played', 'cleared'"
    )


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def audio_message(item_id: str) -> str:
    """The binary frames after this one belong to assistant item ``item_id``."""
    return _dump({"type": "audio", "item_id": item_id})


def clear_message(seq: int) -> str:
    """Barge-in: the page drops its queued audio and answers ``cleared {seq}``."""
    return _dump({"type": "clear", "seq": seq})


def caption_message(
    role: str, item_id: str | None, text: str, *, final: bool = False, interrupted: bool = False
) -> str:
    """A caption: ``final=False`` appends ``text`` (a delta); ``final`` replaces the caption."""
    return _dump(
        {
            "type": "caption",
            "role": role,
            "item_id": item_id,
            "text": text,
            "final": final,
            "interrupted": interrupted,
        }
    )


def state_message(state: PageState) -> str:
    """What the conversation is doing, for the page's status line."""
    return _dump({"type": "state", "state": state})


def error_message(message: str) -> str:
    """Something the page sent was wrong, or the server failed; the text is for a person."""
    return _dump({"type": "error", "message": message})


def closed_message(reason: str) -> str:
    """The conversation is over (the server closes the socket next)."""
    return _dump({"type": "closed", "reason": reason})
