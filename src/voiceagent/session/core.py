"""The session's engine: its parts, its lifecycle and its receive loop.

:class:`SessionCore` wires the parts and owns every task; the parts own their state:

* :class:`~.link.Link`: the connection (open, configure, wait until ready, reopen);
* :class:`~.receive.Receiver`: the session's work per server event, and what the service said;
* :class:`~.playback.Playback` and :class:`~.turns.TurnTracker`: the agent's voice, what was
  heard, what to log; :class:`~.microphone.Microphone`: the user's voice;
* :class:`~.delivery.Delivery`: the handlers' queue and the conversation log;
* :class:`~.lifecycle.Lifecycle`: ``idle -> connecting -> ready <-> reconnecting -> closing ->
  closed``.

Three tasks run while it is open: **receive** (server events; audio to the backend and barge-in
happen here, before any user handler), **dispatch** (user handlers in order, from a queue, so a
slow handler never delays audio) and **send** (microphone blocks to the service). The public
API is :class:`~voiceagent.VoiceAgentSession`, built on this class.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import Self

from ..audio.base import AudioBackend, native_format_of
from ..audio.codec import InputEncoder, OutputDecoder
from ..audio.format import AudioFormat
from ..conversation import ConversationLog
from ..dispatch import EventRegistry
from ..errors import (
    AudioError,
    ConnectError,
    SessionClosedError,
    SessionError,
    VoiceAgentError,
)
from ..events import Reconnecting, SessionClosed
from ..logcontext import SessionLabel, install_record_factory, labelled, new_local_id
from ..voicelive.connector import Credential, VoiceLiveConnector
from ..voicelive.reconnect import should_reconnect
from ..voicelive.wire import ConnectionLost, Wire
from . import arguments
from .bargein import BargeInPolicy
from .delivery import Delivery
from .greeting import Greeter
from .lifecycle import Lifecycle, SessionState
from .link import Link
from .microphone import Microphone
from .playback import Playback
from .receive import Receiver
from .responses import ResponseGate
from .tasks import SessionTasks
from .turns import TurnTracker

if TYPE_CHECKING:
    from ..config import AgentConfig, ClassicAgentConfig, ConnectionConfig, SessionOptions

__all__ = ["SessionCore"]

log = logging.getLogger("voiceagent.session")

T = TypeVar("T")


class _Listener:
    """The session's side of the audio contract (kept off the public surface)."""

    def __init__(self, session: SessionCore) -> None:
        self._session = session

    def on_input(self, pcm: bytes) -> None:
        if self._session._life.state is SessionState.READY:
            self._session._microphone.on_input(pcm)

    def on_playback_idle(self) -> None:
        self._session._playback.idle()

    def on_closed(self, reason: str) -> None:
        """The backend's peer went away: close as ``aclose()`` does, with ``reason``."""
        self._session._audio_closed(reason)

    def on_error(self, exc: BaseException) -> None:
        """The backend failed: close with an :class:`~voiceagent.AudioError` (``exc`` chained)."""
        self._session._audio_failed(exc)

    async def wait_ready(self) -> None:
        """Scripted inputs (WAV, memory) hold their audio until the session can send it."""
        await self._session._ready_once.wait()


class SessionCore:
    """The engine under :class:`~voiceagent.VoiceAgentSession` (arguments already checked)."""

    def __init__(
        self,
        config: ConnectionConfig,
        agent: AgentConfig | ClassicAgentConfig | None,
        credential: Credential | None,
        *,
        options: SessionOptions,
        audio: AudioBackend | None,
        greeting: str | None,
        barge_in: BargeInPolicy,
        log_path: str | Path | None,
        ready_timeout: float,
        greet_on_resume: bool,
        send_batch_ms: float = 0.0,
    ) -> None:
        options = arguments.check_native_format(options, audio)  # a phone line's G.711, ...
        self.options = options
        self.greeting = greeting
        self.barge_in_policy = barge_in
        self.ready_timeout = ready_timeout
        self._audio_arg = audio
        self.log = ConversationLog(log_path)
        self._events = EventRegistry()
        self._delivery = Delivery(self._events, self.log, self._report)
        self._agent_config = agent
        self._link = Link(
            VoiceLiveConnector(config, agent, credential=credential), options, ready_timeout
        )
        native = native_format_of(audio)  # passed through untouched, both ways
        self.format = native or AudioFormat(sample_rate=options.output_sample_rate)
        self._receiver = Receiver(self._delivery, lambda: self._playback)
        self._responses = ResponseGate()  # the one owner of "a response is in progress"
        self._playback = Playback(
            TurnTracker(self.format.sample_rate, self._responses),
            OutputDecoder(options.output_audio_format, native=native is not None),
            barge_in,
            self._receiver.service,
            lambda: self._link.wire,
            self._delivery,
        )
        self._microphone = Microphone(
            InputEncoder(
                self.format.sample_rate,
                options.input_audio_format,
                options.input_sample_rate,
                native=native is not None,
            ),
            self._ready_wire,
            batch_bytes=self.format.ms_to_frames(send_batch_ms) * self.format.bytes_per_frame,
        )
        from ..config import AgentConfig

        resuming = isinstance(agent, AgentConfig) and agent.conversation_id is not None
        if resuming:
            self._receiver.service.conversation_id = agent.conversation_id  # type: ignore[union-attr]
        self._greeter = Greeter(greeting, pending=greet_on_resume or not resuming)
        self._life = Lifecycle()
        self._ready_once = asyncio.Event()
        install_record_factory()  # every log record says which session it belongs to
        self._label = SessionLabel(new_local_id(), lambda: self._receiver.service.session_id)
        self._tasks = SessionTasks(self._label)
        self._closed = asyncio.Event()
        self._failure: VoiceAgentError | None = None
        self._close_reason = ""
        self._audio_gone = asyncio.Event()  # the backend called on_closed/on_error

    @property
    def state(self) -> SessionState:
        """The lifecycle state."""
        return self._life.state

    @property
    def local_id(self) -> str:
        """The library's id of this session (``va-...``), known from construction on.

        Every log record of the session's work carries it as ``session_id`` (use
        ``%(session_id)s`` in a log format); the service's id, once known, is
        ``voicelive_session_id``.
        """
        return self._label.local_id

    @property
    def audio(self) -> AudioBackend | None:
        """The audio backend in use (None before start)."""
        return self._playback.audio

    async def __aenter__(self) -> Self:
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
        with labelled(self._label):  # start runs in the caller's task: label its records
            await self._start()

    async def _start(self) -> None:
        if self._life.state is not SessionState.IDLE:
            raise SessionClosedError(f"start() needs an idle session; it is {self.state.value}")
        self._life.to(SessionState.CONNECTING)
        try:
            self._tasks.spawn(self._delivery.run(), "dispatch")
            audio = self._audio_arg if self._audio_arg is not None else _default_audio()
            await audio.start(self.format, _Listener(self))  # devices first: fail before I/O
            self._playback.audio = audio
            await self._connect_unless_audio_gone()
            self._life.to(SessionState.READY)
            self._ready_once.set()
            self._tasks.spawn(self._receive_loop(), "receive")
            self._tasks.spawn(self._microphone.run(), "send")
            await self._greeter.greet(self._link.wire)
        except BaseException as exc:
            if not isinstance(exc, _HungUp):  # a hang-up is no failure: wait_closed() returns
                self._fail(exc)
            await self.aclose()
            if isinstance(exc, (VoiceAgentError, asyncio.CancelledError)):
                raise
            raise self._failure from exc  # type: ignore[misc]

    async def _connect_unless_audio_gone(self) -> None:
        """Connect; give up at once if the backend calls ``on_closed``/``on_error`` meanwhile.

        A caller who hangs up while the session connects must not wait for the service.
        """
        connect = asyncio.ensure_future(self._connect(reconnected=False))
        gone = asyncio.ensure_future(self._audio_gone.wait())
        try:
            await asyncio.wait({connect, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not connect.done():
                connect.cancel()
                with contextlib.suppress(BaseException):
                    await connect
        if self._failure is not None:
            raise self._failure  # on_error: the AudioError
        if self._audio_gone.is_set():
            raise _HungUp(
                "the audio backend closed the session before it was ready: "
                + (self._close_reason or "(no reason given)")
            )
        connect.result()

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
        with labelled(self._label):  # aclose runs in the caller's task: label its records
            await self._aclose()

    async def _aclose(self) -> None:
        if self._life.closing:
            await self._closed.wait()
            return
        self._life.to(SessionState.CLOSING)
        await self._playback.stop()
        if self.audio is not None:
            try:
                await self.audio.stop()
            except Exception:
                log.exception("audio backend failed to stop")
        self._tasks.cancel(keep="dispatch")
        await self._link.aclose()
        self._delivery.emit(SessionClosed(error=self._failure, reason=self._close_reason))
        self._delivery.stop()  # the delivery task ends after the closed event
        await self._tasks.wait(timeout=2.0)
        await self.log.aclose()  # the writer thread has written every line
        self._life.to(SessionState.CLOSED)
        self._closed.set()
        log.info("session closed")

    def _audio_closed(self, reason: str) -> None:
        """``on_closed``: the peer hung up; close like ``aclose()`` (no error)."""
        if self._life.closing or self._audio_gone.is_set():
            return  # safe to call twice, and after the session closed
        self._close_reason = reason
        log.info("the audio backend closed the session: %s", reason or "(no reason given)")
        self._audio_gone.set()
        if self._life.state is not SessionState.CONNECTING:  # start() handles its own
            self.create_task(self.aclose(), name="close-audio-closed")

    def _audio_failed(self, exc: BaseException) -> None:
        """``on_error``: the backend cannot go on; close with an AudioError, ``exc`` chained."""
        if self._life.closing or self._audio_gone.is_set():
            return
        error = exc if isinstance(exc, AudioError) else AudioError(f"audio backend failed: {exc}")
        if error is not exc:
            error.__cause__ = exc
        self._fail(error)
        self._close_reason = str(error)
        log.error("the audio backend failed: %s", error)
        self._audio_gone.set()
        if self._life.state is not SessionState.CONNECTING:
            self.create_task(self.aclose(), name="close-audio-failed")

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
        return self._tasks.spawn(coro, name or str(getattr(coro, "__name__", "task")))

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

    async def _connect(self, *, reconnected: bool, attempt: int = 0) -> None:
        await self._link.establish(
            self._resume_agent,
            self._receiver,
            self._delivery,
            reconnected=reconnected,
            attempt=attempt,
        )

    def _resume_agent(self) -> AgentConfig | ClassicAgentConfig | None:
        """The agent for the next connection: resuming our conversation when we know it."""
        from ..config import AgentConfig

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
        self._delivery.emit(
            Reconnecting(attempt=1, delay_s=0.0, close_code=lost.code, reason=str(lost))
        )
        await self._connect(reconnected=True, attempt=1)
        self._life.to(SessionState.READY)
        await self._greeter.greet(self._link.wire)

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
                    self._delivery.forward(event)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)
            log.error("session failed: %s", self._failure)
            self.create_task(self.aclose(), name="close-after-failure")

    def _ready_wire(self) -> Wire | None:
        return self._link.wire if self._life.state is SessionState.READY else None

    def _report(self, event_type: str, problem: str) -> None:
        self._receiver.report(event_type, problem, "")


class _HungUp(SessionClosedError):
    """start() ends because the audio backend's peer went away (``on_closed``)."""


def _default_audio() -> AudioBackend:
    from ..audio.sounddevice_backend import SoundDeviceAudio

    return SoundDeviceAudio()
