"""VoiceAgentSession: one voice conversation with a Foundry agent or a model.

The public API: checked arguments, handlers, tools, what the service said, and the ways to talk
without the microphone. The engine underneath (parts, lifecycle, loops) is
:class:`~.core.SessionCore`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..audio.base import AudioBackend
from ..dispatch import Handler
from ..errors import ConfigError, SessionClosedError, SessionError, VoiceAgentError
from ..events import AgentInfo, LibraryEvent
from ..voicelive.connector import Credential
from . import arguments
from .bargein import BargeInPolicy
from .core import SessionCore
from .greeting import LLM_GREETING_PROMPT
from .lifecycle import SessionState

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..config import (
        AgentConfig,
        ClassicAgentConfig,
        ConnectionConfig,
        SessionOptions,
    )
    from ..observe.metrics import SessionMetrics
    from ..tools import Tool, ToolRunner

__all__ = ["LLM_GREETING_PROMPT", "VoiceAgentSession"]

log = logging.getLogger("voiceagent.session")

T = TypeVar("T")
H = TypeVar("H", bound=Handler)


class VoiceAgentSession(SessionCore):
    """A voice conversation with an Azure AI Foundry agent (or a model) through Voice Live.

    Every argument is checked here, before anything is opened: a mistake is a
    :class:`~voiceagent.ConfigError` that names the argument and the fix.

    Args:
        endpoint: The Voice Live endpoint, e.g. ``https://<resource>.services.ai.azure.com``.
            None reads ``VOICELIVE_ENDPOINT`` / ``AZURE_VOICELIVE_ENDPOINT``.
        agent: The Foundry agent to talk to (:class:`~voiceagent.AgentConfig`, or a legacy
            :class:`~voiceagent.ClassicAgentConfig`). None means model mode (``model=``).
        credential: None uses ``DefaultAzureCredential`` (or, in model mode, the
            ``AZURE_VOICELIVE_API_KEY`` of the environment); or any async/sync token credential;
            or ``AzureKeyCredential`` (model mode only: agent mode accepts Entra ID only). A
            credential given here is never overridden by the environment.
        options: Session configuration (voice, formats, turn detection, ...). In agent mode
            only the options you set are sent, so the agent's own Voice Live settings stand.
        audio: The audio backend; None opens the default sound devices (``SoundDeviceAudio``).
            It is started before connecting, so a missing device fails before the service is
            contacted.
        greeting: None (the user speaks first), ``"llm"`` (the agent greets in its own words)
            or a text spoken verbatim. Spoken once per conversation: not when resuming one
            (``AgentConfig.resume``) unless ``greet_on_resume``, never after a reconnect.
        model: Model mode: the model to use (e.g. ``"gpt-realtime"``).
        connection: Full connection settings (API version, key, reconnect); instead of
            ``endpoint`` and ``model``.
        barge_in: What to do when the user talks over the agent.
        log_path: Also append the conversation log to this JSON Lines file (created 0600).
        ready_timeout: Seconds to wait for the service to confirm the configuration.
        greet_on_resume: Greet even when resuming an existing conversation.
        send_batch_ms: Server-side use: gather this much microphone audio (ms) into each
            ``input_audio_buffer.append`` (e.g. 40: two 20 ms blocks): fewer WebSocket
            messages for many sessions in one process, at the cost of that much latency.
            None (default): every block goes at once, with the blocks already waiting.
        tools: Functions the model may call (model mode), made with
            :func:`~voiceagent.function_tool`; see also :meth:`tool`.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        agent: AgentConfig | ClassicAgentConfig | None = None,
        *,
        credential: Credential | None = None,
        options: SessionOptions | None = None,
        audio: AudioBackend | None = None,
        greeting: str | None = None,
        model: str | None = None,
        connection: ConnectionConfig | None = None,
        barge_in: BargeInPolicy | None = None,
        log_path: str | Path | None = None,
        ready_timeout: float = 15.0,
        greet_on_resume: bool = False,
        send_batch_ms: float | None = None,
        tools: Iterable[Tool | Callable[..., Any]] = (),
    ) -> None:
        from ..config import resolve_connection  # pydantic loads on first use, not on import

        agent = arguments.check_agent(agent)
        super().__init__(
            resolve_connection(
                endpoint=endpoint,
                model=model,
                connection=connection,
                credential_given=credential is not None,
                agent_mode=agent is not None,
            ),
            agent,
            credential,
            options=arguments.check_options(options),
            audio=arguments.check_audio(audio),
            greeting=arguments.check_greeting(greeting),
            barge_in=arguments.check_barge_in(barge_in),
            log_path=log_path,
            ready_timeout=arguments.check_timeout("ready_timeout", ready_timeout),
            greet_on_resume=greet_on_resume,
            send_batch_ms=arguments.check_batch_ms(send_batch_ms),
        )
        from ..observe.metrics import MetricsCollector  # observers subscribe from outside

        self._metrics = MetricsCollector(self)
        self._tool_runner: ToolRunner | None = None
        for tool in tools:
            self.tool(tool)

    @overload
    def on(self, event: str) -> Callable[[H], H]: ...

    @overload
    def on(self, event: str, handler: H) -> H: ...

    def on(self, event: str, handler: H | None = None) -> Callable[[H], H] | H:
        """Register a handler (decorator or call); see :meth:`EventRegistry.on`.

        ``event`` is a server event type (``"response.audio.delta"``), a library event
        (``"voiceagent.barge_in"``), ``"*"`` or a prefix pattern (``"response.*"``). Server
        event handlers receive the SDK's typed event objects.

        Raises:
            ValueError: unknown event name (the message names the closest one).
            TypeError: no event name (a bare ``@session.on``).
        """
        return self._events.on(event) if handler is None else self._events.on(event, handler)

    @overload
    def once(self, event: str) -> Callable[[H], H]: ...

    @overload
    def once(self, event: str, handler: H) -> H: ...

    def once(self, event: str, handler: H | None = None) -> Callable[[H], H] | H:
        """Register a handler that runs at most once."""
        return self._events.once(event) if handler is None else self._events.once(event, handler)

    def off(self, event: str, handler: Handler | None = None) -> int:
        """Remove a handler (or all handlers of ``event``); returns how many were removed."""
        return self._events.off(event, handler)

    @overload
    def tool(self, fn: Callable[..., Any], /) -> Tool: ...

    @overload
    def tool(
        self,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = 30.0,
    ) -> Callable[[Callable[..., Any]], Tool]: ...

    def tool(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = 30.0,
    ) -> Tool | Callable[[Callable[..., Any]], Tool]:
        """Register a typed function (sync or async) the model may call; bare or with arguments.

        The library validates the arguments, runs the function without blocking the voice,
        returns its result and asks for the follow-up response once the service allows it
        (see :mod:`voiceagent.tools` and ``docs/tools.md``).

        Args:
            fn: The function (``@session.tool``).
            name: The tool's name; the function's name by default.
            description: For the model; the docstring's summary by default.
            timeout: Seconds before the model is told the tool timed out; None: no limit.

        Raises:
            ConfigError: Agent mode (an agent's tools run in Foundry), a parameter without a
                type hint, or a second tool with the same name.
            SessionError: The session already started (tools go in ``session.update``).
        """
        from ..tools import ToolRunner, build_tool

        def register(f: Callable[..., Any]) -> Tool:
            tool = build_tool(f, name=name, description=description, timeout=timeout)
            if self._agent_config is not None:
                raise ConfigError(
                    f"tool {tool.name!r}: in agent mode the agent's tools run in Foundry; "
                    "define them on the agent (or use model mode for client-side tools)"
                )
            if self._life.state is not SessionState.IDLE:
                raise SessionError("register tools before start(): they go in session.update")
            if any(t.name == tool.name for t in self.options.tools):
                raise ConfigError(f"there is already a tool named {tool.name!r}")
            if self._tool_runner is None:
                self._tool_runner = ToolRunner(self)
            self._tool_runner.add(tool)
            self.options = self.options.model_copy(
                update={"tools": (*self.options.tools, tool.definition)}
            )
            self._link.set_options(self.options)
            return tool

        return register if fn is None else register(fn)

    @property
    def metrics(self) -> SessionMetrics:
        """Latency figures: every turn's :class:`~voiceagent.TurnMetrics`, totals, percentiles."""
        return self._metrics.metrics

    @property
    def session_id(self) -> str | None:
        """The service's session id (``sess_...``), from ``session.created``/``updated``."""
        return self._receiver.service.session_id

    @property
    def conversation_id(self) -> str | None:
        """The conversation id (resume it with ``AgentConfig.resume``).

        Known from the first ``session.updated`` in agent mode (``session.agent.thread_id``),
        or from ``response.done``.
        """
        return self._receiver.service.conversation_id

    @property
    def agent(self) -> AgentInfo | None:
        """The agent the service reports (agent mode)."""
        return self._receiver.service.agent

    @property
    def voice(self) -> str | None:
        """The voice the service confirmed."""
        return self._receiver.service.voice

    async def wait_for_reply(self, count: int = 1, *, timeout: float | None = None) -> None:
        """Wait until the agent has finished ``count`` more replies (heard in full or cut off).

        "Finished" means logged: an assistant ``voiceagent.turn``. Handy to run a script or a
        test until the agent has answered, then close.

        Raises:
            TimeoutError: Not within ``timeout`` seconds.
            VoiceAgentError: The session closed with an error first.
        """
        target = self._delivery.assistant_turns + count
        waiter = asyncio.ensure_future(self._delivery.wait_assistant_turns(target))
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
            closed.cancel()
        if waiter in done:
            return
        if closed in done:
            if self._failure is not None:
                raise self._failure
            raise SessionClosedError("the session closed before the agent replied")
        raise TimeoutError(f"the agent did not reply {count} time(s) within {timeout:g} s")

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """Add a typed user message to the conversation and (by default) ask for a response.

        The message is logged as a user turn once the service has accepted it.

        Raises:
            ConfigError: ``text`` is not a non-empty str (nothing is sent).
            SessionClosedError: The session is not ready.
            ConnectError: The connection dropped while sending (``retryable``).
        """
        arguments.check_text("send_text", text)
        with self._sending() as wire:
            item_id, event_id = f"item_va{secrets.token_hex(8)}", f"evt_va{secrets.token_hex(8)}"
            self._receiver.expect_typed_text(item_id, event_id, text)
            await wire.add_user_text(text, item_id=item_id, event_id=event_id)
            if respond:
                await wire.create_response()
                self._metrics.typed_message_sent(item_id)  # the turn's clock starts at the send

    async def say(self, text: str) -> None:
        """Have the agent speak ``text`` verbatim; it becomes part of the history.

        Raises:
            ConfigError: ``text`` is not a non-empty str (nothing is sent).
            SessionClosedError: The session is not ready.
            ConnectError: The connection dropped while sending (``retryable``).
        """
        arguments.check_text("say", text)
        with self._sending() as wire:
            await wire.say(text)

    async def create_response(self) -> None:
        """Ask for a response now (when turn detection is off or ``create_response`` is false)."""
        with self._sending() as wire:
            await wire.create_response()

    async def cancel_response(self) -> bool:
        """Cancel the response in progress; returns False (and sends nothing) when none is."""
        with self._sending() as wire:
            response_id = self._responses.active_id
            if response_id is None:
                return False
            await wire.cancel_response(response_id)
            return True

    async def commit_audio(self) -> None:
        """End the user's turn by hand (push-to-talk, when turn detection is off)."""
        with self._sending() as wire:
            await wire.commit_audio()

    async def send_function_result(
        self, call_id: str, output: str, *, respond: bool = True
    ) -> None:
        """Return a function call's result and (by default) ask for the follow-up response.

        Returns once the output is sent. The follow-up goes on a session task through
        :meth:`request_response`: once no response is in progress, at once when none is, else
        right after the current one's ``response.done`` (sent earlier, the service refuses it
        with ``conversation_already_has_active_response``); a lost connection drops it. Tools
        registered with :meth:`tool` need none of this: the library answers them.

        Raises:
            SessionClosedError: The session is not ready.
            ConnectError: The connection dropped while sending (``retryable``).
        """
        with self._sending() as wire:
            await wire.add_function_output(call_id, output)
        if respond:
            self.create_task(self._follow_up(), name="follow-up")

    async def _follow_up(self) -> None:
        try:
            await self.request_response()
        except VoiceAgentError as exc:  # closed, or dropped: the new turn gets its own response
            log.info("no follow-up response: %s", exc)

    # --- the port for plug-ins (tools, metrics, bridges, servers) --------------------------

    @property
    def response_in_progress(self) -> bool:
        """True between a ``response.created`` and its ``response.done``.

        Known on the receive task, in the service's order: it can be ahead of the events your
        handlers are still being given.
        """
        return self._responses.active

    def publish(self, event: LibraryEvent) -> None:
        """Queue a library event for the handlers, after the events already queued.

        For plug-ins that report what they saw (a tool's end, a turn's figures, a bridge's
        DTMF digit): the handlers registered for ``event.type`` get it on the dispatch task,
        like the session's own events. Never blocks and never raises for a closed session
        (events after ``voiceagent.closed`` are dropped).
        """
        self._delivery.emit(event)

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send a client event the session has no method for (a JSON object with a ``type``).

        Prefer the session's methods: they keep the log and the barge-in bookkeeping right.
        For ``response.create`` as a follow-up, use :meth:`request_response`.

        Raises:
            ConfigError: ``event`` is not a dict with a str ``type`` (nothing is sent).
            SessionClosedError: The session is not ready.
            ConnectError: The connection dropped while sending (``retryable``).
        """
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise ConfigError(
                f"send_event needs a dict with a str 'type' (a client event), got {event!r:.80}"
            )
        with self._sending() as wire:
            await wire.send_event(event)

    async def request_response(self) -> bool:
        """Ask for a response as soon as the service allows one; the follow-up after a tool.

        Sent at once when no response is in progress, else right after the current one's
        ``response.done`` (sent earlier, the service refuses it with
        ``conversation_already_has_active_response``); refused as busy anyway, it is asked
        again after the next ``response.done``, up to 5 times. Cancelling the call before it
        is sent sends nothing. :meth:`create_response` instead sends at once.

        Returns:
            True once the service took it (its response has run: ``response.done``); False
            when it gave up: refused 5 times, refused for another reason, or the connection
            was lost meanwhile (a new connection has no use for the old follow-up).

        Raises:
            SessionClosedError: The session is not ready when it is time to send.
            ConnectError: The connection dropped while sending (``retryable``).
        """

        async def send(event_id: str) -> None:
            with self._sending() as wire:
                await wire.send_event({"type": "response.create", "event_id": event_id})

        return await self._responses.request(send)
