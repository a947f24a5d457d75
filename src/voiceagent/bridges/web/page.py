"""The page's files, shipped as package data (``voiceagent/bridges/web/assets``)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

__all__ = ["ASSET_NAMES", "CONTENT_TYPES", "asset_path", "read_asset"]

ASSET_NAMES = (
    "index.html",
    "voiceagent.js",
    "capture-worklet.js",
    "playback-worklet.js",
    "voiceagent.css",
)
"""Every file of the page; copy them together into another front end."""

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def asset_path(name: str) -> Traversable:
    """The packaged file ``name`` (one of :data:`ASSET_NAMES`).

    Raises:
        KeyError: ``name`` is not a file of the page.
    """
    if name not in ASSET_NAMES:
        raise KeyError(f"{name!r} is not a file of the page; it has {', '.join(ASSET_NAMES)}")
    return resources.files(__package__).joinpath("assets").joinpath(name)


def read_asset(name: str) -> tuple[bytes, str]:
    """The bytes of the packaged file ``name`` and its content type."""
    path = asset_path(name)
    suffix = name[name.rfind(".") :]
    return path.read_bytes(), CONTENT_TYPES[suffix]
