"""A typed Python function as a Voice Live function tool.

:func:`function_tool` reads the function once, at decoration: its name, its description (the
docstring's summary) and its parameters (type hints, defaults and the docstring's ``Args:``
descriptions) become a :class:`~voiceagent.FunctionTool` whose JSON schema pydantic writes. The
same pydantic model validates the model's arguments before the function runs, so the function
only ever sees values of the types it declared.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ..config import FunctionTool
from ..errors import ConfigError

__all__ = ["DEFAULT_TOOL_TIMEOUT_S", "Tool", "ToolArgumentsError", "function_tool"]

DEFAULT_TOOL_TIMEOUT_S = 30.0
"""How long a tool may run before the model is told it timed out (seconds)."""

F = TypeVar("F", bound=Callable[..., Any])

_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Yields|Raises|Examples?|Notes?):\s*$")
_ARG = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


class ToolArgumentsError(ValueError):
    """The model's arguments are not JSON or do not match the tool's parameters."""


@dataclass(frozen=True, eq=False)
class Tool:
    """A Python function the model may call: its definition and how to run it.

    Made by :func:`function_tool` or ``@session.tool``; calling the object calls the function,
    so a decorated function stays usable as a plain function.

    Attributes:
        fn: The function (sync functions run in a worker thread, async ones on the loop).
        definition: What is sent in ``session.update`` (name, description, JSON schema).
        timeout: Seconds the function may run; None for no limit.
        arguments_model: The pydantic model that validates the arguments.
    """

    fn: Callable[..., Any]
    definition: FunctionTool
    timeout: float | None
    arguments_model: type[BaseModel] = field(repr=False)

    @property
    def name(self) -> str:
        """The tool's name, as the model calls it."""
        return self.definition.name

    @property
    def is_async(self) -> bool:
        """True for a coroutine function (runs on the event loop, never in a thread)."""
        return inspect.iscoroutinefunction(self.fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function itself (the tool stays usable as a plain function)."""
        return self.fn(*args, **kwargs)

    def parse(self, arguments: str) -> dict[str, Any]:
        """Validate the model's ``arguments`` (a JSON object string) into keyword arguments.

        Raises:
            ToolArgumentsError: Not a JSON object, or not matching the parameters; the message
                lists every problem (it is returned to the model, which can correct itself).
        """
        try:
            parsed = self.arguments_model.model_validate_json(arguments or "{}")
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise ToolArgumentsError(problems) from None
        return {name: getattr(parsed, name) for name in type(parsed).model_fields}

    async def invoke(self, arguments: dict[str, Any]) -> Any:
        """Run the function with validated ``arguments``; sync functions in a worker thread.

        A sync function cannot be interrupted: when the call is cancelled (barge-in, timeout,
        close) its result is discarded, but the thread runs to the end.
        """
        if self.is_async:
            return await self.fn(**arguments)
        return await asyncio.to_thread(functools.partial(self.fn, **arguments))


def encode_output(value: Any) -> str:
    """A tool's return value as the ``output`` string: a str as is, anything else as JSON.

    Raises:
        TypeError: The value cannot be expressed as JSON.
    """
    if isinstance(value, str):
        return value
    try:
        return json.dumps(pydantic_core.to_jsonable_python(value), ensure_ascii=False)
    except (pydantic_core.PydanticSerializationError, ValueError) as exc:
        raise TypeError(f"the tool returned a {type(value).__name__}, not JSON: {exc}") from None


@overload
def function_tool(fn: F, /) -> Tool: ...
@overload
def function_tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = DEFAULT_TOOL_TIMEOUT_S,
) -> Callable[[F], Tool]: ...


def function_tool(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = DEFAULT_TOOL_TIMEOUT_S,
) -> Tool | Callable[[F], Tool]:
    """Make a typed function (sync or async) a function tool; share it across sessions.

    Use it bare (``@function_tool``) or with arguments, then pass the tools to
    ``VoiceAgentSession(..., tools=[...])``. The docstring's summary becomes the description
    and its ``Args:`` lines the parameters' descriptions (``docs/tools.md`` has an example).

    Args:
        fn: The function (when used bare).
        name: The tool's name; the function's name by default.
        description: What it does and when to call it; the docstring's summary by default.
        timeout: Seconds the tool may run before the model is told it timed out; None: no limit.

    Raises:
        ConfigError: A parameter without a type hint, ``*args``/``**kwargs``, an invalid name or
            a type pydantic cannot describe as JSON schema.
    """

    def make(f: F) -> Tool:
        return build_tool(f, name=name, description=description, timeout=timeout)

    return make if fn is None else make(fn)


def build_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = DEFAULT_TOOL_TIMEOUT_S,
) -> Tool:
    """The :class:`Tool` for ``fn`` (see :func:`function_tool`)."""
    if isinstance(fn, Tool):
        return fn
    if not callable(fn):
        raise ConfigError(f"a tool must be a function, got {fn!r}")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ConfigError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    tool_name = str(name or getattr(fn, "__name__", ""))
    summary, arg_docs = _parse_docstring(inspect.getdoc(fn) or "")
    model = _arguments_model(fn, tool_name, arg_docs)
    try:
        schema = _clean(model.model_json_schema())
        definition = FunctionTool(
            name=tool_name, description=description or summary or None, parameters=schema
        )
    except (ConfigError, pydantic_core.PydanticSerializationError) as exc:
        raise ConfigError(f"tool {tool_name!r}: {exc}") from None
    except Exception as exc:  # pydantic cannot describe a parameter type as JSON schema
        raise ConfigError(f"tool {tool_name!r}: cannot describe its parameters: {exc}") from None
    return Tool(fn=fn, definition=definition, timeout=timeout, arguments_model=model)


def _arguments_model(
    fn: Callable[..., Any], tool_name: str, arg_docs: dict[str, str]
) -> type[BaseModel]:
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise ConfigError(f"tool {tool_name!r}: cannot read its signature: {exc}") from None
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ConfigError(
                f"tool {tool_name!r}: parameter {param.name!r} must be a named parameter "
                "(no *args, **kwargs or positional-only parameters)"
            )
        if param.name not in hints:
            raise ConfigError(
                f"tool {tool_name!r}: parameter {param.name!r} needs a type hint, e.g. "
                f"'{param.name}: str' (the hint becomes the JSON schema the model sees)"
            )
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (
            hints[param.name],
            Field(default, description=arg_docs.get(param.name)),
        )
    try:
        model: type[BaseModel] = create_model(
            f"{tool_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )
    except Exception as exc:
        raise ConfigError(f"tool {tool_name!r}: unusable parameter types: {exc}") from None
    return model


def _clean(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's generated ``title`` strings: noise the model pays tokens for."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: walk(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))
            }
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    cleaned: dict[str, Any] = walk(schema)
    cleaned.setdefault("properties", {})
    return cleaned


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (text before the first section) and ``Args:`` descriptions (Google style)."""
    summary: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    base_indent: int | None = None
    for line in doc.splitlines():
        header = _SECTION.match(line.strip())
        if header and not line.startswith(" "):
            section, current, base_indent = header.group(1), None, None
            continue
        if section is None:
            summary.append(line.strip())
            continue
        if section not in ("Args", "Arguments", "Parameters") or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if base_indent is None:
            base_indent = indent
        match = _ARG.match(line.strip())
        if indent == base_indent and match:
            current = match.group(1).lstrip("*")
            args[current] = match.group(2).strip()
        elif current is not None:
            args[current] = f"{args[current]} {line.strip()}".strip()
    text = " ".join(part for part in summary if part) if summary else ""
    # Keep paragraphs readable: the summary is the docstring's text up to the first section.
    return text.strip(), args
