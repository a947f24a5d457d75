"""The one error the telephony serializers raise."""

from __future__ import annotations

__all__ = ["WireFormatError"]


class WireFormatError(ValueError):
    """A carrier's message is not what its documented format says (the text names the field)."""
