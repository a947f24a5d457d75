"""Runs the model's function calls for the session, without ever holding up the voice.

The runner is a subscriber to the session's events, like any app handler; it adds no branch to
the receive path. For each ``response.function_call_arguments.done`` naming one of its tools it
starts the call as a task (sync tools in a worker thread) and returns at once, so audio, captions
and every later handler go on. Once the response that carried the call is done
(``response.done``) and every call of that response has finished, it sends the outputs
(``function_call_output``) and then one ``response.create``, when no other response is in
progress. Sending ``response.create`` earlier is refused by the service with
``conversation_already_has_active_response``; if that still happens (an interim response, or
the app's own ``say``, started meanwhile), the runner asks again after the next
``response.done``.

Cut short: when the user starts speaking (``input_audio_buffer.speech_started``), when the
carrying response ends other than ``completed``, or when the session closes, running calls are
cancelled, their outputs say so, and no follow-up response is asked for (the user's new turn
gets its own).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
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

_CREATE_ATTEMPTS = 5
_BUSY = "conversation_already_has_active_response"


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
        self._batches: dict[str | None, _Batch] = {}
        self._active: set[str] = set()  # responses created and not yet done
        self._current: str | None = None  # the latest response.created
        self._quiet: asyncio.Event | None = None
        self._pending: dict[str, asyncio.Future[bool]] = {}  # our response.create event ids
        self._answered_calls: set[str] = set()
        session.on("response.function_call_arguments.done", self._on_arguments)
        session.on("response.created", self._on_created)
        session.on("response.done", self._on_done)
        session.on("error", self._on_error)
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

    def _quiet_event(self) -> asyncio.Event:
        if self._quiet is None:
            self._quiet = asyncio.Event()
            if not self._active:
                self._quiet.set()
        return self._quiet

    def _on_created(self, event: Any) -> None:
        response_id = field_of(event, "response", "id")
        if isinstance(response_id, str):
            self._active.add(response_id)
            self._current = response_id
            self._quiet_event().clear()

    def _on_done(self, event: Any) -> None:
        response_id = field_of(event, "response", "id")
        status = field_of(event, "response", "status")
        self._active.discard(response_id)
        if not self._active:
            self._quiet_event().set()
        for future in self._pending.values():
            # A refusal of our response.create comes before the done of the response that
            # was in the way; a done without one means ours was accepted (and is over).
            if not future.done():
                future.set_result(True)
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
        response_id = field_of(event, "response_id") or self._current
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

    def _on_error(self, event: Any) -> None:
        if field_of(event, "error", "code") != _BUSY:
            return
        future = self._pending.get(str(field_of(event, "error", "event_id")))
        if future is not None and not future.done():
            future.set_result(False)

    def _on_user_speech(self, event: Any) -> None:
        self.cancel_all("the user started speaking")

    def _on_closed(self, event: Any) -> None:
        self.cancel_all("the session closed")

    def _on_ready(self, event: Any) -> None:
        if not getattr(event, "reconnected", False):
            return
        # A new connection: the old one's responses will never report done, and its calls
        # cannot be answered on this one (a model-mode conversation does not survive a drop).
        self._active.clear()
        self._quiet_event().set()
        self.cancel_all("the connection was lost")
        for batch in self._batches.values():
            batch.lost = True
            if batch.status is not None and not batch.status.done():
                batch.status.set_result("lost")
        for future in self._pending.values():
            if not future.done():
                future.set_result(True)  # nothing more to wait for on the old connection

    def cancel_all(self, reason: str) -> None:
        """Cancel every running call; no follow-up response is asked for them."""
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
        self._session._emit(
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
            if not batch.interrupted:
                await self._follow_up(batch)
        except VoiceAgentError as exc:  # closed, or the connection dropped while sending
            log.warning("could not answer the tool calls of %s: %s", response_id, exc)
        finally:
            if self._batches.get(response_id) is batch:
                del self._batches[response_id]

    async def _follow_up(self, batch: _Batch) -> None:
        """One ``response.create`` once no response is in progress; again if refused."""
        for _ in range(_CREATE_ATTEMPTS):
            quiet = self._quiet_event()
            await quiet.wait()
            if batch.interrupted:
                return
            event_id = f"evt_va{secrets.token_hex(8)}"
            accepted: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._pending[event_id] = accepted
            try:
                # Our own event id, so that a refusal is told apart from one of the app's.
                with self._session._sending() as wire:
                    quiet.clear()  # a response is coming, or a refusal
                    await wire.send_event({"type": "response.create", "event_id": event_id})
                if await accepted:
                    return
                log.info("the service was busy with another response; asking again after it")
            finally:
                del self._pending[event_id]
        log.warning("gave up asking for the follow-up response after %d tries", _CREATE_ATTEMPTS)


def build_runner(session: VoiceAgentSession, tools: Iterable[Tool]) -> ToolRunner:
    """A runner subscribed to ``session``'s events, answering for ``tools``."""
    runner = ToolRunner(session)
    for tool in tools:
        runner.add(tool)
    return runner
