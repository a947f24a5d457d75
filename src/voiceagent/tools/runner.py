"""Runs the model's function calls for the session, without ever holding up the voice.

The runner is a subscriber to the session's events, like any app handler; it adds no branch to
the receive path. For each ``response.function_call_arguments.done`` naming one of its tools it
starts the call as a task (sync tools in a worker thread) and returns at once, so audio, captions
and every later handler go on. Once the response that carried the call is done
(``response.done``) and every call of that response has finished, it sends the outputs
(``function_call_output``) and then asks for the follow-up response with the session's
:meth:`~voiceagent.VoiceAgentSession.request_response`: the session alone knows whether a
response is in progress, sends ``response.create`` once none is, and asks again if the service
still refuses it as busy. The runner uses the session's public methods only (``on``,
``create_task``, ``send_function_result``, ``request_response``, ``publish``).

Cut short: when the user starts speaking (``input_audio_buffer.speech_started``), when the
carrying response ends other than ``completed``, or when the session closes, running calls are
cancelled, their outputs say so, and no follow-up response is asked for (the user's new turn
gets its own).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..errors import VoiceAgentError
from ..events import ToolCallFinished, field_of
from .function import Tool, ToolArgumentsError, encode_output

if TYPE_CHECKING:
    from ..session.session import VoiceAgentSession

__all__ = ["ToolRunner"]

log = logging.getLogger("voiceagent.tools")

Outcome = Literal["ok", "error", "timeout", "invalid_arguments", "cancelled"]


def error_output(message: str) -> str:
    """The ``output`` the model gets for a call that did not succeed."""
    return json.dumps({"error": message}, ensure_ascii=False)


@dataclass(eq=False)
class _Call:
    tool: Tool
    call_id: str
    response_id: str | None
    arguments: str
    started_at: float = field(default_factory=time.monotonic)
    task: asyncio.Task[str] | None = None
    cancel_reason: str | None = None


@dataclass(eq=False)
class _Batch:
    """The calls of one response, answered together."""

    calls: list[_Call] = field(default_factory=list)
    status: asyncio.Future[str | None] | None = None  # the response's final status
    interrupted: bool = False
    lost: bool = False  # its connection is gone: nothing is sent for it


class ToolRunner:
    """Answers the model's calls to registered tools (see the module docstring).

    Args:
        session: The session whose events it follows and whose connection it answers on.
    """

    def __init__(self, session: VoiceAgentSession) -> None:
        self._session = session
        self.tools: dict[str, Tool] = {}
        self._batches: dict[str | None, _Batch] = {}  # by the response that carried the calls
        self._answered_calls: set[str] = set()
        self._follow_ups: set[asyncio.Task[None]] = set()  # request_response() not yet done
        session.on("response.function_call_arguments.done", self._on_arguments)
        session.on("response.done", self._on_done)
        session.on("input_audio_buffer.speech_started", self._on_user_speech)
        session.on("voiceagent.closed", self._on_closed)
        session.on("voiceagent.session_ready", self._on_ready)

    def add(self, tool: Tool) -> None:
        """Register ``tool``; a second tool with the same name is refused (``ValueError``)."""
        if tool.name in self.tools and self.tools[tool.name] is not tool:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self.tools[tool.name] = tool

    @property
    def running(self) -> list[str]:
        """The call ids of calls still running."""
        return [
            c.call_id
            for b in self._batches.values()
            for c in b.calls
            if c.task is not None and not c.task.done()
        ]

    # --- events (dispatch order) ---------------------------------------------------------

    def _on_done(self, event: Any) -> None:
        response_id = field_of(event, "response", "id")
        status = field_of(event, "response", "status")
        batch = self._batches.get(response_id)
        if batch is None and None in self._batches:
            batch = self._batches.get(None)  # calls that named no response
        if batch is not None and batch.status is not None and not batch.status.done():
            batch.status.set_result(str(status) if status is not None else None)

    def _on_arguments(self, event: Any) -> None:
        name, call_id = field_of(event, "name"), field_of(event, "call_id")
        tool = self.tools.get(name) if isinstance(name, str) else None
        if tool is None or not isinstance(call_id, str) or call_id in self._answered_calls:
            return  # not ours: the app's own handler answers it
        self._answered_calls.add(call_id)
        response_id = field_of(event, "response_id")  # None: matched by the next done
        arguments = field_of(event, "arguments")
        call = _Call(tool, call_id, response_id, arguments if isinstance(arguments, str) else "")
        batch = self._batches.get(response_id)
        if batch is None:
            batch = self._batches[response_id] = _Batch()
            batch.status = asyncio.get_running_loop().create_future()
            self._session.create_task(self._answer(response_id, batch), name="tool-answer")
        batch.calls.append(call)
        call.task = self._session.create_task(self._run(call), name=f"tool-{tool.name}")
        log.info("tool %s called (%s)", tool.name, call_id)

    def _on_user_speech(self, event: Any) -> None:
        self.cancel_all("the user started speaking")

    def _on_closed(self, event: Any) -> None:
        self.cancel_all("the session closed")

    def _on_ready(self, event: Any) -> None:
        if not getattr(event, "reconnected", False):
            return
        # A new connection: the old one's responses will never report done, and its calls
        # cannot be answered on this one (a model-mode conversation does not survive a drop).
        self.cancel_all("the connection was lost")
        for batch in self._batches.values():
            batch.lost = True
            if batch.status is not None and not batch.status.done():
                batch.status.set_result("lost")

    def cancel_all(self, reason: str) -> None:
        """Cancel every running call; no follow-up response is asked for them."""
        for follow_up in self._follow_ups:
            follow_up.cancel()  # not sent yet: nothing goes; sent: it has gone
        for batch in self._batches.values():
            batch.interrupted = True
            for call in batch.calls:
                if call.task is not None and not call.task.done():
                    call.cancel_reason = call.cancel_reason or reason
                    call.task.cancel()

    # --- the work (tasks) ----------------------------------------------------------------

    async def _run(self, call: _Call) -> str:
        """Run one call; always returns the output for the model (never raises)."""
        tool = call.tool
        outcome: Outcome = "ok"
        error: str | None = None
        try:
            kwargs = tool.parse(call.arguments)
            result = await asyncio.wait_for(tool.invoke(kwargs), tool.timeout)
            output = encode_output(result)
        except ToolArgumentsError as exc:
            outcome, error = "invalid_arguments", f"invalid arguments for {tool.name}: {exc}"
        except asyncio.TimeoutError:
            outcome = "timeout"
            error = f"the tool {tool.name} did not finish within {tool.timeout:g} s"
        except asyncio.CancelledError:
            outcome = "cancelled"
            error = f"the tool {tool.name} was cancelled: {call.cancel_reason or 'cancelled'}"
        except Exception as exc:  # the model is told, and can say it to the user
            log.warning("tool %s raised", tool.name, exc_info=exc)
            outcome, error = "error", f"the tool {tool.name} failed: {type(exc).__name__}: {exc}"
        duration_ms = (time.monotonic() - call.started_at) * 1000.0
        self._session.publish(
            ToolCallFinished(
                name=tool.name,
                call_id=call.call_id,
                response_id=call.response_id,
                outcome=outcome,
                duration_ms=duration_ms,
                error=error,
                started_at=call.started_at,
            )
        )
        log.info("tool %s: %s in %.0f ms", tool.name, outcome, duration_ms)
        return error_output(error) if error is not None else output

    async def _answer(self, response_id: str | None, batch: _Batch) -> None:
        """Send a response's outputs after its ``response.done``, then ask for the follow-up."""
        assert batch.status is not None
        try:
            status = await batch.status
            if status not in (None, "completed"):
                batch.interrupted = True
                for call in batch.calls:
                    if call.task is not None and not call.task.done():
                        call.cancel_reason = call.cancel_reason or f"the response was {status}"
                        call.task.cancel()
            tasks = [c.task for c in batch.calls if c.task is not None]
            results = await asyncio.gather(*tasks, return_exceptions=True)
            outputs = [
                r if isinstance(r, str) else error_output(f"the tool {c.tool.name} was cancelled")
                for c, r in zip(batch.calls, results, strict=True)
            ]
            if batch.lost:
                log.info("tool calls of %s dropped with their connection", response_id)
                return
            for call, output in zip(batch.calls, outputs, strict=True):
                await self._session.send_function_result(call.call_id, output, respond=False)
            if self._batches.get(response_id) is batch:
                del self._batches[response_id]  # answered: later calls start a new batch
            if not batch.interrupted:
                follow_up = self._session.create_task(
                    self._follow_up(response_id), name="tool-follow-up"
                )
                self._follow_ups.add(follow_up)
                follow_up.add_done_callback(self._follow_ups.discard)
        except VoiceAgentError as exc:  # closed, or the connection dropped while sending
            log.warning("could not answer the tool calls of %s: %s", response_id, exc)
        finally:
            if self._batches.get(response_id) is batch:
                del self._batches[response_id]

    async def _follow_up(self, response_id: str | None) -> None:
        """Ask for the response that says the tools' results (a task: cancel_all stops it)."""
        try:
            await self._session.request_response()
        except VoiceAgentError as exc:  # closed, or the connection dropped while sending
            log.warning("could not ask for the follow-up of %s: %s", response_id, exc)


def build_runner(session: VoiceAgentSession, tools: Iterable[Tool]) -> ToolRunner:
    """A runner subscribed to ``session``'s events, answering for ``tools``."""
    runner = ToolRunner(session)
    for tool in tools:
        runner.add(tool)
    return runner
