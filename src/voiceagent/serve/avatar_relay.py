"""The avatar's WebRTC signalling between the page and the Voice Live session.

The page's browser holds the WebRTC connection to the avatar; the server only relays the SDP, so
the key or token never reaches the page. Messages on the page's WebSocket:

* server -> page ``{"type": "avatar", "ice_servers": [...]}`` once ``session.updated`` reports
  the avatar (the ICE servers to create the ``RTCPeerConnection`` with: the service's TURN
  servers and their short-lived credentials, which the browser needs);
* page -> server ``{"type": "avatar.offer", "sdp": "..."}`` (sent as ``session.avatar.connect``,
  its ``client_sdp`` in the base64 JSON form of ``protocol/avatar_sdp.py``);
* server -> page ``{"type": "avatar.answer", "sdp": "..."}`` (from ``session.avatar.connecting``,
  plain SDP text whichever form the service answered in).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..bridges.web.framing import FrameError
from ..protocol.avatar_sdp import decode_sdp, encode_sdp

if TYPE_CHECKING:
    from ..bridges.web import WebAudioBackend
    from ..session.session import VoiceAgentSession

__all__ = ["MAX_SDP_CHARS", "OfferHandler", "relay_avatar"]

MAX_SDP_CHARS = 64_000
"""Longest SDP offer accepted from the page (a browser's offer is a few kB)."""

OfferHandler = Callable[[str], Awaitable[bool]]
"""``handle(text) -> bool``: True when the text frame was the page's avatar offer (relayed)."""


def _plain(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    return as_dict() if callable(as_dict) else value


def relay_avatar(session: VoiceAgentSession, page: WebAudioBackend) -> OfferHandler:
    """Relay the avatar's ICE servers and SDP between ``session`` and ``page``.

    Returns:
        The handler for the page's text frames: it relays an ``avatar.offer`` and returns True,
        or returns False for any other frame (left to the audio bridge).
    """
    announced: list[Any] = [None]

    def on_updated(event: Any) -> None:
        avatar = (_plain(event.session) or {}).get("avatar")
        if isinstance(avatar, dict):
            servers = [_plain(s) for s in avatar.get("ice_servers") or []]
            if servers != announced[0]:
                announced[0] = servers
                page.send_control(json.dumps({"type": "avatar", "ice_servers": servers}))

    def on_connecting(event: Any) -> None:
        try:
            sdp = decode_sdp(str(event.server_sdp))
        except ValueError as exc:
            message = f"The avatar's answer could not be read ({exc}); the avatar stays off."
            page.send_control(json.dumps({"type": "error", "message": message}))
            return
        page.send_control(json.dumps({"type": "avatar.answer", "sdp": sdp}))

    session.on("session.updated", on_updated)
    session.on("session.avatar.connecting", on_connecting)

    async def handle(text: str) -> bool:
        if '"avatar.offer"' not in text:
            return False  # the common case, without parsing twice
        try:
            data = json.loads(text)
        except ValueError:
            return False
        if not isinstance(data, dict) or data.get("type") != "avatar.offer":
            return False
        sdp = data.get("sdp")
        if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP_CHARS:
            raise FrameError(
                f"avatar.offer needs 'sdp': the RTCPeerConnection's offer (at most "
                f"{MAX_SDP_CHARS} characters)"
            )
        if announced[0] is None:
            raise FrameError("avatar.offer before the server sent 'avatar': no avatar is set")
        # The SDP goes as Microsoft's samples send it (protocol/avatar_sdp.py).
        client_sdp = encode_sdp(sdp, "offer")
        await session.send_event({"type": "session.avatar.connect", "client_sdp": client_sdp})
        return True

    return handle
