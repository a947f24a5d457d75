"""One emulated connection: the Voice Live protocol state machine.

The receive loop handles client events one at a time, in order; responses stream in their own
task. Every server event goes through :meth:`EmulatedSession.send_event`, which records it,
applies the connection's faults and serialises writes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from voiceagent.protocol.g711 import alaw_decode, ulaw_decode

from .conversations import Conversation, ConversationStore
from .eventlog import EventLog
from .faults import Faults
from .handshake import HandshakeInfo
from .ids import new_id
from .response import ResponseRecord, ResponseRun, SessionClosedError
from .script import AgentScript, Reply, ScriptContext
from .session_config import ConfigError, default_config, input_sample_rate, merge_update
from .vad import FRAME_MS, EnergyVad

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "EmulatedSession", "SessionSettings"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024
"""Largest client frame the emulator accepts (4 MiB, the SDK's own inbound limit); larger frames
get an ``error`` event and are otherwise ignored."""

MIN_COMMIT_MS = 100
"""A manual commit needs at least this much buffered audio, as the service requires."""

# Client events the service knows but the emulator does not emulate: answered with an error.
_UNSUPPORTED = frozenset(
    {
        "session.avatar.connect",
        "input_audio.turn.start",
        "input_audio.turn.append",
        "input_audio.turn.end",
        "input_audio.turn.cancel",
        "input_audio.clear",
        "input_text.delta",
        "input_text.done",
        "transcription_session.update",
    }
)


class Headers(dict[str, str]):
    """Handshake headers as received, looked up case-insensitively."""

    def _key(self, name: object) -> object:
        if isinstance(name, str) and not super().__contains__(name):
            for key in self:
                if key.lower() == name.lower():
                    return key
        return name

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(str(self._key(name)))

    def __contains__(self, name: object) -> bool:
        return super().__contains__(self._key(name))

    def get(self, name: str, default: Any = None) -> Any:
        """The header's value (any case), or ``default``."""
        return super().get(str(self._key(name)), default)


@dataclass(frozen=True)
class SessionSettings:
    """Emulator-wide settings a connection needs.

    Attributes:
        realtime: Pace response audio at real time.
        speed: Pacing factor when ``realtime`` (2.0 = twice real time).
        chunk_ms: Audio per ``response.audio.delta``, in ms.
        ms_per_char: Speaking rate of the synthetic voice.
        agent_description: ``session.agent.description`` in agent modes.
        agent_id: ``session.agent.agent_id``; ``<name>:<version or 1>`` when ``None``.
        max_frame_bytes: Largest client frame accepted.
        record_events: Keep every event in ``received``/``sent`` (needed by ``wait_for_*``).
    """

    realtime: bool = True
    speed: float = 1.0
    chunk_ms: int = 100
    ms_per_char: float = 65.0
    agent_description: str = "An emulated Foundry agent."
    agent_id: str | None = None
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    record_events: bool = True


class EmulatedSession:
    """The server side of one accepted WebSocket, observable by tests.

    Attributes:
        query: The handshake's query parameters.
        headers: The handshake's headers, case-insensitive (includes credentials; never logged).
        mode: ``"model"``, ``"agent"`` or ``"classic_agent"``.
        model: The ``model`` query value, if any.
        agent_name: ``agent-name`` (or ``agent-id`` in classic mode).
        project_name: ``agent-project-name`` (or ``agent-connection-string``).
        agent_version: ``agent-version``, if any.
        foundry_resource_override: ``foundry-resource-override``, if any.
        session_id: ``sess_...``.
        conversation: The conversation this connection adds to.
        conversation_id: Its id (as reported in ``response.done``).
        config: The effective session config (what ``session.updated`` reports).
        responses: One record per response, in order.
        faults: The faults this connection injects.
        closed: True once the connection is gone.
    """

    def __init__(
        self,
        *,
        ws: web.WebSocketResponse,
        request: web.Request,
        info: HandshakeInfo,
        settings: SessionSettings,
        conversations: ConversationStore,
        get_script: Callable[[], AgentScript],
        faults: Faults,
    ) -> None:
        self._ws = ws
        self._request = request
        self.query: dict[str, str] = dict(request.query)
        self.headers: dict[str, str] = Headers(request.headers)
        self.mode = info.mode
        self.model = info.model
        self.agent_name = info.agent_name
        self.project_name = info.project_name
        self.agent_version = info.agent_version
        self.foundry_resource_override = info.foundry_resource_override
        self.session_id = new_id("sess")
        self.settings = settings
        self.faults = faults
        self._get_script = get_script
        owner = (info.agent_name, info.project_name) if info.mode != "model" else (None, None)
        self.conversation: Conversation = conversations.open(info.conversation_id, *owner)
        self.conversation_id = self.conversation.id
        self.config: dict[str, Any] = default_config(self.session_id, info.model)
        self.responses: list[ResponseRecord] = []
        self.closed = False
        self._received = EventLog()
        self._sent = EventLog()
        self._send_lock = asyncio.Lock()
        self._reader_task: asyncio.Future[None] | None = None
        self._drop_done = asyncio.Event()
        self._dropping = False
        self._closer: asyncio.Future[None] | None = None
        self._events_sent = 0
        self._dropped_mid_response = False
        self._vad: EnergyVad | None = None
        self._audio_frames = 0  # input audio time in VAD frames, across VAD rebuilds
        self._buffer_ms = 0.0  # audio appended since the last commit/clear
        self._speech_item: str | None = None
        self._active: ResponseRun | None = None
        self._active_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # conversation.items index after the last response was created (history counts as answered)
        self._last_answered = len(self.conversation.items)
        self._rebuild_vad()

    # -- observation -------------------------------------------------------------------------

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every client event parsed, in order."""
        return self._received.events

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every server event sent, in order."""
        return self._sent.events

    async def wait_for_client_event(
        self,
        event_type: str,
        timeout: float = 5.0,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """The first client event of ``event_type`` not yet returned by this method (may be past).

        Raises:
            TimeoutError: None arrives within ``timeout`` seconds.
        """
        return await self._received.take(event_type, timeout, predicate)

    async def wait_for_server_event(
        self,
        event_type: str,
        timeout: float = 5.0,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """The first server event of ``event_type`` not yet returned by this method (may be past).

        Raises:
            TimeoutError: None is sent within ``timeout`` seconds.
        """
        return await self._sent.take(event_type, timeout, predicate)

    @property
    def active_response(self) -> ResponseRecord | None:
        """The response being streamed, if any."""
        return self._active.record if self._active is not None else None

    # -- sending -----------------------------------------------------------------------------

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send a server event (an ``event_id`` is added if missing), applying the faults.

        Raises:
            SessionClosedError: The connection is closed.
        """
        if self.closed:
            raise SessionClosedError
        async with self._send_lock:
            if self.faults.delay_ms > 0:
                await asyncio.sleep(self.faults.delay_ms / 1000.0)
            await self._send_raw(event)
            self._events_sent += 1  # injected faults are not counted
            await self._after_send(event)

    async def _send_raw(self, event: dict[str, Any]) -> None:
        if self.closed:
            raise SessionClosedError
        event.setdefault("event_id", new_id("event"))
        try:
            await self._ws.send_str(json.dumps(event))
        except (ConnectionError, RuntimeError) as exc:
            self.closed = True
            raise SessionClosedError from exc
        if self.settings.record_events:
            self._sent.append(event)

    async def _after_send(self, event: dict[str, Any]) -> None:
        faults = self.faults
        count = self._events_sent
        if faults.malformed_json_after == count:
            try:
                await self._ws.send_str('{"type": "response.audio.delta", "delta": ')
            except (ConnectionError, RuntimeError) as exc:
                self.closed = True
                raise SessionClosedError from exc
        if faults.unknown_event_after == count:
            await self._send_raw({"type": "emulator.unknown_event", "detail": "injected fault"})
        if faults.error_after == count:
            await self._send_raw(
                {
                    "type": "error",
                    "error": {
                        "type": "server_error",
                        "code": "emulated_fault",
                        "message": "Injected fault: emulated server error.",
                        "param": None,
                        "event_id": None,
                    },
                }
            )
        drop = faults.drop_after_events is not None and count >= faults.drop_after_events
        if (
            faults.drop_mid_response
            and not self._dropped_mid_response
            and event.get("type") == "response.audio.delta"
        ):
            self._dropped_mid_response = drop = True
        if drop:
            await self._drop_now(faults.drop_code)
            raise SessionClosedError

    async def send_error(
        self,
        message: str,
        *,
        code: str | None = None,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        event_id: str | None = None,
    ) -> None:
        """Send an ``error`` event in the service's shape."""
        await self.send_event(
            {
                "type": "error",
                "error": {
                    "type": error_type,
                    "code": code,
                    "message": message,
                    "param": param,
                    "event_id": event_id,
                },
            }
        )

    async def drop(self, code: int = 1006) -> None:
        """Drop the connection: 1006 aborts TCP without a close frame; other codes send one.

        Returns once the drop has started; a close handshake finishes in the background.
        """
        # No send lock: a send blocked on a client that stopped reading must not block a drop.
        await self._drop_now(code)

    async def _drop_now(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        self._dropping = True
        logger.info("session %s: dropping the connection (code %s)", self.session_id, code)
        if self._active is not None:
            self._active.cancel("connection_dropped")
        if code == 1006:
            self._abort()
            self._drop_done.set()
            return
        # The close handshake needs the client to answer, so it runs in the background: the
        # caller (a test, or a send inside a handler) must not wait for the client.
        self._closer = asyncio.ensure_future(self._close_handshake(code))

    async def _close_handshake(self, code: int) -> None:
        try:
            # aiohttp closes the socket at once (without waiting for the client's close reply,
            # which makes clients see 1006) when close() runs while another task is inside
            # receive(); so stop the reader first and let close() do the full handshake.
            reader = self._reader_task
            if reader is not None and not reader.done():
                reader.cancel()
                await asyncio.wait([reader])
            try:
                await asyncio.wait_for(self._ws.close(code=code, message=b"emulated drop"), 5.0)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                self._abort()
        finally:
            self._drop_done.set()

    def _abort(self) -> None:
        """Abort the TCP connection: no close frame, the client sees 1006."""
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int = 1001) -> None:
        """Close the connection (emulator shutdown)."""
        await self._drop_now(code)

    # -- the receive loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it closes."""
        try:
            await self.send_event({"type": "session.created", "session": self._session_view()})
            self._reader_task = asyncio.ensure_future(self._read_loop())
            await asyncio.wait([self._reader_task])
        except SessionClosedError:
            pass
        finally:
            if self._dropping and not self._drop_done.is_set():
                await self._drop_done.wait()  # a drop in progress must finish its close handshake
            self.closed = True
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            logger.info("session %s closed", self.session_id)

    async def _read_loop(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(str(msg.data))
                elif msg.type == WSMsgType.BINARY:
                    await self.send_error(
                        "Binary frames are not supported; send JSON text frames.",
                        code="invalid_frame",
                    )
                elif msg.type == WSMsgType.ERROR:
                    break
        except SessionClosedError:
            pass
        finally:
            self.closed = True

    async def _on_text(self, data: str) -> None:
        if len(data) > self.settings.max_frame_bytes:
            await self.send_error(
                f"Message too large: {len(data)} bytes; the limit is "
                f"{self.settings.max_frame_bytes} bytes.",
                code="message_too_large",
            )
            return
        try:
            event = json.loads(data)
        except ValueError as exc:
            await self.send_error(f"Invalid JSON: {exc}", code="invalid_json")
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self.send_error(
                "Each message must be a JSON object with a 'type'.", code="invalid_event"
            )
            return
        if self.settings.record_events:
            self._received.append(event)
        event_type = event["type"]
        handler = self._handlers().get(event_type)
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        if handler is None:
            if event_type in _UNSUPPORTED:
                await self.send_error(
                    f"{event_type} is not supported by the Voice Live emulator.",
                    code="unsupported_event",
                    event_id=event_id,
                )
            else:
                await self.send_error(
                    f"Invalid value: '{event_type}' is not a supported client event type.",
                    code="invalid_value",
                    param="type",
                    event_id=event_id,
                )
            return
        try:
            await handler(event)
        except SessionClosedError:
            raise
        except Exception:
            # A bug or odd input must never take the connection (or the emulator) down.
            logger.exception("session %s: error handling %s", self.session_id, event_type)
            await self.send_error(
                f"The server had an error while processing {event_type}.",
                error_type="server_error",
                code="server_error",
                event_id=event_id,
            )

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {
            "session.update": self._on_session_update,
            "input_audio_buffer.append": self._on_append,
            "input_audio_buffer.commit": self._on_commit,
            "input_audio_buffer.clear": self._on_clear,
            "conversation.item.create": self._on_item_create,
            "conversation.item.retrieve": self._on_item_retrieve,
            "conversation.item.delete": self._on_item_delete,
            "conversation.item.truncate": self._on_truncate,
            "response.create": self._on_response_create,
            "response.cancel": self._on_response_cancel,
            "output_audio_buffer.clear": self._on_output_clear,
        }

    # -- session -----------------------------------------------------------------------------

    def _session_view(self) -> dict[str, Any]:
        view = copy.deepcopy(self.config)
        if self.mode != "model":
            version = self.agent_version or "1"
            view["agent"] = {
                "type": "agent",
                "name": self.agent_name,
                "description": self.settings.agent_description,
                "agent_id": self.settings.agent_id or f"{self.agent_name}:{version}",
                "thread_id": self.conversation_id,
            }
        return view

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        try:
            self.config = merge_update(self.config, event.get("session") or {})
        except ConfigError as exc:
            await self.send_error(
                str(exc), code="invalid_value", param=exc.param, event_id=event.get("event_id")
            )
            return
        self._rebuild_vad()
        await self.send_event({"type": "session.updated", "session": self._session_view()})

    def _rebuild_vad(self) -> None:
        if self._vad is not None:
            self._audio_frames = self._vad.audio_ms // FRAME_MS
        td = self.config.get("turn_detection")
        if td is None:
            self._vad = None
            return
        self._vad = EnergyVad(
            input_sample_rate(self.config),
            threshold=float(td["threshold"]),
            prefix_padding_ms=int(td["prefix_padding_ms"]),
            silence_duration_ms=int(td["silence_duration_ms"]),
            start_frames=self._audio_frames,
        )

    # -- input audio -------------------------------------------------------------------------

    def _decode_input(self, data: bytes) -> bytes:
        fmt = self.config["input_audio_format"]
        if fmt == "g711_ulaw":
            return ulaw_decode(data)
        if fmt == "g711_alaw":
            return alaw_decode(data)
        return data

    async def _on_append(self, event: dict[str, Any]) -> None:
        audio = event.get("audio")
        try:
            if not isinstance(audio, str):
                raise ValueError("missing")
            raw = base64.b64decode(audio, validate=True)
        except (ValueError, binascii.Error):
            await self.send_error(
                "Invalid 'audio': expected base64-encoded audio.",
                code="invalid_value",
                param="audio",
                event_id=event.get("event_id"),
            )
            return
        pcm = self._decode_input(raw)
        self._buffer_ms += 1000.0 * (len(pcm) // 2) / input_sample_rate(self.config)
        if self._vad is None:
            return
        for vad_event in self._vad.feed(pcm):
            if vad_event.kind == "started":
                await self._on_speech_started(vad_event.ms)
            else:
                await self._on_speech_stopped(vad_event.ms)

    async def _on_speech_started(self, audio_start_ms: int) -> None:
        item_id = new_id("item")
        self._speech_item = item_id
        await self.send_event(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": audio_start_ms,
                "item_id": item_id,
            }
        )
        td = self.config.get("turn_detection") or {}
        run = self._active
        if run is None or not td.get("interrupt_response", True):
            return
        audio = run.current_audio
        heard_ms = audio[1].sent_ms if audio is not None else None
        await self._cancel(run, "turn_detected")
        if td.get("auto_truncate") and audio is not None and heard_ms is not None:
            # The service assumes real-time playback: everything sent up to now was heard.
            item_id_truncated, item_audio = audio
            item_audio.truncated_ms = heard_ms
            self.conversation.sync_transcript(item_id_truncated)
            await self.send_event(
                {
                    "type": "conversation.item.truncated",
                    "item_id": item_id_truncated,
                    "content_index": 0,
                    "audio_end_ms": int(heard_ms),
                }
            )

    async def _on_speech_stopped(self, audio_end_ms: int) -> None:
        item_id = self._speech_item or new_id("item")
        self._speech_item = None
        await self.send_event(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": audio_end_ms,
                "item_id": item_id,
            }
        )
        td = self.config.get("turn_detection") or {}
        await self._commit(item_id, auto_response=bool(td.get("create_response", True)))

    async def _on_commit(self, event: dict[str, Any]) -> None:
        if self._buffer_ms < MIN_COMMIT_MS:
            await self.send_error(
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has "
                f"{self._buffer_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
                event_id=event.get("event_id"),
            )
            return
        item_id = self._speech_item or new_id("item")
        self._speech_item = None
        if self._vad is not None:
            self._vad.reset()
        await self._commit(item_id, auto_response=False)

    async def _commit(self, item_id: str, *, auto_response: bool) -> None:
        self._buffer_ms = 0.0
        transcript = self._get_script().next_user_transcript()
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        previous = self.conversation.insert(item)
        await self.send_event(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        await self.send_event(
            {
                "type": "conversation.item.created",
                "previous_item_id": previous,
                "item": copy.deepcopy(item),
            }
        )
        item["content"][0]["transcript"] = transcript
        transcription = {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": item_id,
            "content_index": 0,
            "transcript": transcript,
        }
        if auto_response and self._active is None:
            # Like the service, the transcription often lands after response.created.
            self._start_response({}, pre_events=[transcription])
            return
        await self.send_event(transcription)
        if auto_response:
            self._track(self._respond_after_active())

    async def _respond_after_active(self) -> None:
        while self._active_task is not None and not self._active_task.done():
            await asyncio.wait([self._active_task])
        if not self.closed:
            self._start_response({})

    async def _on_clear(self, event: dict[str, Any]) -> None:
        self._buffer_ms = 0.0
        self._speech_item = None
        if self._vad is not None:
            self._vad.reset()
        await self.send_event({"type": "input_audio_buffer.cleared"})

    async def _on_output_clear(self, event: dict[str, Any]) -> None:
        await self.send_event({"type": "output_audio_buffer.cleared"})

    # -- conversation items ------------------------------------------------------------------

    async def _on_item_create(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        event_id = event.get("event_id")
        if not isinstance(item, dict) or item.get("type") not in (
            "message",
            "function_call",
            "function_call_output",
        ):
            await self.send_error(
                "Invalid 'item': expected a message, function_call or function_call_output.",
                code="invalid_value",
                param="item",
                event_id=event_id,
            )
            return
        if item["type"] == "message" and item.get("role") not in ("system", "user", "assistant"):
            await self.send_error(
                "Invalid 'item.role': expected system, user or assistant.",
                code="invalid_value",
                param="item.role",
                event_id=event_id,
            )
            return
        stored = copy.deepcopy(item)
        stored.setdefault("id", new_id("item"))
        stored.setdefault("object", "realtime.item")
        stored.setdefault("status", "completed")
        try:
            previous = self.conversation.insert(stored, event.get("previous_item_id"))
        except KeyError:
            await self.send_error(
                f"Invalid 'previous_item_id': no item with id '{event.get('previous_item_id')}'.",
                code="invalid_value",
                param="previous_item_id",
                event_id=event_id,
            )
            return
        await self.send_event(
            {
                "type": "conversation.item.created",
                "previous_item_id": previous,
                "item": copy.deepcopy(stored),
            }
        )

    async def _on_item_retrieve(self, event: dict[str, Any]) -> None:
        item = self.conversation.find(str(event.get("item_id")))
        if item is None:
            await self._item_not_found(event)
            return
        await self.send_event({"type": "conversation.item.retrieved", "item": copy.deepcopy(item)})

    async def _on_item_delete(self, event: dict[str, Any]) -> None:
        if not self.conversation.delete(str(event.get("item_id"))):
            await self._item_not_found(event)
            return
        await self.send_event(
            {"type": "conversation.item.deleted", "item_id": event.get("item_id")}
        )

    async def _item_not_found(self, event: dict[str, Any]) -> None:
        await self.send_error(
            f"Item with item_id '{event.get('item_id')}' not found.",
            code="item_not_found",
            param="item_id",
            event_id=event.get("event_id"),
        )

    async def _on_truncate(self, event: dict[str, Any]) -> None:
        item_id = str(event.get("item_id"))
        event_id = event.get("event_id")
        if self.conversation.find(item_id) is None:
            await self._item_not_found(event)
            return
        audio = self.conversation.audio.get(item_id)
        if audio is None:
            await self.send_error(
                "Only assistant messages with audio can be truncated.",
                code="invalid_value",
                param="item_id",
                event_id=event_id,
            )
            return
        if event.get("content_index") != 0:
            await self.send_error(
                "Invalid 'content_index': the audio is content part 0.",
                code="invalid_value",
                param="content_index",
                event_id=event_id,
            )
            return
        end_ms = event.get("audio_end_ms")
        if not isinstance(end_ms, int) or isinstance(end_ms, bool) or end_ms < 0:
            await self.send_error(
                "Invalid 'audio_end_ms': expected a non-negative integer.",
                code="invalid_value",
                param="audio_end_ms",
                event_id=event_id,
            )
            return
        if end_ms > math.ceil(audio.sent_ms):
            await self.send_error(
                f"Audio content of {end_ms}ms is longer than the item's audio of "
                f"{int(audio.sent_ms)}ms.",
                code="invalid_value",
                param="audio_end_ms",
                event_id=event_id,
            )
            return
        audio.truncated_ms = float(end_ms)
        self.conversation.sync_transcript(item_id)
        await self.send_event(
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": end_ms,
            }
        )

    # -- responses ---------------------------------------------------------------------------

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        if self._active is not None:
            await self.send_error(
                f"Conversation already has an active response in progress: {self._active.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
                event_id=event.get("event_id"),
            )
            return
        params = event.get("response") or {}
        if not isinstance(params, dict):
            await self.send_error(
                "Invalid 'response': expected an object.",
                code="invalid_value",
                param="response",
                event_id=event.get("event_id"),
            )
            return
        additional = event.get("additional_instructions")
        self._start_response(
            params, additional_instructions=additional if isinstance(additional, str) else None
        )

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        run = self._active
        wanted = event.get("response_id")
        if run is None or (wanted and wanted != run.id):
            await self.send_error(
                "Cancellation failed: no active response found",
                code="response_cancel_not_active",
                event_id=event.get("event_id"),
            )
            return
        await self._cancel(run, "client_cancelled")

    async def _cancel(self, run: ResponseRun, reason: str) -> None:
        """Cancel ``run`` and wait until its ``response.done`` is sent."""
        run.cancel(reason)
        task = self._active_task
        if task is not None and not task.done() and task is not asyncio.current_task():
            await asyncio.wait([task])

    def _start_response(
        self,
        params: dict[str, Any],
        *,
        pre_events: list[dict[str, Any]] | None = None,
        additional_instructions: str | None = None,
    ) -> None:
        config = copy.deepcopy(self.config)
        for key in ("modalities", "voice", "output_audio_format"):
            if key in params:
                config[key] = copy.deepcopy(params[key])
        instructions = params.get("instructions")
        reply = self._decide_reply(params, instructions, additional_instructions)
        record = ResponseRecord(
            id=new_id("resp"),
            reply=reply,
            instructions=instructions if isinstance(instructions, str) else None,
            additional_instructions=additional_instructions,
        )
        self.responses.append(record)
        run = ResponseRun(
            self,
            record,
            conversation_id=self.conversation_id,
            config=config,
            pre_events=pre_events or [],
            realtime=self.settings.realtime,
            speed=self.settings.speed,
            chunk_ms=self.settings.chunk_ms,
            ms_per_char=self.settings.ms_per_char,
        )
        self._active = run
        self._active_task = self._track(self._run_response(run))

    async def _run_response(self, run: ResponseRun) -> None:
        try:
            await run.run()
        finally:
            if self._active is run:
                self._active = None

    def _track(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _decide_reply(
        self, params: dict[str, Any], instructions: Any, additional_instructions: str | None
    ) -> Reply:
        items = self.conversation.items
        new_items = items[self._last_answered :]
        pre_generated = params.get("pre_generated_assistant_message")
        if isinstance(pre_generated, dict):
            self._last_answered = len(items)
            return Reply(text=_message_text(pre_generated))
        function_outputs = tuple(i for i in new_items if i.get("type") == "function_call_output")
        user_text = ""
        for item in reversed(items):
            if item.get("type") == "message" and item.get("role") == "user":
                user_text = _message_text(item)
                break
        has_user = any(i.get("type") == "message" and i.get("role") == "user" for i in new_items)
        greeting = any(
            i.get("type") == "message"
            and i.get("role") == "system"
            and any(word in _message_text(i).lower() for word in ("welcome", "greet"))
            for i in new_items
        )
        if function_outputs:
            kind = "function_output"
        elif has_user:
            kind = "user"
        elif greeting:
            kind = "greeting"
        else:
            kind = "none"
        ctx = ScriptContext(
            kind=kind,
            user_text=user_text,
            function_outputs=tuple(copy.deepcopy(function_outputs)),
            history=tuple(copy.deepcopy(items)),
            instructions=str(self.config.get("instructions") or ""),
            response_instructions=instructions if isinstance(instructions, str) else None,
            additional_instructions=additional_instructions,
            mode=self.mode,
            agent_name=self.agent_name,
            conversation_id=self.conversation_id,
        )
        reply = self._get_script().reply(ctx)
        # Only a reply that was decided consumes the new items (a failing script can retry).
        self._last_answered = len(items)
        return reply


def _message_text(item: dict[str, Any]) -> str:
    """The text of a message item: its text parts, or its audio transcripts."""
    parts = []
    for part in item.get("content") or []:
        if not isinstance(part, dict):
            continue
        for key in ("text", "transcript"):
            value = part.get(key)
            if isinstance(value, str):
                parts.append(value)
                break
    return " ".join(parts)
