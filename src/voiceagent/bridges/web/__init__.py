"""The browser bridge: one WebSocket per conversation between a page and a session.

* :mod:`.framing`: the messages both ways (binary frames are PCM16 24 kHz mono; text frames are
  JSON control messages), parsed and checked.
* :mod:`.backend`: :class:`WebAudioBackend`, the audio seam for a page ("played" is what the
  page's playback worklet reports it output).
* ``assets/``: the page itself (plain JavaScript modules, no build step), see :func:`asset_path`.
"""

from __future__ import annotations

from .backend import WebAudioBackend, WebLimits
from .framing import FrameError, PageMessage, parse_page_message
from .page import ASSET_NAMES, asset_path, read_asset

__all__ = [
    "ASSET_NAMES",
    "FrameError",
    "PageMessage",
    "WebAudioBackend",
    "WebLimits",
    "asset_path",
    "parse_page_message",
    "read_asset",
]
