"""Twilio Media Streams wire format: pure functions, no I/O (one WebSocket text frame each).

From Twilio: ``connected``, ``start``, ``media``, ``dtmf``, ``mark``, ``stop`` (JSON text frames).
To Twilio: ``media``, ``mark``, ``clear`` (text frames only: a binary frame ends the stream with
error 31950). Audio is base64 G.711 u-law, 8 kHz mono, passed through untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import WireFormatError

__all__ = [
    "TwilioConnected",
    "TwilioDtmf",
    "TwilioMark",
    "TwilioMedia",
    "TwilioMessage",
    "TwilioStart",
    "TwilioStop",
    "encode_clear",
    "encode_mark",
    "encode_media",
    "parse_twilio",
]


@dataclass(frozen=True)
class TwilioConnected:
    """The first message: the protocol Twilio speaks on this socket."""

    protocol: str
    version: str


@dataclass(frozen=True)
class TwilioStart:
    """The stream's metadata; ``custom_parameters`` are the TwiML ``<Parameter>``s."""

    stream_sid: str
    call_sid: str
    account_sid: str
    encoding: str
    sample_rate: int
    channels: int
    tracks: tuple[str, ...] = ()
    custom_parameters: dict[str, str] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        # custom parameters carry the one-time stream token: never in a repr or a log
        return (
            f"TwilioStart(stream_sid={self.stream_sid!r}, call_sid={self.call_sid!r}, "
            f"encoding={self.encoding!r}, sample_rate={self.sample_rate}, "
            f"custom_parameters=<{len(self.custom_parameters)} hidden>)"
        )


@dataclass(frozen=True)
class TwilioMedia:
    """One chunk of the caller's audio (u-law bytes, usually 20 ms = 160 bytes)."""

    payload: bytes = field(repr=False)
    track: str = "inbound"
    chunk: int = 0
    timestamp_ms: int = 0


@dataclass(frozen=True)
class TwilioDtmf:
    """The caller pressed a key."""

    digit: str
    track: str = "inbound_track"


@dataclass(frozen=True)
class TwilioMark:
    """A mark of ours, echoed: the audio sent before it has played (or a clear dropped it)."""

    name: str


@dataclass(frozen=True)
class TwilioStop:
    """The stream ended (the caller hung up, or the call left the ``<Connect>``)."""

    call_sid: str | None = None


TwilioMessage = TwilioConnected | TwilioStart | TwilioMedia | TwilioDtmf | TwilioMark | TwilioStop
"""Every message Twilio sends on a Media Stream."""


def _obj(parent: dict[str, Any], key: str, event: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise WireFormatError(f"Twilio {event!r} message has no {key!r} object")
    return value


def _str(parent: dict[str, Any], key: str, event: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str):
        raise WireFormatError(f"Twilio {event!r} message: {key!r} must be a string, got {value!r}")
    return value


def _int(value: Any, key: str, event: str, default: int = 0) -> int:
    # Twilio sends chunk/timestamp/sampleRate as strings or numbers depending on the field
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WireFormatError(
            f"Twilio {event!r} message: {key!r} must be an integer, got {value!r}"
        ) from None


def parse_twilio(text: str | bytes) -> TwilioMessage:
    """Parse one text frame from Twilio.

    Raises:
        WireFormatError: Not JSON, an unknown ``event``, or a field missing or of the wrong
            type (the message says which).
    """
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireFormatError(f"Twilio frame is not JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise WireFormatError("Twilio frame must be a JSON object with an 'event' field")
    event = msg.get("event")
    if event == "media":
        media = _obj(msg, "media", "media")
        try:
            payload = base64.b64decode(_str(media, "payload", "media"), validate=True)
        except binascii.Error:
            raise WireFormatError("Twilio 'media' message: 'payload' is not base64") from None
        return TwilioMedia(
            payload,
            track=str(media.get("track", "inbound")),
            chunk=_int(media.get("chunk"), "chunk", "media"),
            timestamp_ms=_int(media.get("timestamp"), "timestamp", "media"),
        )
    if event == "mark":
        return TwilioMark(_str(_obj(msg, "mark", "mark"), "name", "mark"))
    if event == "dtmf":
        dtmf = _obj(msg, "dtmf", "dtmf")
        return TwilioDtmf(_str(dtmf, "digit", "dtmf"), str(dtmf.get("track", "inbound_track")))
    if event == "start":
        start = _obj(msg, "start", "start")
        fmt = _obj(start, "mediaFormat", "start")
        params = start.get("customParameters") or {}
        if not isinstance(params, dict):
            raise WireFormatError("Twilio 'start' message: 'customParameters' must be an object")
        return TwilioStart(
            stream_sid=str(start.get("streamSid") or _str(msg, "streamSid", "start")),
            call_sid=_str(start, "callSid", "start"),
            account_sid=str(start.get("accountSid", "")),
            encoding=_str(fmt, "encoding", "start"),
            sample_rate=_int(fmt.get("sampleRate"), "sampleRate", "start"),
            channels=_int(fmt.get("channels"), "channels", "start", default=1),
            tracks=tuple(str(t) for t in start.get("tracks", ())),
            custom_parameters={str(k): str(v) for k, v in params.items()},
        )
    if event == "connected":
        return TwilioConnected(str(msg.get("protocol", "")), str(msg.get("version", "")))
    if event == "stop":
        stop = msg.get("stop")
        call_sid = stop.get("callSid") if isinstance(stop, dict) else None
        return TwilioStop(call_sid if isinstance(call_sid, str) else None)
    raise WireFormatError(
        f"unknown Twilio event {event!r}: expected connected, start, media, dtmf, mark or stop"
    )


def encode_media(stream_sid: str, ulaw: bytes) -> str:
    """A ``media`` message carrying u-law audio to the caller."""
    payload = base64.b64encode(ulaw).decode("ascii")
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def encode_mark(stream_sid: str, name: str) -> str:
    """A ``mark``: Twilio echoes it once the audio sent before it has played."""
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def encode_clear(stream_sid: str) -> str:
    """A ``clear``: Twilio drops the audio it buffered and echoes the pending marks at once."""
    return json.dumps({"event": "clear", "streamSid": stream_sid})
