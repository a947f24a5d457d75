"""The service's schema for ``session.update`` and ``response.create``: known fields and types.

The fields are those of the SDK's generated models (``RequestSession``, ``ResponseCreateParams``).
An unknown field is refused with ``unknown_parameter`` and a wrong type with ``invalid_type``,
both naming the field in ``param``, in the shape the Realtime API (which Voice Live mirrors) uses:
an app that passes here with a typo would otherwise find on Azure that its setting was never
applied. See "Validation" in ``docs/emulator.md`` for what is documented and what is inferred.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from voiceagent.protocol.names import TURN_DETECTION_FIELDS

__all__ = [
    "RESPONSE_TYPES",
    "SESSION_TYPES",
    "SchemaError",
    "check_response_create",
    "check_session_update",
]

_NUMBER = "number"
_INTEGER = "integer"
_STRING = "string"
_BOOLEAN = "boolean"
_OBJECT = "object"
_ARRAY = "array"
_INF = "'inf'"
_NULL = "null"

# field -> the JSON types it accepts. ``null`` is accepted where the service reads it as "off".
SESSION_TYPES: dict[str, tuple[str, ...]] = {  # the keys are SESSION_FIELDS (a test checks)
    "animation": (_OBJECT, _NULL),
    "avatar": (_OBJECT, _NULL),
    "include": (_ARRAY,),
    "input_audio_echo_cancellation": (_OBJECT, _NULL),
    "input_audio_format": (_STRING,),
    "input_audio_noise_reduction": (_OBJECT, _NULL),
    "input_audio_sampling_rate": (_INTEGER,),
    "input_audio_transcription": (_OBJECT, _NULL),
    "instructions": (_STRING,),
    "interim_response": (_OBJECT, _NULL),
    "max_response_output_tokens": (_INTEGER, _INF),
    "metadata": (_OBJECT,),
    "modalities": (_ARRAY,),
    "model": (_STRING,),
    "output_audio_format": (_STRING,),
    "output_audio_timestamp_types": (_ARRAY,),
    "parallel_tool_calls": (_BOOLEAN,),
    "reasoning_effort": (_STRING,),
    "temperature": (_NUMBER,),
    "tool_choice": (_STRING, _OBJECT),
    "tools": (_ARRAY,),
    "turn_detection": (_OBJECT, _NULL),
    "voice": (_STRING, _OBJECT),
}

RESPONSE_TYPES: dict[str, tuple[str, ...]] = {  # the keys are RESPONSE_CREATE_FIELDS
    "append_input_items": (_ARRAY,),
    "cancel_previous": (_BOOLEAN,),
    "commit": (_BOOLEAN,),
    "input_items": (_ARRAY,),
    "instructions": (_STRING,),
    "interim_response": (_OBJECT, _NULL),
    "invoke_input": (_OBJECT,),
    "max_output_tokens": (_INTEGER, _INF),
    "metadata": (_OBJECT,),
    "modalities": (_ARRAY,),
    "output_audio_format": (_STRING,),
    "pre_generated_assistant_message": (_OBJECT,),
    "reasoning_effort": (_STRING,),
    "temperature": (_NUMBER,),
    "tool_choice": (_STRING, _OBJECT),
    "tools": (_ARRAY,),
    "voice": (_STRING, _OBJECT),
}

# Fields of the session the server owns: a client that echoes a session.updated back (some
# samples do) is not refused for them; they are ignored, never applied.
SERVER_OWNED_SESSION_FIELDS: frozenset[str] = frozenset({"id", "object", "agent"})

_RESPONSE_CREATE_EVENT_FIELDS = frozenset(
    {"type", "event_id", "response", "additional_instructions"}
)


class SchemaError(ValueError):
    """A field the service's schema refuses: ``code`` and ``param`` go into the ``error``."""

    def __init__(self, code: str, param: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


def _json_type(value: Any) -> str:
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return _BOOLEAN
    if isinstance(value, int):
        return _INTEGER
    if isinstance(value, float):
        return _NUMBER
    if isinstance(value, str):
        return _STRING
    if isinstance(value, list):
        return _ARRAY
    return _OBJECT


def _matches(value: Any, accepted: tuple[str, ...]) -> bool:
    kind = _json_type(value)
    if kind == _STRING and value == "inf" and _INF in accepted:
        return True
    if kind == _INTEGER and _NUMBER in accepted:
        return True
    return kind in accepted


def _check_fields(
    values: Mapping[str, Any],
    types: Mapping[str, tuple[str, ...]],
    prefix: str,
    ignored: Collection[str] = (),
) -> None:
    for key, value in values.items():
        if key in ignored:
            continue
        param = f"{prefix}.{key}"
        accepted = types.get(key)
        if accepted is None:
            raise SchemaError(
                "unknown_parameter",
                param,
                f"Unknown parameter: '{param}'. Known fields: {', '.join(sorted(types))}.",
            )
        if not _matches(value, accepted):
            wanted = " or ".join(accepted)
            raise SchemaError(
                "invalid_type",
                param,
                f"Invalid type for '{param}': expected {wanted}, but got "
                f"{_json_type(value)} instead.",
            )


def check_session_update(event: Mapping[str, Any]) -> None:
    """Raise :class:`SchemaError` for an unknown or mistyped field of ``session.update``."""
    session = event.get("session")
    if session is None:
        return
    if not isinstance(session, dict):
        raise SchemaError(
            "invalid_type",
            "session",
            f"Invalid type for 'session': expected object, but got {_json_type(session)} instead.",
        )
    _check_fields(session, SESSION_TYPES, "session", SERVER_OWNED_SESSION_FIELDS)
    turn_detection = session.get("turn_detection")
    if isinstance(turn_detection, dict):
        # By name only, across every VAD type (the emulator honours some fields on more types
        # than the docs list); the values are checked when the update is merged.
        for key in turn_detection:
            if key not in TURN_DETECTION_FIELDS:
                param = f"session.turn_detection.{key}"
                raise SchemaError(
                    "unknown_parameter",
                    param,
                    f"Unknown parameter: '{param}'. Known fields: "
                    f"{', '.join(sorted(TURN_DETECTION_FIELDS))}.",
                )


def check_response_create(event: Mapping[str, Any]) -> None:
    """Raise :class:`SchemaError` for an unknown or mistyped field of ``response.create``."""
    for key in event:
        if key not in _RESPONSE_CREATE_EVENT_FIELDS:
            raise SchemaError(
                "unknown_parameter",
                key,
                f"Unknown parameter: '{key}'. A response.create takes response and "
                "additional_instructions.",
            )
    additional = event.get("additional_instructions")
    if additional is not None and not isinstance(additional, str):
        raise SchemaError(
            "invalid_type",
            "additional_instructions",
            "Invalid type for 'additional_instructions': expected string, but got "
            f"{_json_type(additional)} instead.",
        )
    params = event.get("response")
    if params is None:
        return
    if not isinstance(params, dict):
        raise SchemaError(
            "invalid_type",
            "response",
            f"Invalid type for 'response': expected object, but got {_json_type(params)} instead.",
        )
    _check_fields(params, RESPONSE_TYPES, "response")
