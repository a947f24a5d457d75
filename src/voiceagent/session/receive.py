"""The receive path: the session's own work for each server event, before any user handler.

One small handler per event type, in a table; each reads the fields it needs by key and checks
their types. A frame that is not an event, or an event missing a field the session needs, is
reported (a warning with a short redacted excerpt, and a ``voiceagent.protocol_error`` event) and
skipped: the conversation goes on. Only a close ends a connection.

The time-critical work happens here, in the receive task: assistant audio goes to the backend
and a barge-in flushes playback and tells the service, before the event is queued for the
user's handlers.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..conversation import Turn
from ..events import AgentInfo, ProtocolViolation
from ..voicelive.wire import ConnectionLost, InboundEvent, MalformedFrame, excerpt

if TYPE_CHECKING:
    from .delivery import Delivery
    from .playback import Playback

__all__ = ["BadField", "Receiver", "ServiceView"]

log = logging.getLogger("voiceagent.session")


class BadField(Exception):
    """An event lacks a field the session needs, or has it with the wrong type."""


@dataclass
class ServiceView:
    """What the service has told us about the session (owned by the :class:`Receiver`)."""

    session_id: str | None = None
    conversation_id: str | None = None
    agent: AgentInfo | None = None
    voice: str | None = None
    service_cancels: bool = True  # turn_detection.interrupt_response
    service_truncates: bool = False  # turn_detection.auto_truncate
    configured: bool = False  # a session.updated arrived on this connection


def _get(data: dict[str, Any], name: str, kind: type | tuple[type, ...], *, where: str = "") -> Any:
    value = data.get(name)
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        what = "is missing" if value is None else f"is {type(value).__name__}, expected {names}"
        raise BadField(f"'{where}{name}' {what}")
    return value


def _opt(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    return value if isinstance(value, kind) else None


Handler = Callable[[dict[str, Any]], Awaitable[bool]]


class Receiver:
    """Does the session's work for each inbound frame; never raises for a bad frame.

    Args:
        delivery: Where turns, library events and reports go.
        playback: Gives the speaker side (audio, barge-in, the turn tracker).
    """

    def __init__(self, delivery: Delivery, playback: Callable[[], Playback]) -> None:
        self._delivery = delivery
        self._playback = playback
        self.service = ServiceView()
        self._typed_texts: dict[str, tuple[str, str]] = {}  # item id -> (event id, text)
        self._table: dict[str, Handler] = {
            "response.audio.delta": self._audio_delta,
            "input_audio_buffer.speech_started": self._speech_started,
            "response.audio_transcript.delta": self._transcript_delta,
            "response.text.delta": self._transcript_delta,
            "response.audio_transcript.done": self._transcript_done,
            "response.text.done": self._text_done,
            "response.created": self._response_created,
            "response.output_item.added": self._output_item_added,
            "response.done": self._response_done,
            "conversation.item.input_audio_transcription.completed": self._user_transcript,
            "conversation.item.created": self._item_created,
            "session.created": self._session_info,
            "session.updated": self._session_info,
            "error": self._error,
        }

    async def handle(self, frame: InboundEvent | MalformedFrame | None) -> InboundEvent | None:
        """Do the session's work for ``frame``; return the event to hand to user handlers.

        Returns None for an empty frame, a malformed one (reported here) and events the user
        must not see (``response_cancel_not_active``, a race the library provokes itself).
        """
        if frame is None:
            return None  # an empty frame: nothing to do, and not a reason to drop the socket
        if isinstance(frame, MalformedFrame):
            self.report(frame.event_type, frame.problem, frame.excerpt)
            return None
        handler = self._table.get(frame.type)
        if handler is None:
            return frame
        try:
            keep = await handler(frame.data)
        except BadField as bad:
            self.report(frame.type, str(bad), excerpt(_short_repr(frame.data)))
            return None
        except ConnectionLost:
            raise
        except Exception as exc:  # a bug of ours must not end the conversation either
            log.error("the session failed to handle %s", frame.type, exc_info=exc)
            self.report(frame.type, f"internal error: {exc!r}", excerpt(_short_repr(frame.data)))
            return None
        return frame if keep else None

    def report(self, event_type: str | None, problem: str, text: str) -> None:
        """Log a protocol problem and tell the user's handlers."""
        log.warning("skipped a bad frame from the service (%s): %s: %s", event_type, problem, text)
        self._delivery.emit(ProtocolViolation(event_type=event_type, problem=problem, excerpt=text))

    # --- audio and barge-in --------------------------------------------------------------

    async def _audio_delta(self, data: dict[str, Any]) -> bool:
        item_id = _get(data, "item_id", str)
        encoded = _get(data, "delta", str)
        try:
            wire_audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise BadField("'delta' is not base64") from None
        if len(wire_audio) % self._playback().decoder.bytes_per_sample:
            raise BadField("'delta' is not a whole number of samples")
        self._playback().play(item_id, _opt(data, "response_id", str), wire_audio)
        return True

    async def _speech_started(self, data: dict[str, Any]) -> bool:
        await self._playback().barge_in()
        return True

    # --- transcripts and responses -------------------------------------------------------

    async def _transcript_delta(self, data: dict[str, Any]) -> bool:
        self._playback().tracker.transcript_delta(
            _get(data, "item_id", str), _opt(data, "response_id", str), _get(data, "delta", str)
        )
        return True

    async def _transcript_done(self, data: dict[str, Any]) -> bool:
        self._playback().tracker.transcript_done(
            _get(data, "item_id", str),
            _opt(data, "response_id", str),
            _get(data, "transcript", str),
        )
        return True

    async def _text_done(self, data: dict[str, Any]) -> bool:
        self._playback().tracker.transcript_done(
            _get(data, "item_id", str), _opt(data, "response_id", str), _get(data, "text", str)
        )
        return True

    async def _response_created(self, data: dict[str, Any]) -> bool:
        response = _get(data, "response", dict)
        self._playback().tracker.response_created(_get(response, "id", str, where="response."))
        return True

    async def _output_item_added(self, data: dict[str, Any]) -> bool:
        item = _get(data, "item", dict)
        item_id = _get(item, "id", str, where="item.")
        if item.get("type") == "message" and item.get("role") == "assistant":
            self._playback().tracker.item_added(item_id, _opt(data, "response_id", str))
        return True

    async def _response_done(self, data: dict[str, Any]) -> bool:
        response = _get(data, "response", dict)
        output = response.get("output") or []
        if not isinstance(output, list):
            raise BadField("'response.output' is not a list")
        ids = [o["id"] for o in output if isinstance(o, dict) and isinstance(o.get("id"), str)]
        self._learn_conversation(_opt(response, "conversation_id", str))
        await self._playback().response_done(_opt(response, "id", str), ids)
        return True

    async def _user_transcript(self, data: dict[str, Any]) -> bool:
        text = _get(data, "transcript", str)
        self._delivery.log_turn(Turn(role="user", text=text, item_id=_opt(data, "item_id", str)))
        return True

    async def _item_created(self, data: dict[str, Any]) -> bool:
        item = _get(data, "item", dict)
        typed = self._typed_texts.pop(_opt(item, "id", str) or "", None)
        if typed is not None:  # a typed message of ours is in the conversation: it was said
            self._delivery.log_turn(Turn(role="user", text=typed[1], item_id=item["id"]))
        return True

    # --- session and errors --------------------------------------------------------------

    async def _session_info(self, data: dict[str, Any]) -> bool:
        session = _get(data, "session", dict)
        view = self.service
        view.session_id = _opt(session, "id", str) or view.session_id
        voice = session.get("voice")
        if isinstance(voice, str):
            view.voice = voice
        elif isinstance(voice, dict) and isinstance(voice.get("name"), str):
            view.voice = voice["name"]
        agent = session.get("agent")
        if isinstance(agent, dict):
            view.agent = AgentInfo(
                name=_opt(agent, "name", str),
                description=_opt(agent, "description", str),
                agent_id=_opt(agent, "agent_id", str),
            )
            # The SDK models thread_id as required: the first place the conversation is named,
            # long before the first response.done (a drop in the first reply must resume it).
            self._learn_conversation(_opt(agent, "thread_id", str))
        if data.get("type") == "session.updated":
            if "turn_detection" in session:
                turn = session["turn_detection"]
                if turn is None:
                    view.service_cancels = view.service_truncates = False
                elif isinstance(turn, dict):
                    interrupt = turn.get("interrupt_response")
                    view.service_cancels = True if interrupt is None else bool(interrupt)
                    view.service_truncates = bool(turn.get("auto_truncate")) and (
                        view.service_cancels
                    )
                else:
                    raise BadField(f"'session.turn_detection' is a {type(turn).__name__}")
            view.configured = True
        return True

    async def _error(self, data: dict[str, Any]) -> bool:
        error = data.get("error")
        if not isinstance(error, dict):
            raise BadField("'error' is not an object")
        code = _opt(error, "code", str)
        if code == "response_cancel_not_active":
            # A race with the service's own interruption, not a failure: never shown as one.
            log.debug("ignored response_cancel_not_active: %s", error.get("message"))
            return False
        self._typed_text_refused(_opt(error, "event_id", str))
        self._playback().tracker.responses.refused(_opt(error, "event_id", str), code)
        log.warning("service error %s: %s", code, error.get("message"))
        return True

    def expect_typed_text(self, item_id: str, event_id: str, text: str) -> None:
        """A typed message was sent: log it once the service confirms it."""
        self._typed_texts[item_id] = (event_id, text)

    def _typed_text_refused(self, event_id: str | None) -> None:
        """``error`` for one of our typed messages: it was not said, so it is not logged."""
        for item_id, (sent_event_id, _) in list(self._typed_texts.items()):
            if sent_event_id == event_id:
                del self._typed_texts[item_id]
                log.warning("the service refused a typed message (%s); it is not logged", item_id)

    def _learn_conversation(self, conversation_id: str | None) -> None:
        if conversation_id and conversation_id != self.service.conversation_id:
            self.service.conversation_id = conversation_id
            log.info("conversation %s", conversation_id)


def _short_repr(data: dict[str, Any]) -> str:
    try:
        return repr(data)[:400]
    except RecursionError:
        return "<too deeply nested>"
