"""VoiceAgentSession: one voice conversation with a Foundry agent or a model.

The session wires the parts and owns every task; it knows no wire format details (``wire.py``)
and no device details (``audio/``). Three tasks run while it is open:

* **receive**: reads server events and does the time-critical work *before* any user handler
  runs: assistant audio goes to the backend, barge-in flushes playback and tells the service.
  Reconnects on a recoverable drop.
* **dispatch**: runs user handlers in order from a queue, so a slow handler never delays audio
  or barge-in (a handler's own slow work belongs in :meth:`VoiceAgentSession.create_task`).
* **send**: streams microphone blocks to the service.

Lifecycle is one state machine: ``idle -> connecting -> ready <-> reconnecting -> closing ->
closed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar, overload

from azure.ai.voicelive.models import ServerEvent

from .audio.base import AudioBackend
from .audio.codec import InputEncoder, OutputDecoder
from .audio.format import AudioFormat
from .bargein import BargeInPlan, BargeInPolicy, PlaybackTracker
from .config import AgentConfig, ClassicAgentConfig, ConnectionConfig, SessionOptions
from .connection import (
    RECOVERABLE_CLOSE_CODES,
    Backoff,
    Credential,
    VoiceLiveConnector,
    is_recoverable,
)
from .dispatch import EventRegistry, Handler
from .errors import ConfigError, ConnectError, SessionClosedError, VoiceAgentError
from .events import (
    AgentInfo,
    BargeIn,
    PlaybackFinished,
    Reconnected,
    Reconnecting,
    SessionClosed,
    SessionReady,
    TurnLogged,
)
from .transcript import ConversationLog, SessionInfo, Turn
from .wire import ConnectionLost, Wire

__all__ = ["SessionState", "VoiceAgentSession"]

log = logging.getLogger(__name__)

T = TypeVar("T")
H = TypeVar("H", bound=Handler)

LLM_GREETING_PROMPT = "Say something to welcome the user."
"""The system message sent for ``greeting="llm"`` (the wording of the official samples)."""

# Microphone blocks waiting to be sent; beyond this (1 s at 20 ms blocks) the oldest are
# dropped: stale speech is worse than a gap.
_MIC_QUEUE_BLOCKS = 50


class SessionState(str, enum.Enum):
    """Where a session is in its life."""

    IDLE = "idle"
    CONNECTING = "connecting"
    READY = "ready"
    RECONNECTING = "reconnecting"
    CLOSING = "closing"
    CLOSED = "closed"


_TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.IDLE: frozenset({SessionState.CONNECTING, SessionState.CLOSING}),
    SessionState.CONNECTING: frozenset({SessionState.READY, SessionState.CLOSING}),
    SessionState.READY: frozenset({SessionState.RECONNECTING, SessionState.CLOSING}),
    SessionState.RECONNECTING: frozenset({SessionState.READY, SessionState.CLOSING}),
    SessionState.CLOSING: frozenset({SessionState.CLOSED}),
    SessionState.CLOSED: frozenset(),
}


class _Listener:
    """The session's side of the audio contract (kept off the public surface)."""

    def __init__(self, session: VoiceAgentSession) -> None:
        self._session = session

    def on_input(self, pcm: bytes) -> None:
        self._session._microphone(pcm)

    def on_playback_idle(self) -> None:
        self._session._playback_idle()


class VoiceAgentSession:
    """A voice conversation with an Azure AI Foundry agent (or a model) through Voice Live.

    Args:
        endpoint: The Voice Live endpoint, e.g. ``https://<resource>.services.ai.azure.com``.
            None reads ``VOICELIVE_ENDPOINT`` / ``AZURE_VOICELIVE_ENDPOINT`` (or takes
            ``connection.endpoint``).
        agent: The Foundry agent to talk to (:class:`~voiceagent.AgentConfig`, or a legacy
            :class:`~voiceagent.ClassicAgentConfig`). None means model mode (``model=``).
        credential: None uses ``DefaultAzureCredential``; or any async/sync token credential;
            or ``AzureKeyCredential`` (model mode only: agent mode accepts Entra ID only).
        options: Session configuration (voice, formats, turn detection, ...).
        audio: The audio backend; None opens the default sound devices (``SoundDeviceAudio``).
        greeting: None (the user speaks first), ``"llm"`` (the agent greets in its own words)
            or a text spoken verbatim. Sent once, after the first ``session.updated``.
        model: Model mode: the model to use (e.g. ``"gpt-realtime"``).
        connection: Full connection settings (API version, key, reconnect); overrides
            ``endpoint`` and ``model`` when given.
        barge_in: What to do when the user talks over the agent.
        log_path: Also append the conversation log to this JSON Lines file.
        ready_timeout: Seconds to wait for the service to confirm the configuration.
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
    ) -> None:
        if connection is None:
            overrides: dict[str, Any] = {}
            if endpoint is not None:
                overrides["endpoint"] = endpoint
            if model is not None:
                overrides["model"] = model
            connection = ConnectionConfig.from_env(**overrides)
        elif endpoint is not None or model is not None:
            raise ConfigError("pass endpoint/model either as arguments or in connection=, not both")
        if greeting is not None and not greeting.strip():
            raise ConfigError('greeting must be None, "llm" or a non-empty text to speak')
        self.options = options or SessionOptions()
        self._agent_config = agent
        self._link = VoiceLiveConnector(connection, agent, credential=credential)
        self._audio_arg = audio
        self._audio: AudioBackend | None = None
        self.greeting = greeting
        self.barge_in_policy = barge_in or BargeInPolicy()
        self.log = ConversationLog(log_path)
        self.ready_timeout = ready_timeout

        self.format = AudioFormat(sample_rate=self.options.output_sample_rate)
        self._decoder = OutputDecoder(self.options.output_audio_format)
        self._encoder = InputEncoder(
            self.format.sample_rate,
            self.options.input_audio_format,
            self.options.input_sample_rate,
        )
        self._events = EventRegistry()
        self._tracker = PlaybackTracker(self.format.sample_rate)
        self._state = SessionState.IDLE
        self._wire: Wire | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dispatch_queue: asyncio.Queue[Any] = asyncio.Queue()
        self._mic_queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_MIC_QUEUE_BLOCKS)
        self._closed: asyncio.Event = asyncio.Event()
        self._failure: BaseException | None = None
        self._service_cancels = True
        self._service_truncates = False
        self._pending_assistant: dict[str, str | None] = {}  # item_id -> heard text if cut
        self._finished_items: set[str] = set()
        self._playing_item: str | None = None
        self._dropped_mic_blocks = 0

        self.session_id: str | None = None
        """The service's session id (``sess_...``), from ``session.created``/``updated``."""
        self.conversation_id: str | None = (
            agent.conversation_id if isinstance(agent, AgentConfig) else None
        )
        """The conversation id (resume it with ``AgentConfig.resume``)."""
        self.agent: AgentInfo | None = None
        """The agent the service reports (agent mode)."""
        self.voice: str | None = None
        """The voice the service confirmed."""

    # --- handlers ------------------------------------------------------------------------

    @overload
    def on(self, event: str) -> Callable[[H], H]: ...
    @overload
    def on(self, event: str, handler: H) -> H: ...

    def on(self, event: str, handler: H | None = None) -> Callable[[H], H] | H:
        """Register a handler (decorator or call); see :meth:`EventRegistry.on`.

        ``event`` is a server event type (``"response.audio.delta"``), a library event
        (``"voiceagent.barge_in"``), ``"*"`` or a prefix pattern (``"response.*"``).

        Raises:
            ValueError: unknown event name (the message names the closest one).
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
        return self._state

    @property
    def audio(self) -> AudioBackend | None:
        """The audio backend in use (None before start)."""
        return self._audio

    def _set_state(self, new: SessionState) -> None:
        if new not in _TRANSITIONS[self._state]:
            raise SessionClosedError(f"session cannot go from {self._state.value} to {new.value}")
        log.debug("state %s -> %s", self._state.value, new.value)
        self._state = new

    # --- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> VoiceAgentSession:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Connect, configure the session, start the audio; return once the session is ready.

        On failure everything started is undone and the error is raised
        (:class:`~voiceagent.ConnectError`, :class:`~voiceagent.ConfigError`,
        :class:`~voiceagent.AudioError`).
        """
        if self._state is not SessionState.IDLE:
            raise SessionClosedError(f"start() needs an idle session; it is {self._state.value}")
        self._set_state(SessionState.CONNECTING)
        try:
            self._spawn(self._dispatch_loop(), "dispatch")
            await self._connect(reconnected=False)
            self._audio = self._audio_arg if self._audio_arg is not None else _default_audio()
            await self._audio.start(self.format, _Listener(self))
            self._set_state(SessionState.READY)
            self._spawn(self._receive_loop(), "receive")
            self._spawn(self._send_loop(), "send")
            await self._greet()
        except BaseException as exc:
            self._failure = exc
            await self.aclose()
            raise

    async def wait_closed(self) -> None:
        """Wait until the session closes; raise the error that closed it, if one did."""
        await self._closed.wait()
        if self._failure is not None and not isinstance(self._failure, asyncio.CancelledError):
            raise self._failure

    async def run(self) -> None:
        """Start, talk until Ctrl+C (SIGINT/SIGTERM) or the session ends, and close cleanly."""
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
        """Stop audio, close the connection and every task. Safe to call more than once."""
        if self._state in (SessionState.CLOSING, SessionState.CLOSED):
            await self._closed.wait()
            return
        self._set_state(SessionState.CLOSING)
        current = asyncio.current_task()
        if self._audio is not None:
            try:
                await self._audio.stop()
            except Exception:
                log.exception("audio backend failed to stop")
        for task in list(self._tasks):
            if task is not current and task.get_name() != "voiceagent-dispatch":
                task.cancel()
        await self._close_connection()
        await self._link.aclose()
        error = self._failure if isinstance(self._failure, VoiceAgentError) else None
        self._dispatch_queue.put_nowait(SessionClosed(error=error))
        self._dispatch_queue.put_nowait(None)  # the dispatcher stops after the closed event
        pending = [t for t in self._tasks if t is not current]
        if pending:
            _, still = await asyncio.wait(pending, timeout=2.0)
            for task in still:
                task.cancel()
        self._set_state(SessionState.CLOSED)
        self._closed.set()
        log.info("session closed")

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
        if self._wire is None or self._state is not SessionState.READY:
            raise SessionClosedError(f"the session is {self._state.value}, not ready")
        return self._wire

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """Add a typed user message to the conversation and (by default) ask for a response."""
        wire = self._require_wire()
        await wire.add_user_text(text)
        self._log_turn(Turn(role="user", text=text))
        if respond:
            await wire.create_response()

    async def say(self, text: str) -> None:
        """Have the agent speak ``text`` verbatim; it becomes part of the history."""
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
        """Open a connection, send ``session.update`` and read until ``session.updated``."""
        stack = contextlib.AsyncExitStack()
        try:
            connection = await stack.enter_async_context(self._link.connect(self._resume_agent()))
            wire = Wire(connection)
            await wire.update_session(self.options.to_request_session())
            await asyncio.wait_for(self._read_until_ready(wire), self.ready_timeout)
        except asyncio.TimeoutError:
            await stack.aclose()
            raise ConnectError(
                f"the service at {self._link.endpoint} did not confirm the session "
                f"configuration within {self.ready_timeout:g} s",
                endpoint=self._link.endpoint,
            ) from None
        except ConnectionLost as exc:
            await stack.aclose()
            raise ConnectError(
                f"the connection to {self._link.endpoint} closed during set-up (code {exc.code})",
                endpoint=self._link.endpoint,
            ) from None
        except BaseException:
            await stack.aclose()
            raise
        self._stack, self._wire = stack, wire
        info = SessionInfo(
            session_id=self.session_id,
            conversation_id=self.conversation_id,
            agent=self.agent,
            voice=self.voice,
            model=self._link.config.model,
        )
        self.log.add_session(info)
        self._dispatch_queue.put_nowait(
            SessionReady(
                session_id=self.session_id,
                conversation_id=self.conversation_id,
                agent=self.agent,
                voice=self.voice,
                reconnected=reconnected,
            )
        )
        if reconnected:
            self._dispatch_queue.put_nowait(
                Reconnected(attempt=attempt, conversation_id=self.conversation_id)
            )

    def _resume_agent(self) -> AgentConfig | ClassicAgentConfig | None:
        """The agent for the next connection: resuming our conversation when we know it."""
        agent = self._agent_config
        if isinstance(agent, AgentConfig) and self.conversation_id:
            return agent.resume(self.conversation_id)
        return agent

    async def _read_until_ready(self, wire: Wire) -> None:
        while True:
            event = await wire.recv()
            if event is None:
                continue
            if event.type == "error":
                error = event.get("error") or {}
                raise ConfigError(
                    "the service rejected the session configuration: "
                    f"{error.get('message') or error} (code {error.get('code')})"
                )
            await self._handle(event)
            if event.type == "session.updated":
                return

    async def _close_connection(self) -> None:
        stack, self._stack, self._wire = self._stack, None, None
        if stack is not None:
            try:
                await stack.aclose()
            except Exception:
                log.debug("error while closing the connection", exc_info=True)

    async def _reconnect(self, lost: ConnectionLost) -> None:
        self._set_state(SessionState.RECONNECTING)
        log.warning("connection lost (code %s); reconnecting", lost.code)
        await self._close_connection()
        if self._audio is not None:
            self._audio.flush()  # the response it belonged to is gone
        self._finish_interrupted_turns()
        self._tracker.reset()
        backoff = Backoff(self._link.config.reconnect)
        attempt = 0
        while True:
            attempt += 1
            delay = backoff.next_delay()
            if delay is None:
                raise ConnectError(
                    f"gave up reconnecting to {self._link.endpoint} after {attempt - 1} "
                    f"attempts (last close code {lost.code})",
                    endpoint=self._link.endpoint,
                )
            self._dispatch_queue.put_nowait(
                Reconnecting(attempt=attempt, delay_s=delay, close_code=lost.code, reason=str(lost))
            )
            await asyncio.sleep(delay)
            try:
                await self._connect(reconnected=True, attempt=attempt)
            except ConnectError as exc:
                if not is_recoverable(exc):
                    raise  # credentials or endpoint: retrying cannot help
                log.warning("reconnect attempt %d failed: %s", attempt, exc)
                continue
            self._set_state(SessionState.READY)
            return

    # --- the three loops -----------------------------------------------------------------

    async def _receive_loop(self) -> None:
        try:
            while True:
                wire = self._wire
                if wire is None:
                    return
                try:
                    event = await wire.recv()
                except ConnectionLost as lost:
                    if self._state is SessionState.CLOSING:
                        return
                    retry = self._link.config.reconnect.max_attempts > 0
                    if not retry or lost.code not in RECOVERABLE_CLOSE_CODES:
                        raise ConnectError(
                            f"the service closed the connection (code {lost.code}"
                            f"{': ' + lost.reason if lost.reason else ''})",
                            endpoint=self._link.endpoint,
                        ) from None
                    await self._reconnect(lost)
                    continue
                if event is not None:
                    await self._handle(event)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            log.error("session failed: %s", exc)
            self._failure = exc
            self.create_task(self.aclose(), name="close-after-failure")

    async def _dispatch_loop(self) -> None:
        while True:
            event = await self._dispatch_queue.get()
            if event is None:
                return
            await self._events.emit(event)

    async def _send_loop(self) -> None:
        while True:
            pcm = await self._mic_queue.get()
            wire = self._wire
            if wire is None or self._state is not SessionState.READY:
                continue  # reconnecting: stale speech is dropped, not replayed later
            try:
                await wire.append_audio(self._encoder.encode(pcm))
            except ConnectionLost:
                continue  # the receive loop sees the same drop and reconnects

    # --- audio callbacks (event loop thread) ---------------------------------------------

    def _microphone(self, pcm: bytes) -> None:
        if self._state is not SessionState.READY:
            return
        if self._mic_queue.full():
            self._mic_queue.get_nowait()
            self._dropped_mic_blocks += 1
            if self._dropped_mic_blocks in (1, 100, 1000):
                log.warning(
                    "network too slow: dropped %d microphone blocks", self._dropped_mic_blocks
                )
        self._mic_queue.put_nowait(pcm)

    def _playback_idle(self) -> None:
        # The queue also runs dry between deltas when audio arrives just in time; that is an
        # underrun, not the end. Finished means: no response streaming and nothing queued.
        if self._tracker.response_active:
            return
        self._playback_finished()

    def _playback_finished(self) -> None:
        for item_id in list(self._pending_assistant):
            if item_id in self._finished_items and self._pending_assistant[item_id] is None:
                self._log_assistant(item_id, interrupted=False)
        self._dispatch_queue.put_nowait(PlaybackFinished(item_id=self._playing_item))

    # --- server events -------------------------------------------------------------------

    async def _handle(self, server_event: ServerEvent) -> None:
        """Do the session's own work for ``event``, then queue it for the user's handlers."""
        # The SDK parses into typed subclasses whose fields mypy cannot see on ServerEvent.
        event: Any = server_event
        kind = event.type
        dispatch = True
        if kind == "response.audio.delta":
            self._audio_delta(event)
        elif kind == "input_audio_buffer.speech_started":
            await self._barge_in()
        elif kind == "response.audio_transcript.delta":
            self._tracker.transcript_delta(event.item_id, event.get("response_id"), event.delta)
        elif kind == "response.audio_transcript.done":
            self._tracker.transcript_done(event.item_id, event.get("response_id"), event.transcript)
        elif kind == "response.text.done":
            self._tracker.transcript_done(event.item_id, event.get("response_id"), event.text)
        elif kind == "response.created":
            self._tracker.response_created(event.response.id)
        elif kind == "response.output_item.added":
            item = event.item
            if item.get("type") == "message" and item.get("role") == "assistant":
                self._pending_assistant[item["id"]] = None
        elif kind == "response.done":
            self._response_done(event)
        elif kind == "conversation.item.input_audio_transcription.completed":
            self._log_turn(Turn(role="user", text=event.transcript or "", item_id=event.item_id))
        elif kind in ("session.created", "session.updated"):
            self._session_metadata(event)
        elif kind == "error":
            dispatch = self._server_error(event)
        if dispatch:
            self._dispatch_queue.put_nowait(event)

    def _audio_delta(self, event: Any) -> None:
        if self._audio is None:
            return
        pcm = self._decoder.decode(event.delta)
        item_id = event.item_id
        if self._tracker.audio_received(item_id, event.get("response_id"), len(pcm) // 2):
            self._playing_item = item_id
            self._audio.play(item_id, pcm)

    async def _barge_in(self) -> None:
        if not self.barge_in_policy.enabled or self._audio is None:
            return
        self._audio.flush()  # first: the agent stops within one block, whatever follows
        played = {
            item_id: self._audio.played_frames(item_id) for item_id in self._pending_assistant
        }
        plan = self._tracker.plan_barge_in(
            played,
            policy=self.barge_in_policy,
            service_cancels=self._service_cancels,
            service_truncates=self._service_truncates,
        )
        if plan.item_id is None and not plan.cancel:
            return  # nothing was playing or in progress: ordinary user speech
        await self._send_barge_in(plan)
        for item_id in played:
            if self._tracker.was_interrupted(item_id) and item_id in self._pending_assistant:
                self._pending_assistant[item_id] = self._tracker.heard_text(
                    item_id, played[item_id]
                )
                if item_id in self._finished_items:
                    self._log_assistant(item_id, interrupted=True)
        self._dispatch_queue.put_nowait(
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
            "barge-in: item %s heard %d of %d ms; cancel=%s truncate=%s",
            plan.item_id,
            plan.played_ms,
            plan.received_ms,
            plan.cancel,
            [t.audio_end_ms for t in plan.truncations],
        )

    async def _send_barge_in(self, plan: BargeInPlan) -> None:
        wire = self._wire
        if wire is None:
            return
        try:
            if plan.cancel_response_id is not None:
                await wire.cancel_response(plan.cancel_response_id)
            for cut in plan.truncations:
                await wire.truncate(cut.item_id, cut.audio_end_ms)
        except ConnectionLost:
            log.debug("connection lost while handling a barge-in")

    def _response_done(self, event: Any) -> None:
        response = event.response
        self._tracker.response_done(response.get("id"))
        conversation_id = response.get("conversation_id")
        if conversation_id and conversation_id != self.conversation_id:
            self.conversation_id = conversation_id
            log.info("conversation %s", conversation_id)
        played_any = False
        for output in response.get("output") or []:
            item_id = output.get("id")
            if item_id not in self._pending_assistant:
                continue
            self._finished_items.add(item_id)
            if self._pending_assistant[item_id] is not None:
                self._log_assistant(item_id, interrupted=True)  # cut by a barge-in earlier
            elif self._tracker.received_frames(item_id):
                played_any = True
            else:
                self._log_assistant(item_id, interrupted=False)  # text only: nothing to play
        if played_any and self._audio is not None and not self._audio.is_playing:
            self._playback_finished()  # the last audio was already played when this arrived

    def _finish_interrupted_turns(self) -> None:
        """A dropped connection cut every pending assistant turn at what was played."""
        for item_id in list(self._pending_assistant):
            played = self._audio.played_frames(item_id) if self._audio else 0
            self._pending_assistant[item_id] = self._tracker.heard_text(item_id, played)
            self._log_assistant(item_id, interrupted=True)

    def _log_assistant(self, item_id: str, *, interrupted: bool) -> None:
        heard = self._pending_assistant.pop(item_id, None)
        self._finished_items.discard(item_id)
        full = self._tracker.full_text(item_id)
        self._tracker.forget(item_id)
        text = heard if interrupted and heard is not None else full
        if not text and not full:
            return  # an item with neither audio nor transcript (e.g. cancelled at once)
        self._log_turn(
            Turn(
                role="assistant",
                text=text,
                item_id=item_id,
                interrupted=interrupted,
                full_text=full if interrupted else None,
            )
        )

    def _log_turn(self, turn: Turn) -> None:
        self.log.add_turn(turn)
        self._dispatch_queue.put_nowait(
            TurnLogged(
                role=turn.role,
                text=turn.text,
                item_id=turn.item_id,
                interrupted=turn.interrupted,
                full_text=turn.full_text,
            )
        )

    def _session_metadata(self, event: Any) -> None:
        session = event.session
        self.session_id = session.get("id") or self.session_id
        voice = session.get("voice")
        if isinstance(voice, str):
            self.voice = voice
        elif isinstance(voice, dict) or hasattr(voice, "get"):
            self.voice = voice.get("name") or self.voice
        agent = session.get("agent")
        if agent:
            self.agent = AgentInfo(
                name=agent.get("name"),
                description=agent.get("description"),
                agent_id=agent.get("agent_id"),
            )
        if event.type == "session.updated":
            turn = session.get("turn_detection")
            if turn is None:
                self._service_cancels = False
                self._service_truncates = False
            else:
                interrupt = turn.get("interrupt_response")
                self._service_cancels = True if interrupt is None else bool(interrupt)
                self._service_truncates = bool(turn.get("auto_truncate")) and self._service_cancels

    def _server_error(self, event: Any) -> bool:
        error = event.get("error") or {}
        code = error.get("code")
        if code == "response_cancel_not_active":
            # A race with the service's own interruption, not a failure: never shown as one.
            log.debug("ignored response_cancel_not_active: %s", error.get("message"))
            return False
        log.warning("service error %s: %s", code, error.get("message"))
        return True

    async def _greet(self) -> None:
        if self.greeting is None:
            return  # called once, from start(): never again on session.updated or reconnect
        wire = self._require_wire()
        if self.greeting == "llm":
            await wire.add_system_message(LLM_GREETING_PROMPT)
            await wire.create_response()
        else:
            await wire.say(self.greeting)


def _default_audio() -> AudioBackend:
    from .audio.sounddevice_backend import SoundDeviceAudio

    return SoundDeviceAudio()
