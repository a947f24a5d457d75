"""How the avatar's SDP travels in ``session.avatar.connect`` and ``session.avatar.connecting``.

The API reference calls ``client_sdp`` "the client's SDP offer" and ``server_sdp`` "the server's
SDP answer" without saying how they are encoded. Microsoft's voice-live-avatar samples (Python
and JavaScript) send ``base64(JSON.stringify(localDescription))``, the base64 of the
``{"type": "offer", "sdp": "v=0..."}`` JSON, and decode the answer the same way; other clients
report that the service expects that form. So the library sends that form, and reads both it
and plain SDP text (what the emulator answered before). Not verified against the service.
"""

from __future__ import annotations

import base64
import binascii
import json

__all__ = ["decode_sdp", "encode_sdp", "is_encoded_sdp"]


def encode_sdp(sdp: str, kind: str) -> str:
    """``sdp`` as the samples send it: base64 of ``{"type": kind, "sdp": sdp}`` (UTF-8 JSON).

    Args:
        sdp: The SDP text (``v=0...``).
        kind: ``"offer"`` or ``"answer"``.
    """
    data = json.dumps({"type": kind, "sdp": sdp}).encode()
    return base64.b64encode(data).decode("ascii")


def is_encoded_sdp(value: str) -> bool:
    """True when ``value`` is the base64 JSON form (not plain SDP text)."""
    return not value.lstrip().startswith("v=")


def decode_sdp(value: str) -> str:
    """The SDP text of ``value``, given either as plain SDP or in the base64 JSON form.

    Raises:
        ValueError: ``value`` is neither (the message says which forms are read).
    """
    if not is_encoded_sdp(value):
        return value
    try:
        parsed = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        parsed = None
    sdp = parsed.get("sdp") if isinstance(parsed, dict) else None
    if not isinstance(sdp, str) or not sdp.lstrip().startswith("v="):
        raise ValueError(
            'expected SDP text (v=0...) or base64 of the JSON {"type": ..., "sdp": "v=0..."}'
        )
    return sdp
