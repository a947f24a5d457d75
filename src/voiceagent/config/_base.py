"""The frozen pydantic base of every configuration model, its error messages and env helpers.

Validation failures become :class:`~voiceagent.errors.ConfigError` messages that name the field,
say what is wrong and how to fix it, and never quote a secret. When a value came from an
environment variable, the message names that variable (and only then).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from ..errors import ConfigError
from ..protocol.names import VOICE_TYPES

__all__ = [
    "ConfigModel",
    "Name",
    "Text",
    "build_from_env",
    "describe",
    "env_value",
    "environ_or_os",
    "one_of",
]

_ENV_HINT = "set it to a value or unset it"
_ENV_SOURCES: ContextVar[Mapping[str, str] | None] = ContextVar("_ENV_SOURCES", default=None)
"""Field -> environment variable of the model being built by :func:`build_from_env`."""
_SECRET_PARTS = ("api_key", "secret", "token", "password")
# pydantic's union/validator markers in error locations ("function-after[...]", "str") and the
# tags of the discriminated unions (voice types, interim response types): not field names.
_LOC_NOISE = frozenset(
    {"str", "int", "float", "bool", "literal", "by-name", "by-object", *VOICE_TYPES}
    | {"llm_interim_response", "static_interim_response"}
)


def _check_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace; leave it unset (None) instead")
    if value != value.strip():
        raise ValueError(f"has leading or trailing whitespace ({value!r}); remove it")
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace; leave it unset (None) instead")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""A non-empty identifier-like string without surrounding whitespace."""
Text = Annotated[str, AfterValidator(_check_text)]
"""Free text that must not be blank."""


def one_of(values: Mapping[str, Any] | tuple[str, ...], what: str) -> AfterValidator:
    """A validator accepting only the strings in ``values`` (a protocol table), listing them."""
    allowed = tuple(values)

    def check(value: str) -> str:
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{value!r} is not {what}{hint}; use one of {', '.join(allowed)}")
        return value

    return AfterValidator(check)


def _is_field_part(part: object) -> bool:
    if isinstance(part, int):
        return True
    text = str(part)
    return "[" not in text and text not in _LOC_NOISE


def describe(
    cls: type[BaseModel], exc: ValidationError, sources: Mapping[str, str] | None = None
) -> str:
    """Render pydantic errors as 'what is wrong + how to fix it', without echoing secrets.

    Args:
        cls: The model that failed.
        exc: Its validation error.
        sources: Field -> environment variable, for the fields whose value came from the
            environment. Problems with such a field name the variable; problems that belong
            to no field list the variables that contributed. Empty: the environment is not
            mentioned at all.

    Returns:
        ``"invalid <Model>: <problem>"`` or one line per problem.
    """
    sources = sources or {}
    fields = list(cls.model_fields)
    problems: list[str] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"] if _is_field_part(p)]
        where = ".".join(loc)
        var = sources.get(loc[0]) if loc else None
        label = f"{where} (from {var})" if var else where
        kind = err["type"]
        msg = str(err["msg"])
        value = err.get("input")
        if msg.startswith("Value error, "):
            # A nested model's own ConfigError: keep its detail, drop its "invalid X:" prefix.
            msg = re.sub(r"^invalid \w+:\s*", "", msg[len("Value error, ") :])
        if kind == "extra_forbidden":
            field = loc[-1] if loc else where
            close = difflib.get_close_matches(field, fields, n=1) if len(loc) == 1 else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            valid = f"; valid fields: {', '.join(sorted(fields))}" if len(loc) == 1 else ""
            problems.append(f"unknown field {where!r}{hint}{valid}")
            continue
        if kind == "missing":
            problems.append(f"{label}: is required")
            continue
        if kind in ("int_type", "float_type") and isinstance(value, bool):
            number = "a whole number" if kind == "int_type" else "a number"
            problems.append(f"{label}: must be {number}, not a bool (got {value!r})")
            continue
        secret = any(s in where for s in _SECRET_PARTS)
        if (
            not secret
            and kind not in ("value_error", "assertion_error")
            and isinstance(value, (str, int, float, bool))
            and len(repr(value)) <= 80
        ):
            msg = f"{msg} (got {value!r})"
        if not loc and sources:
            msg = f"{msg} (values from environment: {', '.join(sources.values())})"
        problems.append(f"{label}: {msg}" if label else msg)
    if len(problems) == 1:
        return f"invalid {cls.__name__}: {problems[0]}"
    return f"invalid {cls.__name__}:\n" + "\n".join(f"  - {p}" for p in problems)


class ConfigModel(BaseModel):
    """Frozen, strict-about-fields base whose validation failures are ConfigErrors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    if not TYPE_CHECKING:
        # Hidden from type checkers so they keep the field-based __init__ signature.
        def __init__(self, **data: Any) -> None:
            sources = _ENV_SOURCES.get()
            token = _ENV_SOURCES.set(None)  # nested models: their values are not env-derived
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise ConfigError(describe(type(self), exc, sources)) from None
            finally:
                _ENV_SOURCES.reset(token)

        @classmethod
        def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
            try:
                return super().model_validate(obj, **kwargs)
            except ValidationError as exc:
                raise ConfigError(describe(cls, exc)) from None


_M = TypeVar("_M", bound=ConfigModel)


def environ_or_os(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    """``environ``, or ``os.environ`` when None."""
    return os.environ if environ is None else environ


def env_value(environ: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first of ``names`` that is set, as ``(name, value)``; a blank variable is an error."""
    for name in names:
        if name in environ:
            value = environ[name]
            if not value.strip():
                raise ConfigError(f"environment variable {name} is set but empty; {_ENV_HINT}")
            if value != value.strip():
                raise ConfigError(
                    f"environment variable {name} has leading or trailing whitespace; remove it"
                )
            return name, value
    return None


def build_from_env(cls: type[_M], values: Mapping[str, Any], sources: Mapping[str, str]) -> _M:
    """Build ``cls`` from ``values``; errors name the variable of each env-derived field.

    Args:
        cls: The model to build.
        values: All field values (from code and from the environment).
        sources: Field -> environment variable, for the values read from the environment.

    Returns:
        The validated model.

    Raises:
        ConfigError: A value is invalid.
    """
    token = _ENV_SOURCES.set(sources)
    try:
        return cls(**values)
    finally:
        _ENV_SOURCES.reset(token)
