"""One emulated connection: the coordinator of the Voice Live protocol state machine.

The receive loop handles client events one at a time, in order, and hands each to the part that
owns it: :class:`~.input_audio.InputAudio` (``input_audio_buffer.*``),
:class:`~.items.ItemHandlers` (``conversation.item.*``) and :class:`~.responder.Responder`
(``response.*``; responses stream in their own task). Every server event goes through
:meth:`EmulatedSession.send_event`, which the :class:`~.transport.Transport` records, applies the
connection's faults to and serialises.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .avatar import AvatarLink, check_avatar
from .conversations import Conversation, ConversationStore
from .eventlog import EventLog
from .faults import Faults
from .handshake import HandshakeInfo, Headers
from .ids import new_id
from .input_audio import InputAudio
from .items import ItemHandlers
from .responder import Responder
from .response import ResponseRecord, SessionClosedError
from .schema import SchemaError, check_session_update
from .script import AgentScript
from .session_config import ConfigError, default_config, merge_update
from .settings import DEFAULT_MAX_FRAME_BYTES, SessionSettings
from .text_input import TextInputHandlers
from .transport import Transport

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "EmulatedSession", "SessionSettings"]

logger = logging.getLogger(__name__)

# Client events the service knows but the emulator does not emulate: answered with an error.
_UNSUPPORTED = frozenset(
    {
        "input_audio.turn.start",
        "input_audio.turn.append",
        "input_audio.turn.end",
        "input_audio.turn.cancel",
        "input_audio.clear",
        "transcription_session.update",
    }
)


MAX_JSON_DEPTH = 64
"""Deepest nesting accepted in a client frame (System.Text.Json's default; inferred)."""

_TOO_DEEP = object()


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iterative: any depth is safe)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


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
        settings: The emulator-wide settings.
        input_audio: The part that handles ``input_audio_buffer.*`` and the VAD.
        items: The part that handles ``conversation.item.*``.
        responder: The part that handles ``response.*`` and streams responses.
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
        faults: Faults | None,
    ) -> None:
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
        self.faults = faults if faults is not None else Faults()
        self._get_script = get_script
        owner = (info.agent_name, info.project_name) if info.mode != "model" else (None, None)
        self.conversation: Conversation = conversations.open(info.conversation_id, *owner)
        self.conversation_id = self.conversation.id
        self.config: dict[str, Any] = default_config(self.session_id, info.model)
        self._received = EventLog()
        self._sent = EventLog()
        self.responder = Responder(self)
        self.responses: list[ResponseRecord] = self.responder.records
        self.input_audio = InputAudio(self)
        self.items = ItemHandlers(self)
        self.text_input = TextInputHandlers(self)
        self.avatar = AvatarLink(self)
        self._transport = Transport(
            ws,
            request,
            faults=self.faults,
            sent=self._sent if settings.record_events else None,
            label=self.session_id,
            on_drop=lambda: self.responder.cancel_active("connection_dropped"),
        )
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            "session.update": self._on_session_update,
            "session.avatar.connect": self.avatar.on_connect,
            "input_audio_buffer.append": self.input_audio.on_append,
            "input_audio_buffer.commit": self.input_audio.on_commit,
            "input_audio_buffer.clear": self.input_audio.on_clear,
            "conversation.item.create": self.items.on_create,
            "conversation.item.retrieve": self.items.on_retrieve,
            "conversation.item.delete": self.items.on_delete,
            "conversation.item.truncate": self.items.on_truncate,
            "response.create": self.responder.on_create,
            "response.cancel": self.responder.on_cancel,
            "output_audio_buffer.clear": self._on_output_clear,
            "input_text.delta": self.text_input.on_delta,
            "input_text.done": self.text_input.on_done,
            "mcp_approval_response": self.text_input.on_mcp_approval_response,
        }

    # -- observation -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection is gone (or being dropped)."""
        return self._transport.closed

    @property
    def script(self) -> AgentScript:
        """The emulator's current script."""
        return self._get_script()

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
        active = self.responder.active
        return active.record if active is not None else None

    # -- sending -----------------------------------------------------------------------------

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send a server event (an ``event_id`` is added if missing), applying the faults.

        Raises:
            SessionClosedError: The connection is closed.
        """
        self.avatar.observe(event)
        await self._transport.send_event(event)

    async def inject(self, frame: str | bytes) -> None:
        """Send exactly ``frame`` on the socket: ``str`` as a text frame, ``bytes`` as binary.

        Nothing is added or checked: no JSON encoding, no ``event_id``, no recording in
        :attr:`sent`, no faults. For fuzzing clients with malformed frames.

        Raises:
            SessionClosedError: The connection is closed.
        """
        await self._transport.inject(frame)

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
        await self._transport.drop(code)

    async def close(self, code: int = 1001) -> None:
        """Close the connection (emulator shutdown)."""
        await self._transport.drop(code)

    # -- the receive loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it closes."""
        try:
            await self.send_event({"type": "session.created", "session": self._session_view()})
            await self._transport.receive(self._on_text, self._on_binary)
        except SessionClosedError:
            pass
        finally:
            await self._transport.finish()
            await self.responder.shutdown()
            await self.avatar.close()
            logger.info("session %s closed", self.session_id)

    async def _on_binary(self, data: bytes) -> None:
        await self.send_error(
            "Binary frames are not supported; send JSON text frames.", code="invalid_frame"
        )

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
        except RecursionError:
            event = _TOO_DEEP
        if event is _TOO_DEEP or _depth_exceeds(event, MAX_JSON_DEPTH):
            await self.send_error(
                f"Invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels.",
                code="invalid_json",
            )
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self.send_error(
                "Each message must be a JSON object with a 'type'.", code="invalid_event"
            )
            return
        if self.settings.record_events:
            self._received.append(event)
        await self._dispatch(event)

    async def _dispatch(self, event: dict[str, Any]) -> None:
        event_type = event["type"]
        handler = self._handlers.get(event_type)
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
        self.avatar.decorate(view)
        return view

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        try:
            check_session_update(event)
        except SchemaError as exc:
            await self.send_error(
                str(exc), code=exc.code, param=exc.param, event_id=event.get("event_id")
            )
            return
        try:
            config = merge_update(self.config, event.get("session") or {})
            check_avatar(config)
            self.config = config
        except ConfigError as exc:
            await self.send_error(
                str(exc), code="invalid_value", param=exc.param, event_id=event.get("event_id")
            )
            return
        self.input_audio.reconfigure()
        await self.send_event({"type": "session.updated", "session": self._session_view()})

    async def _on_output_clear(self, event: dict[str, Any]) -> None:
        await self.send_event({"type": "output_audio_buffer.cleared"})
