"""Azure Communication Services bidirectional media streaming: pure functions, no I/O.

From ACS (camelCase): ``AudioMetadata`` first, then ``AudioData`` (base64 PCM16 mono, 20 ms, with
a ``silent`` flag) and ``DtmfData``. To ACS (PascalCase): ``AudioData`` and ``StopAudio`` (drops
what ACS buffered for the caller). The rate is the one the call was answered with (16 or 24 kHz).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import WireFormatError

__all__ = [
    "AcsAudio",
    "AcsDtmf",
    "AcsMessage",
    "AcsMetadata",
    "encode_acs_audio",
    "encode_stop_audio",
    "parse_acs",
]


@dataclass(frozen=True)
class AcsMetadata:
    """The stream's format, sent once before any audio."""

    subscription_id: str
    encoding: str
    sample_rate: int
    channels: int
    length: int


@dataclass(frozen=True)
class AcsAudio:
    """One frame of the call's audio. ``silent`` frames may carry no data at all."""

    pcm: bytes = field(repr=False)
    silent: bool = False
    timestamp: str = ""
    participant_raw_id: str = ""


@dataclass(frozen=True)
class AcsDtmf:
    """The caller pressed a key."""

    digit: str


AcsMessage = AcsMetadata | AcsAudio | AcsDtmf
"""Every message ACS sends on a media stream that the bridge uses."""


def _obj(msg: dict[str, Any], key: str, kind: str) -> dict[str, Any]:
    value = msg.get(key)
    if not isinstance(value, dict):
        raise WireFormatError(f"ACS {kind!r} message has no {key!r} object")
    return value


def _int(value: Any, key: str, kind: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise WireFormatError(f"ACS {kind!r} message: {key!r} must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise WireFormatError(
            f"ACS {kind!r} message: {key!r} must be an integer, got {value!r}"
        ) from None


def parse_acs(text: str | bytes) -> AcsMessage:
    """Parse one text frame from ACS.

    Raises:
        WireFormatError: Not JSON, an unknown ``kind``, or a field missing or of the wrong type
            (the message says which).
    """
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireFormatError(f"ACS frame is not JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise WireFormatError("ACS frame must be a JSON object with a 'kind' field")
    kind = msg.get("kind")
    if kind == "AudioData":
        data = _obj(msg, "audioData", kind)
        raw = data.get("data") or ""
        if not isinstance(raw, str):
            raise WireFormatError("ACS 'AudioData' message: 'data' must be a base64 string")
        try:
            pcm = base64.b64decode(raw, validate=True)
        except binascii.Error:
            raise WireFormatError("ACS 'AudioData' message: 'data' is not base64") from None
        if len(pcm) % 2:
            raise WireFormatError(
                f"ACS 'AudioData' message: {len(pcm)} bytes is not whole PCM16 samples"
            )
        return AcsAudio(
            pcm,
            silent=bool(data.get("silent", False)),
            timestamp=str(data.get("timestamp", "")),
            participant_raw_id=str(data.get("participantRawID", "")),
        )
    if kind == "DtmfData":
        digit = _obj(msg, "dtmfData", kind).get("data")
        if not isinstance(digit, str) or not digit:
            raise WireFormatError("ACS 'DtmfData' message: 'data' must be the digit pressed")
        return AcsDtmf(digit)
    if kind == "AudioMetadata":
        meta = _obj(msg, "audioMetadata", kind)
        return AcsMetadata(
            subscription_id=str(meta.get("subscriptionId", "")),
            encoding=str(meta.get("encoding", "PCM")),
            sample_rate=_int(meta.get("sampleRate"), "sampleRate", kind),
            channels=_int(meta.get("channels"), "channels", kind, default=1),
            length=_int(meta.get("length"), "length", kind, default=0),
        )
    raise WireFormatError(
        f"unknown ACS kind {kind!r}: expected AudioMetadata, AudioData or DtmfData"
    )


def encode_acs_audio(pcm: bytes) -> str:
    """An ``AudioData`` message carrying PCM16 to the call."""
    data = base64.b64encode(pcm).decode("ascii")
    return json.dumps({"Kind": "AudioData", "AudioData": {"Data": data}, "StopAudio": None})


def encode_stop_audio() -> str:
    """A ``StopAudio``: ACS drops the audio it buffered for the caller."""
    return json.dumps({"Kind": "StopAudio", "AudioData": None, "StopAudio": {}})
