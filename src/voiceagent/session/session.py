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
import logging
import secrets
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar, overload

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
from ..conversation import ConversationLog, SessionInfo, Turn
from ..dispatch import EventRegistry, Handler
from ..errors import ConnectError, SessionClosedError, SessionError, VoiceAgentError
from ..events import (
    AgentInfo,
    BargeIn,
    LibraryEvent,
    PlaybackFinished,
    Reconnected,
    Reconnecting,
    SessionClosed,
    SessionReady,
    TurnLogged,
)
from ..voicelive.connector import Credential, VoiceLiveConnector
from ..voicelive.reconnect import should_reconnect
from ..voicelive.wire import ConnectionLost, InboundEvent, Wire
from . import arguments
from .bargein import BargeInPlan, BargeInPolicy
from .lifecycle import Lifecycle, SessionState
from .link import Link
from .receive import Receiver
from .turns import TurnTracker

__all__ = ["LLM_GREETING_PROMPT", "VoiceAgentSession"]

log = logging.getLogger("voiceagent.session")

T = TypeVar("T")
H = TypeVar("H", bound=Handler)

LLM_GREETING_PROMPT = "Say something to welcome the user."
"""The system message sent for ``greeting="llm"`` (the wording of the official samples)."""

# Microphone blocks waiting to be sent; beyond this (1 s at 20 ms blocks) the oldest are
# dropped: stale speech is worse than a gap.
_MIC_QUEUE_BLOCKS = 50
_CLOSE_SEND_TIMEOUT_S = 0.5


class _Listener:
    """The session's side of the audio contract (kept off the public surface)."""

    def __init__(self, session: VoiceAgentSession) -> None:
        self._session = session

    def on_input(self, pcm: bytes) -> None:
        self._session._microphone(pcm)

    def on_playback_idle(self) -> None:
        self._session._playback_idle()

    async def wait_ready(self) -> None:
        """Scripted inputs (WAV, memory) hold their audio until the session can send it."""
        await self._session._ready_once.wait()


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
        self._decoder = OutputDecoder(self.options.output_audio_format)
        self._encoder = InputEncoder(
            self.format.sample_rate, self.options.input_audio_format, self.options.input_sample_rate
        )
        self._audio: AudioBackend | None = None
        self._events = EventRegistry()
        self._tracker = TurnTracker(self.format.sample_rate)
        self._receiver = Receiver(self)
        resuming = isinstance(agent, AgentConfig) and agent.conversation_id is not None
        if resuming:
            self._receiver.service.conversation_id = agent.conversation_id  # type: ignore[union-attr]
        self._greet_pending = self.greeting is not None and (greet_on_resume or not resuming)
        self._life = Lifecycle()
        self._ready_once = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dispatch_queue: asyncio.Queue[InboundEvent | LibraryEvent | None] = asyncio.Queue()
        self._mic_queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_MIC_QUEUE_BLOCKS)
        self._closed = asyncio.Event()
        self._failure: VoiceAgentError | None = None
        self._typed_texts: dict[str, tuple[str, str]] = {}  # item id -> (event id, text)
        self._dropped_mic_blocks = 0

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

    # --- state ---------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The lifecycle state."""
        return self._life.state

    @property
    def audio(self) -> AudioBackend | None:
        """The audio backend in use (None before start)."""
        return self._audio

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
            self._audio = audio
            await self._connect(reconnected=False)
            self._life.to(SessionState.READY)
            self._ready_once.set()
            self._spawn(self._receive_loop(), "receive")
            self._spawn(self._send_loop(), "send")
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
        await self._stop_talking()
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

    async def _stop_talking(self) -> None:
        """Cut playback, tell the service what was heard, log it, stop the devices."""
        audio = self._audio
        played = audio.played_frames if audio is not None else _nothing_played
        if audio is not None:
            audio.flush()
        wire = self._link.wire
        if wire is not None and self._tracker.open_items:
            plan = self._tracker.plan_barge_in(
                played,
                policy=BargeInPolicy(cancel_response="always", truncate=True),
                service_cancels=False,
                service_truncates=self._receiver.service.service_truncates,
            )
            try:
                await asyncio.wait_for(self._send_plan(wire, plan), _CLOSE_SEND_TIMEOUT_S)
            except (asyncio.TimeoutError, ConnectionLost):
                log.debug("could not tell the service what was heard before closing")
            self._log_turns(plan.turns)
        self._log_turns(self._tracker.finish_all(played))
        if audio is not None:
            try:
                await audio.stop()
            except Exception:
                log.exception("audio backend failed to stop")

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

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """Add a typed user message to the conversation and (by default) ask for a response.

        The message is logged as a user turn once the service has accepted it.

        Raises:
            ConfigError: ``text`` is not a non-empty str (nothing is sent).
            SessionClosedError: The session is not ready.
        """
        arguments.check_text("send_text", text)
        wire = self._require_wire()
        item_id, event_id = f"item_va{secrets.token_hex(8)}", f"evt_va{secrets.token_hex(8)}"
        self._typed_texts[item_id] = (event_id, text)
        await wire.add_user_text(text, item_id=item_id, event_id=event_id)
        if respond:
            await wire.create_response()

    async def say(self, text: str) -> None:
        """Have the agent speak ``text`` verbatim; it becomes part of the history.

        Raises:
            ConfigError: ``text`` is not a non-empty str (nothing is sent).
        """
        arguments.check_text("say", text)
        await self._require_wire().say(text)

    async def create_response(self) -> None:
        """Ask for a response now (when turn detection is off or ``create_response`` is false)."""
        await self._require_wire().create_response()

    async def cancel_response(self) -> bool:
        """Cancel the response in progress; returns False (and sends nothing) when none is."""
        wire = self._require_wire()
        if not self._tracker.response_active:
            return False
        await wire.cancel_response(self._tracker.active_response_id)
        return True

    async def commit_audio(self) -> None:
        """End the user's turn by hand (push-to-talk, when turn detection is off)."""
        await self._require_wire().commit_audio()

    async def send_function_result(
        self, call_id: str, output: str, *, respond: bool = True
    ) -> None:
        """Return a function call's result and (by default) ask for the follow-up response."""
        wire = self._require_wire()
        await wire.add_function_output(call_id, output)
        if respond:
            await wire.create_response()

    # --- connection ----------------------------------------------------------------------

    async def _connect(self, *, reconnected: bool, attempt: int = 0) -> None:
        """Open a connection (retrying), configure it, and announce it."""
        service = self._receiver.service
        service.configured = False

        def on_retry(number: int, delay: float, error: ConnectError) -> None:
            self._emit(
                Reconnecting(
                    attempt=attempt + number, delay_s=delay, close_code=None, reason=str(error)
                )
            )

        tries = await self._link.open(
            self._resume_agent(),
            self._on_setup_frame,
            lambda: service.configured,
            on_retry=on_retry,
        )
        info = SessionInfo(
            session_id=service.session_id,
            conversation_id=service.conversation_id,
            agent=service.agent,
            voice=service.voice,
            model=self._link.connector.config.model,
        )
        self.log.add_session(info)
        self._emit(
            SessionReady(
                session_id=service.session_id,
                conversation_id=service.conversation_id,
                agent=service.agent,
                voice=service.voice,
                reconnected=reconnected,
            )
        )
        if reconnected:
            self._emit(
                Reconnected(attempt=attempt + tries - 1, conversation_id=service.conversation_id)
            )

    async def _on_setup_frame(self, frame: Any) -> None:
        event = await self._receiver.handle(frame)
        if event is not None:
            self._dispatch_queue.put_nowait(event)

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
        audio = self._audio
        if audio is not None:
            audio.flush()  # the response it belonged to is gone
        self._log_turns(self._tracker.finish_all(audio.played_frames if audio else _nothing_played))
        self._emit(Reconnecting(attempt=1, delay_s=0.0, close_code=lost.code, reason=str(lost)))
        await self._connect(reconnected=True, attempt=1)
        self._life.to(SessionState.READY)

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

    async def _send_loop(self) -> None:
        while True:
            blocks = [await self._mic_queue.get()]
            while not self._mic_queue.empty():  # blocks already waiting go as one append
                blocks.append(self._mic_queue.get_nowait())
            wire = self._link.wire
            if wire is None or self._life.state is not SessionState.READY:
                continue  # reconnecting: stale speech is dropped, not replayed later
            try:
                await wire.append_audio(b"".join(self._encoder.encode(b) for b in blocks))
            except ConnectionLost:
                continue  # the receive loop sees the same drop and reconnects

    # --- audio (event loop thread) -------------------------------------------------------

    def _microphone(self, pcm: bytes) -> None:
        if self._life.state is not SessionState.READY:
            return
        if self._mic_queue.full():
            self._mic_queue.get_nowait()
            self._dropped_mic_blocks += 1
            if self._dropped_mic_blocks in (1, 100, 1000):
                log.warning(
                    "network too slow: dropped %d microphone blocks", self._dropped_mic_blocks
                )
        self._mic_queue.put_nowait(pcm)

    def _play(self, item_id: str, response_id: str | None, wire_audio: bytes) -> None:
        """Assistant audio from the service: to the backend at once (called by the receiver)."""
        audio = self._audio
        if audio is None:
            return
        pcm = self._decoder.decode(wire_audio)
        if self._tracker.audio_received(item_id, response_id, len(pcm) // 2):
            audio.play(item_id, pcm)

    def _playback_idle(self) -> None:
        # The queue also runs dry between deltas when audio arrives just in time; that is an
        # underrun, not the end. Finished means: no response streaming and nothing queued.
        if self._tracker.response_active:
            return
        self._playback_finished()

    def _playback_finished(self) -> None:
        self._log_turns(self._tracker.playback_idle())
        self._emit(PlaybackFinished(item_id=self._tracker.playing_item))

    async def _response_done(self, response_id: str | None, output_ids: list[str]) -> None:
        """``response.done`` (called by the receiver)."""
        outcome = self._tracker.response_done(response_id, output_ids)
        wire = self._link.wire
        if wire is not None:
            try:
                for item_id in outcome.delete:
                    await wire.delete_item(item_id)
            except ConnectionLost:
                log.debug("connection lost while deleting an unheard item")
        self._log_turns(outcome.turns)
        audio = self._audio
        if outcome.awaiting_playback and audio is not None and not audio.is_playing:
            self._playback_finished()  # the last audio was already played when this arrived

    async def _barge_in(self) -> None:
        """``speech_started``: stop the agent's voice first, then fix the history."""
        audio = self._audio
        if not self.barge_in_policy.enabled or audio is None:
            return
        audio.flush()  # first: the agent stops within one block, whatever follows
        service = self._receiver.service
        plan = self._tracker.plan_barge_in(
            audio.played_frames,
            policy=self.barge_in_policy,
            service_cancels=service.service_cancels,
            service_truncates=service.service_truncates,
        )
        if plan.item_id is None and not plan.cancel:
            return  # nothing was playing or in progress: ordinary user speech
        wire = self._link.wire
        if wire is not None:
            try:
                await self._send_plan(wire, plan)
            except ConnectionLost:
                log.debug("connection lost while handling a barge-in")
        self._log_turns(plan.turns)
        self._emit(
            BargeIn(
                item_id=plan.item_id,
                played_ms=plan.played_ms,
                received_ms=plan.received_ms,
                response_cancelled=plan.cancel,
                truncated=bool(plan.truncations),
                heard_text=plan.heard_text,
            )
        )
        log.info(
            "barge-in: item %s heard %d of %d ms; cancel=%s truncate=%s delete=%s",
            plan.item_id,
            plan.played_ms,
            plan.received_ms,
            plan.cancel,
            [t.audio_end_ms for t in plan.truncations],
            list(plan.deletions),
        )

    @staticmethod
    async def _send_plan(wire: Wire, plan: BargeInPlan) -> None:
        if plan.cancel_response_id is not None:
            await wire.cancel_response(plan.cancel_response_id)
        for cut in plan.truncations:
            await wire.truncate(cut.item_id, cut.audio_end_ms)
        for item_id in plan.deletions:
            await wire.delete_item(item_id)

    # --- the log and events --------------------------------------------------------------

    def _typed_text_accepted(self, item_id: str | None) -> None:
        """``conversation.item.created``: a typed message of ours is in the conversation."""
        if item_id is not None and item_id in self._typed_texts:
            _, text = self._typed_texts.pop(item_id)
            self._log_turn(Turn(role="user", text=text, item_id=item_id))

    def _typed_text_refused(self, event_id: str | None) -> None:
        """``error`` for one of our typed messages: it was not said, so it is not logged."""
        for item_id, (sent_event_id, _) in list(self._typed_texts.items()):
            if sent_event_id == event_id:
                del self._typed_texts[item_id]
                log.warning("the service refused a typed message (%s); it is not logged", item_id)

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
        if not self._greet_pending:
            return
        self._greet_pending = False  # once per conversation: never again after a reconnect
        wire = self._require_wire()
        if self.greeting == arguments.LLM_GREETING:
            await wire.add_system_message(LLM_GREETING_PROMPT)
            await wire.create_response()
        elif self.greeting is not None:
            await wire.say(self.greeting)


def _nothing_played(item_id: str) -> int:
    return 0


def _default_audio() -> AudioBackend:
    from ..audio.sounddevice_backend import SoundDeviceAudio

    return SoundDeviceAudio()
