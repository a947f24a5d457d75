"""VoiceAgentSession: one voice conversation with a Foundry agent or a model.

The facade wires the parts and owns every task; the parts own their state:

* :class:`~.link.Link`: the connection (open, configure, wait until ready, reopen);
* :class:`~.receive.Receiver`: the session's work per server event, and what the service said;
* :class:`~.turns.TurnTracker`: every assistant item, what was heard, what to log;
* :class:`~.lifecycle.Lifecycle`: ``idle -> connecting -> ready <-> reconnecting -> closing ->
  closed``.

Three tasks run while it is open: **receive** (server events; audio to the backend and barge-in
happen here, before any user handler), **dispatch** (user handlers in order, from a queue, so a
slow handler never delays audio) and **send** (microphone blocks to the service).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..audio.base import AudioBackend
from ..audio.codec import InputEncoder, OutputDecoder
from ..audio.format import AudioFormat
from ..config import (
    AgentConfig,
    ClassicAgentConfig,
    ConnectionConfig,
    SessionOptions,
    resolve_connection,
)
from ..conversation import ConversationLog, Turn
from ..dispatch import EventRegistry, Handler
from ..errors import (
    ConfigError,
    ConnectError,
    SessionClosedError,
    SessionError,
    VoiceAgentError,
)
from ..events import (
    AgentInfo,
    LibraryEvent,
    Reconnecting,
    SessionClosed,
    TurnLogged,
)
from ..voicelive.connector import Credential, VoiceLiveConnector
from ..voicelive.reconnect import should_reconnect
from ..voicelive.wire import ConnectionLost, InboundEvent, Wire
from . import arguments
from .bargein import BargeInPolicy
from .lifecycle import Lifecycle, SessionState
from .link import Link
from .microphone import Microphone
from .playback import Playback
from .receive import Receiver
from .turns import TurnTracker

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..observe.metrics import SessionMetrics
    from ..tools import Tool, ToolRunner

__all__ = ["LLM_GREETING_PROMPT", "VoiceAgentSession"]

log = logging.getLogger("voiceagent.session")

T = TypeVar("T")
H = TypeVar("H", bound=Handler)

LLM_GREETING_PROMPT = "Say something to welcome the user."
"""The system message sent for ``greeting="llm"`` (the wording of the official samples)."""


class _Listener:
    """The session's side of the audio contract (kept off the public surface)."""

    def __init__(self, session: VoiceAgentSession) -> None:
        self._session = session

    def on_input(self, pcm: bytes) -> None:
        if self._session._life.state is SessionState.READY:
            self._session._microphone.on_input(pcm)

    def on_playback_idle(self) -> None:
        self._session._playback.idle()

    async def wait_ready(self) -> None:
        """Scripted inputs (WAV, memory) hold their audio until the session can send it."""
        await self._session._ready_once.wait()


class _Sink:
    """Where playback reports turns and events (kept off the public surface)."""

    def __init__(self, session: VoiceAgentSession) -> None:
        self._session = session

    def log_turns(self, turns: list[Turn]) -> None:
        self._session._log_turns(turns)

    def emit(self, event: LibraryEvent) -> None:
        self._session._emit(event)


class VoiceAgentSession:
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
        tools: Iterable[Tool | Callable[..., Any]] = (),
    ) -> None:
        agent = arguments.check_agent(agent)
        self.options = arguments.check_options(options)
        self.greeting = arguments.check_greeting(greeting)
        self._audio_arg = arguments.check_audio(audio)
        self.barge_in_policy = arguments.check_barge_in(barge_in)
        self.ready_timeout = arguments.check_timeout("ready_timeout", ready_timeout)
        config = resolve_connection(
            endpoint=endpoint,
            model=model,
            connection=connection,
            credential_given=credential is not None,
            agent_mode=agent is not None,
        )
        self.log = ConversationLog(log_path)
        self._agent_config = agent
        self._link = Link(
            VoiceLiveConnector(config, agent, credential=credential),
            self.options,
            self.ready_timeout,
        )
        self.format = AudioFormat(sample_rate=self.options.output_sample_rate)
        self._events = EventRegistry()
        self._receiver = Receiver(self)
        self._playback = Playback(
            TurnTracker(self.format.sample_rate),
            OutputDecoder(self.options.output_audio_format),
            self.barge_in_policy,
            self._receiver.service,
            lambda: self._link.wire,
            _Sink(self),
        )
        self._microphone = Microphone(
            InputEncoder(
                self.format.sample_rate,
                self.options.input_audio_format,
                self.options.input_sample_rate,
            ),
            self._ready_wire,
        )
        resuming = isinstance(agent, AgentConfig) and agent.conversation_id is not None
        if resuming:
            self._receiver.service.conversation_id = agent.conversation_id  # type: ignore[union-attr]
        self._greet_pending = self.greeting is not None and (greet_on_resume or not resuming)
        self._life = Lifecycle()
        self._ready_once = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dispatch_queue: asyncio.Queue[InboundEvent | LibraryEvent | None] = asyncio.Queue()
        self._closed = asyncio.Event()
        self._failure: VoiceAgentError | None = None
        from ..observe.metrics import MetricsCollector  # observers subscribe from outside

        self._metrics = MetricsCollector(self)
        self._tool_runner: ToolRunner | None = None
        for tool in tools:
            self.tool(tool)

    # --- handlers ------------------------------------------------------------------------

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
            self._link = Link(self._link.connector, self.options, self.ready_timeout)
            return tool

        return register if fn is None else register(fn)

    # --- state ---------------------------------------------------------------------------

    @property
    def metrics(self) -> SessionMetrics:
        """Latency figures: every turn's :class:`~voiceagent.TurnMetrics`, totals, percentiles."""
        return self._metrics.metrics

    @property
    def state(self) -> SessionState:
        """The lifecycle state."""
        return self._life.state

    @property
    def audio(self) -> AudioBackend | None:
        """The audio backend in use (None before start)."""
        return self._playback.audio

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

    # --- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> VoiceAgentSession:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Open the audio devices, connect, configure; return once the session is ready.

        Retryable failures (throttling, a server error, a drop during set-up) are retried with
        the reconnect policy's backoff. On failure everything started is undone and the error
        is raised: :class:`~voiceagent.ConnectError`, :class:`~voiceagent.ConfigError` or
        :class:`~voiceagent.AudioError`, the cause chained.
        """
        if self._life.state is not SessionState.IDLE:
            raise SessionClosedError(f"start() needs an idle session; it is {self.state.value}")
        self._life.to(SessionState.CONNECTING)
        try:
            self._spawn(self._dispatch_loop(), "dispatch")
            audio = self._audio_arg if self._audio_arg is not None else _default_audio()
            await audio.start(self.format, _Listener(self))  # devices first: fail before I/O
            self._playback.audio = audio
            await self._connect(reconnected=False)
            self._life.to(SessionState.READY)
            self._ready_once.set()
            self._spawn(self._receive_loop(), "receive")
            self._spawn(self._microphone.run(), "send")
            await self._greet()
        except BaseException as exc:
            self._fail(exc)
            await self.aclose()
            if isinstance(exc, (VoiceAgentError, asyncio.CancelledError)):
                raise
            raise self._failure from exc  # type: ignore[misc]

    async def wait_closed(self) -> None:
        """Wait until the session closes; raise the error that closed it, if one did.

        Raises:
            VoiceAgentError: The session failed (a subclass, with the cause chained).
        """
        await self._closed.wait()
        if self._failure is not None:
            raise self._failure

    async def run(self) -> None:
        """Start, talk until Ctrl+C (SIGINT/SIGTERM) or the session ends, and close cleanly.

        A reply cut by Ctrl+C is logged as interrupted, with what the user heard.
        """
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._request_close)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or Windows: KeyboardInterrupt still works
        try:
            async with self:
                await self.wait_closed()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def _request_close(self) -> None:
        log.info("interrupted: closing the session")
        self.create_task(self.aclose(), name="close")

    async def aclose(self) -> None:
        """Stop audio, log what was heard, close the connection and every task.

        A reply playing at that moment is cut: the service is told what was heard (cancel,
        truncate) and the log records it as interrupted. Safe to call more than once.
        """
        if self._life.closing:
            await self._closed.wait()
            return
        self._life.to(SessionState.CLOSING)
        current = asyncio.current_task()
        await self._playback.stop()
        if self.audio is not None:
            try:
                await self.audio.stop()
            except Exception:
                log.exception("audio backend failed to stop")
        for task in list(self._tasks):
            if task is not current and task.get_name() != "voiceagent-dispatch":
                task.cancel()
        await self._link.aclose()
        self._emit(SessionClosed(error=self._failure))
        self._dispatch_queue.put_nowait(None)  # the dispatcher stops after the closed event
        pending = [t for t in self._tasks if t is not current]
        if pending:
            _, still = await asyncio.wait(pending, timeout=2.0)
            for task in still:
                task.cancel()
        self._life.to(SessionState.CLOSED)
        self._closed.set()
        log.info("session closed")

    def _fail(self, exc: BaseException) -> None:
        """Record why the session ends, as a VoiceAgentError (the first reason wins)."""
        if self._failure is not None or isinstance(exc, asyncio.CancelledError):
            return
        if isinstance(exc, VoiceAgentError):
            self._failure = exc
        else:
            error = SessionError(f"the session failed unexpectedly: {exc!r}")
            error.__cause__ = exc
            self._failure = error

    def create_task(
        self, coro: Coroutine[Any, Any, T], *, name: str | None = None
    ) -> asyncio.Task[T]:
        """Run ``coro`` as a task the session names, tracks, logs on failure and cancels on close.

        Use it from handlers for slow work, so that later events are not held up.
        """
        return self._spawn(coro, name or str(getattr(coro, "__name__", "task")))

    def _spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=f"voiceagent-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    # --- talking -------------------------------------------------------------------------

    def _require_wire(self) -> Wire:
        wire = self._link.wire
        if wire is None or self._life.state is not SessionState.READY:
            raise SessionClosedError(f"the session is {self.state.value}, not ready")
        return wire

    @contextlib.contextmanager
    def _sending(self) -> Iterator[Wire]:
        """The ready connection; a drop while sending becomes a retryable ConnectError."""
        wire = self._require_wire()
        try:
            yield wire
        except ConnectionLost as lost:
            raise ConnectError(
                f"the connection dropped while sending (code {lost.code}); the session is "
                "reconnecting: send again once it is ready (voiceagent.session_ready)",
                endpoint=self._link.endpoint,
                retryable=True,
            ) from lost

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
            tracker = self._playback.tracker
            if not tracker.response_active:
                return False
            await wire.cancel_response(tracker.active_response_id)
            return True

    async def commit_audio(self) -> None:
        """End the user's turn by hand (push-to-talk, when turn detection is off)."""
        with self._sending() as wire:
            await wire.commit_audio()

    async def send_function_result(
        self, call_id: str, output: str, *, respond: bool = True
    ) -> None:
        """Return a function call's result and (by default) ask for the follow-up response."""
        with self._sending() as wire:
            await wire.add_function_output(call_id, output)
            if respond:
                await wire.create_response()

    # --- connection ----------------------------------------------------------------------

    async def _connect(self, *, reconnected: bool, attempt: int = 0) -> None:
        await self._link.establish(
            self._resume_agent,
            self._receiver,
            self._dispatch_queue.put_nowait,
            self._emit,
            self.log,
            reconnected=reconnected,
            attempt=attempt,
        )

    def _resume_agent(self) -> AgentConfig | ClassicAgentConfig | None:
        """The agent for the next connection: resuming our conversation when we know it."""
        agent = self._agent_config
        conversation_id = self._receiver.service.conversation_id
        if isinstance(agent, AgentConfig) and conversation_id:
            return agent.resume(conversation_id)
        return agent

    async def _reconnect(self, lost: ConnectionLost) -> None:
        self._life.to(SessionState.RECONNECTING)
        log.warning("connection lost (code %s); reconnecting", lost.code)
        await self._link.close()
        self._playback.connection_lost()
        self._emit(Reconnecting(attempt=1, delay_s=0.0, close_code=lost.code, reason=str(lost)))
        await self._connect(reconnected=True, attempt=1)
        self._life.to(SessionState.READY)
        await self._greet()

    # --- the three loops -----------------------------------------------------------------

    async def _receive_loop(self) -> None:
        try:
            while True:
                wire = self._link.wire
                if wire is None:
                    return
                try:
                    event = await self._receiver.handle(await wire.recv())
                except ConnectionLost as lost:
                    if self._life.closing:
                        return
                    if not should_reconnect(lost.code, self._link.connector.config.reconnect):
                        raise ConnectError(
                            f"the service closed the connection (code {lost.code}"
                            f"{': ' + lost.reason if lost.reason else ''})",
                            endpoint=self._link.endpoint,
                        ) from lost
                    await self._reconnect(lost)
                    continue
                if event is not None:
                    self._dispatch_queue.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)
            log.error("session failed: %s", self._failure)
            self.create_task(self.aclose(), name="close-after-failure")

    async def _dispatch_loop(self) -> None:
        while True:
            item = await self._dispatch_queue.get()
            if item is None:
                return
            if isinstance(item, InboundEvent):
                if not self._events.wants(item.type):
                    continue  # nobody listens: never pay for the SDK's typed event
                try:
                    typed: Any = item.typed()
                except Exception as exc:  # the SDK could not model it: report, go on
                    self._receiver.report(item.type, f"the SDK could not parse it: {exc!r}", "")
                    continue
                await self._events.emit(typed)
            else:
                await self._events.emit(item)

    # --- the log and events --------------------------------------------------------------

    def _ready_wire(self) -> Wire | None:
        return self._link.wire if self._life.state is SessionState.READY else None

    def _log_turns(self, turns: list[Turn]) -> None:
        for turn in turns:
            self._log_turn(turn)

    def _log_turn(self, turn: Turn) -> None:
        self.log.add_turn(turn)
        self._emit(
            TurnLogged(
                role=turn.role,
                text=turn.text,
                item_id=turn.item_id,
                interrupted=turn.interrupted,
                full_text=turn.full_text,
            )
        )

    def _emit(self, event: LibraryEvent) -> None:
        self._dispatch_queue.put_nowait(event)

    async def _greet(self) -> None:
        """Greet once per conversation; a greeting lost to a drop is sent after the reconnect."""
        wire = self._link.wire
        if not self._greet_pending or wire is None:
            return
        self._greet_pending = False  # sent: never again, not after a reconnect either
        try:
            if self.greeting == arguments.LLM_GREETING:
                await wire.add_system_message(LLM_GREETING_PROMPT)
                await wire.create_response()
            elif self.greeting is not None:
                await wire.say(self.greeting)
        except ConnectionLost:
            self._greet_pending = True  # never reached the service: the receive loop reconnects


def _default_audio() -> AudioBackend:
    from ..audio.sounddevice_backend import SoundDeviceAudio

    return SoundDeviceAudio()
