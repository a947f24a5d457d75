"""Talking over an open Voice Live connection: typed sends and a receive that never lies.

``connection.py`` opens the connection (URL, auth, errors, redaction); this module is the rest
of the SDK edge. It exists to remove three SDK traps in one place:

* ``async for event in connection`` ends silently when the socket drops; :meth:`Wire.recv`
  raises :class:`ConnectionLost` with the close code instead, and reports a socket that
  dropped with no close frame as 1006 (the SDK says 1000, a normal close).
* ``send("<json string>")`` double-encodes and ``item.create(item=<dict>)`` raises ``TypeError``;
  every send here builds the SDK's typed models.
* A malformed frame from the server raises a generic ``ConnectionError`` although the socket is
  fine; :meth:`Wire.recv` logs it and returns ``None`` so the conversation goes on.
"""

from __future__ import annotations

import base64
import logging
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

__all__ = ["ConnectionLost", "Wire"]

log = logging.getLogger(__name__)

# The reason azure-ai-voicelive (1.3.x) gives when aiohttp saw no close frame (EOF or a
# transport error); a real close frame always comes with an empty reason.
_NO_CLOSE_FRAME = "Connection closed"


class ConnectionLost(Exception):
    """The WebSocket closed; ``code`` is its close code (1006 when it dropped with no frame)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"connection closed with code {code}" + (f": {reason}" if reason else ""))
        self.code = code
        self.reason = reason


class Wire:
    """Typed sends and honest receives over one open SDK connection."""

    def __init__(self, connection: VoiceLiveConnection) -> None:
        self.connection = connection

    async def recv(self) -> ServerEvent | None:
        """The next server event; ``None`` for a frame that could not be parsed.

        Raises:
            ConnectionLost: the socket closed or dropped.
        """
        try:
            return await self.connection.recv()
        except ConnectionClosed as exc:
            if exc.reason == _NO_CLOSE_FRAME:
                # The SDK reports a socket that dropped with no close frame as a normal 1000
                # close; it is an abnormal one (1006), and worth reconnecting after.
                raise ConnectionLost(1006, "the connection dropped without a close frame") from None
            raise ConnectionLost(exc.code, exc.reason) from None
        except VoiceLiveConnectionError as exc:
            # Not ConnectionClosed: the SDK's parse failure. The socket itself is fine.
            log.warning("ignored a malformed frame from the service: %s", exc)
            return None

    async def _send(self, event: Any) -> None:
        try:
            await self.connection.send(event)
        except VoiceLiveConnectionError as exc:
            raise ConnectionLost(1006, "send failed") from exc

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

    async def add_system_message(self, text: str) -> None:
        """``conversation.item.create`` of a system message."""
        item = SystemMessageItem(content=[InputTextContentPart(text=text)])
        await self._send({"type": "conversation.item.create", "item": item})

    async def add_user_text(self, text: str) -> None:
        """``conversation.item.create`` of a typed user message."""
        item = UserMessageItem(content=[InputTextContentPart(text=text)])
        await self._send({"type": "conversation.item.create", "item": item})

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
