"""Identifiers in the service's formats (``sess_...``, ``resp_...``, ``item_...``, ...)."""

from __future__ import annotations

import secrets

__all__ = ["new_id"]


def new_id(prefix: str) -> str:
    """Return ``<prefix>_<20 random hex digits>``, unique enough for one emulator process."""
    return f"{prefix}_{secrets.token_hex(10)}"
