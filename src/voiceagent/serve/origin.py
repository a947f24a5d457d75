"""The Origin check on the upgrade: a browser page of another site must not open a conversation.

A WebSocket is not covered by the same-origin policy: any site a user visits could open one to
this server and spend its Azure quota through the user's browser. Browsers always send
``Origin`` on a WebSocket upgrade, so a missing one is a non-browser client, refused too
(such a client must be authorized with the ``authorize`` hook and send an allowed origin).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["origin_allowed"]


def _normal(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, own: str, allowed: Iterable[str] = ()) -> bool:
    """True when ``origin`` is the page's own (``scheme://host[:port]``) or in ``allowed``."""
    if not origin or origin == "null":
        return False
    wanted = _normal(origin)
    return wanted == _normal(own) or any(wanted == _normal(a) for a in allowed)
