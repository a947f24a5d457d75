"""Function tools the model may call (model mode; agents bring their own tools)."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import field_validator

from ._base import ConfigModel, Text

__all__ = ["FunctionTool"]


_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class FunctionTool(ConfigModel):
    """A function the model may call (model mode; agents bring their own tools).

    Attributes:
        name: ``[A-Za-z0-9_-]{1,64}``.
        description: What it does and when to call it.
        parameters: JSON schema of the arguments (an ``"type": "object"`` schema).
    """

    type: Literal["function"] = "function"
    name: str
    description: Text | None = None
    parameters: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _TOOL_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a valid tool name; use 1-64 letters, digits, '_' or '-'"
            )
        return value

    @field_validator("parameters")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            if value.get("type") != "object":
                raise ValueError(
                    'must be a JSON schema of "type": "object", e.g. '
                    '{"type": "object", "properties": {...}, "required": [...]}'
                )
            try:
                json.dumps(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"is not JSON-serialisable: {exc}") from None
        return value
