"""Python functions as tools the model calls, run by the library without blocking the voice.

* :func:`function_tool` turns a typed function into a :class:`Tool` (a Voice Live function tool
  whose JSON schema comes from the type hints); ``@session.tool`` does the same and registers
  it on one session.
* :class:`ToolRunner` answers the model's calls: validated arguments, the function run as a task
  (sync ones in a thread), the outputs sent after the carrying response's ``response.done``,
  then one follow-up ``response.create``.

See ``docs/tools.md``.
"""

from .function import DEFAULT_TOOL_TIMEOUT_S, Tool, ToolArgumentsError, build_tool, function_tool
from .runner import ToolRunner, build_runner

__all__ = [
    "DEFAULT_TOOL_TIMEOUT_S",
    "Tool",
    "ToolArgumentsError",
    "ToolRunner",
    "build_runner",
    "build_tool",
    "function_tool",
]
