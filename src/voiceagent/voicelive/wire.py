"""Talking over an open Voice Live connection: typed sends and a receive no frame can break.

:mod:`.connector` opens the connection; this module is the rest of the SDK edge. It removes the
SDK's receive traps in one place:

* The SDK's ``recv()`` raises ``AttributeError``/``RecursionError``/``ConnectionError`` on a frame
  that is valid JSON but not an object, nested too deep, or not JSON at all, and reports an empty
  frame as a dropped socket. :meth:`Wire.recv` reads the raw frame (``recv_bytes()``, public API)
  and parses it once with ``json.loads``: an empty frame is ignored, a malformed one comes back as
  a :class:`MalformedFrame` record, and only a real close raises :class:`ConnectionLost`.
* ``async for event in connection`` ends silently when the socket drops; a drop here raises
  :class:`ConnectionLost` with the close code, and a socket that dropped with no close frame is
  1006 (the SDK says 1000, a normal close).
* The SDK builds a typed event object per frame (~20 us, and every attribute read goes back
  through its deserializer). :class:`InboundEvent` keeps the parsed ``dict`` and builds the SDK's
  typed event only when a user handler asks for one (:meth:`InboundEvent.typed`).
* ``send("<json string>")`` double-encodes and ``item.create(item=<dict>)`` raises ``TypeError``;
  every send here builds the SDK's typed models.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from azure.ai.voicelive.aio import ConnectionClosed, VoiceLiveConnection
from azure.ai.voicelive.aio import ConnectionError as VoiceLiveConnectionError
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    FunctionCallOutputItem,
    InputTextContentPart,
    OutputTextContentPart,
    RequestSession,
    ResponseCreateParams,
    ServerEvent,
    SystemMessageItem,
    UserMessageItem,
)

from ..protocol.close_codes import ABNORMAL_CLOSURE, NO_CLOSE_FRAME_REASON
from ..redaction import redact

__all__ = ["ConnectionLost", "InboundEvent", "MalformedFrame", "Wire", "excerpt"]

log = logging.getLogger(__name__)

_EXCERPT_CHARS = 120


def excerpt(raw: bytes | str) -> str:
    """A short, redacted, printable excerpt of a frame, for logs and protocol-error events."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    short = text[:_EXCERPT_CHARS] + ("..." if len(text) > _EXCERPT_CHARS else "")
    return redact(short.encode("unicode_escape").decode("ascii"))


class ConnectionLost(Exception):
    """The WebSocket closed; ``code`` is its close code (1006 when it dropped with no frame)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"connection closed with code {code}" + (f": {reason}" if reason else ""))
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class MalformedFrame:
    """A frame that is not a server event: not JSON, not an object, or without a ``type``."""

    problem: str
    excerpt: str
    event_type: str | None = None


@dataclass
class InboundEvent:
    """One server event, parsed once: read its fields by key from :attr:`data`.

    Attributes:
        type: The event ``type``.
        data: The frame's JSON object, as received.
    """

    type: str
    data: dict[str, Any]
    _typed: ServerEvent | None = field(default=None, repr=False)

    def typed(self) -> ServerEvent:
        """The SDK's typed event for this frame (built once, on first use).

        Raises:
            Exception: whatever the SDK's deserializer raises for a frame it cannot model (the
                caller reports it as a protocol error).
        """
        if self._typed is None:
            # The same call the SDK's own recv() makes for every frame. Private, with no public
            # equivalent: pinned by tests/voicelive/test_sdk_contract.py.
            self._typed = ServerEvent._deserialize(self.data, [])  # type: ignore[no-untyped-call]
        return self._typed


class Wire:
    """Typed sends and honest receives over one open SDK connection."""

    def __init__(self, connection: VoiceLiveConnection) -> None:
        self.connection = connection

    async def recv(self) -> InboundEvent | MalformedFrame | None:
        """The next server event; a :class:`MalformedFrame` for a frame that is not one.

        Returns:
            The event, a malformed-frame record, or ``None`` for an empty frame (ignored).

        Raises:
            ConnectionLost: the socket closed or dropped.
        """
        try:
            raw = await self.connection.recv_bytes()
        except ConnectionClosed as exc:
            if exc.reason == NO_CLOSE_FRAME_REASON:
                # The SDK reports a socket that dropped with no close frame as a normal 1000
                # close; it is an abnormal one (1006), and worth reconnecting after.
                raise ConnectionLost(
                    ABNORMAL_CLOSURE, "the connection dropped without a close frame"
                ) from None
            raise ConnectionLost(exc.code, exc.reason) from None
        return parse_frame(raw)

    async def _send(self, event: Any) -> None:
        try:
            await self.connection.send(event)
        except VoiceLiveConnectionError as exc:
            raise ConnectionLost(ABNORMAL_CLOSURE, "send failed") from exc

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send a whole client event as a plain dict (for requests without a typed helper)."""
        await self._send(event)

    async def update_session(self, session: RequestSession) -> None:
        """``session.update``."""
        await self._send({"type": "session.update", "session": session})

    async def append_audio(self, audio: bytes) -> None:
        """``input_audio_buffer.append`` with wire-format audio bytes."""
        await self._send(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(audio).decode("ascii")}
        )

    async def commit_audio(self) -> None:
        """``input_audio_buffer.commit`` (manual turns, when turn detection is off)."""
        await self._send({"type": "input_audio_buffer.commit"})

    async def create_response(self, params: ResponseCreateParams | None = None) -> None:
        """``response.create``."""
        event: dict[str, Any] = {"type": "response.create"}
        if params is not None:
            event["response"] = params
        await self._send(event)

    async def cancel_response(self, response_id: str | None = None) -> None:
        """``response.cancel``."""
        event: dict[str, Any] = {"type": "response.cancel"}
        if response_id:
            event["response_id"] = response_id
        await self._send(event)

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """``conversation.item.truncate`` of the first content part, at ``audio_end_ms``."""
        await self._send(
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            }
        )

    async def delete_item(self, item_id: str) -> None:
        """``conversation.item.delete``."""
        await self._send({"type": "conversation.item.delete", "item_id": item_id})

    async def add_system_message(self, text: str) -> None:
        """``conversation.item.create`` of a system message."""
        item = SystemMessageItem(content=[InputTextContentPart(text=text)])
        await self._send({"type": "conversation.item.create", "item": item})

    async def add_user_text(self, text: str, *, item_id: str, event_id: str) -> None:
        """``conversation.item.create`` of a typed user message with our own item and event ids.

        The ids let the session log the message only once the service has accepted it (its
        ``conversation.item.created``), and match an ``error`` to it.
        """
        item = UserMessageItem(id=item_id, content=[InputTextContentPart(text=text)])
        await self._send({"type": "conversation.item.create", "event_id": event_id, "item": item})

    async def add_function_output(self, call_id: str, output: str) -> None:
        """``conversation.item.create`` of a ``function_call_output``."""
        item = FunctionCallOutputItem(call_id=call_id, output=output)
        await self._send({"type": "conversation.item.create", "item": item})

    async def say(self, text: str) -> None:
        """Speak ``text`` verbatim (``pre_generated_assistant_message``); it joins the history."""
        message = AssistantMessageItem(content=[OutputTextContentPart(text=text)])
        await self.create_response(ResponseCreateParams(pre_generated_assistant_message=message))

    async def close(self) -> None:
        """Close the socket and the SDK's HTTP session."""
        await self.connection.close()


def parse_frame(raw: bytes | str) -> InboundEvent | MalformedFrame | None:
    """Parse one raw frame; never raises.

    Returns:
        The event; a :class:`MalformedFrame` when it is not JSON, not an object or has no string
        ``type``; ``None`` for an empty frame.
    """
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return MalformedFrame(f"not JSON ({type(exc).__name__})", excerpt(raw))
    if not isinstance(data, dict):
        return MalformedFrame(f"a JSON {type(data).__name__}, not an object", excerpt(raw))
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        return MalformedFrame("no string 'type' field", excerpt(raw))
    return InboundEvent(kind, data)
