"""``conversation.item.*`` client events: create, retrieve, delete and truncate."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from .ids import new_id

if TYPE_CHECKING:
    from .conversations import ItemAudio
    from .session import EmulatedSession

__all__ = ["ItemHandlers", "truncate"]

_ITEM_TYPES = ("message", "function_call", "function_call_output")
_ROLES = ("system", "user", "assistant")


class ItemHandlers:
    """Handlers of the ``conversation.item.*`` client events of one session.

    Args:
        session: The session whose conversation they edit.
    """

    def __init__(self, session: EmulatedSession) -> None:
        self._session = session

    async def on_create(self, event: dict[str, Any]) -> None:
        """``conversation.item.create``: validate and insert an item."""
        session = self._session
        item = event.get("item")
        event_id = event.get("event_id")
        if not isinstance(item, dict) or item.get("type") not in _ITEM_TYPES:
            await session.send_error(
                "Invalid 'item': expected a message, function_call or function_call_output.",
                code="invalid_value",
                param="item",
                event_id=event_id,
            )
            return
        if item["type"] == "message" and item.get("role") not in _ROLES:
            await session.send_error(
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
            previous = session.conversation.insert(stored, event.get("previous_item_id"))
        except KeyError:
            await session.send_error(
                f"Invalid 'previous_item_id': no item with id '{event.get('previous_item_id')}'.",
                code="invalid_value",
                param="previous_item_id",
                event_id=event_id,
            )
            return
        await session.send_event(
            {
                "type": "conversation.item.created",
                "previous_item_id": previous,
                "item": copy.deepcopy(stored),
            }
        )

    async def on_retrieve(self, event: dict[str, Any]) -> None:
        """``conversation.item.retrieve``: send the item as it stands."""
        item = self._session.conversation.find(str(event.get("item_id")))
        if item is None:
            await self._not_found(event)
            return
        await self._session.send_event(
            {"type": "conversation.item.retrieved", "item": copy.deepcopy(item)}
        )

    async def on_delete(self, event: dict[str, Any]) -> None:
        """``conversation.item.delete``: remove the item."""
        if not self._session.conversation.delete(str(event.get("item_id"))):
            await self._not_found(event)
            return
        await self._session.send_event(
            {"type": "conversation.item.deleted", "item_id": event.get("item_id")}
        )

    async def _not_found(self, event: dict[str, Any]) -> None:
        await self._session.send_error(
            f"Item with item_id '{event.get('item_id')}' not found.",
            code="item_not_found",
            param="item_id",
            event_id=event.get("event_id"),
        )

    async def on_truncate(self, event: dict[str, Any]) -> None:
        """``conversation.item.truncate``: cut an assistant item's audio and transcript."""
        session = self._session
        item_id = str(event.get("item_id"))
        event_id = event.get("event_id")
        if session.conversation.find(item_id) is None:
            await self._not_found(event)
            return
        audio = session.conversation.audio.get(item_id)
        if audio is None:
            await self._invalid(
                "Only assistant messages with audio can be truncated.", "item_id", event_id
            )
            return
        if event.get("content_index") != 0:
            await self._invalid(
                "Invalid 'content_index': the audio is content part 0.", "content_index", event_id
            )
            return
        end_ms = event.get("audio_end_ms")
        if not isinstance(end_ms, int) or isinstance(end_ms, bool) or end_ms < 0:
            await self._invalid(
                "Invalid 'audio_end_ms': expected a non-negative integer.", "audio_end_ms", event_id
            )
            return
        if end_ms > math.ceil(audio.sent_ms):
            await self._invalid(
                f"Audio content of {end_ms}ms is longer than the item's audio of "
                f"{int(audio.sent_ms)}ms.",
                "audio_end_ms",
                event_id,
            )
            return
        await truncate(session, item_id, audio, float(end_ms))

    async def _invalid(self, message: str, param: str, event_id: Any) -> None:
        await self._session.send_error(
            message, code="invalid_value", param=param, event_id=event_id
        )


async def truncate(session: EmulatedSession, item_id: str, audio: ItemAudio, end_ms: float) -> None:
    """Cut an assistant item's ``audio`` at ``end_ms``; send ``conversation.item.truncated``."""
    audio.truncated_ms = end_ms
    session.conversation.sync_transcript(item_id)
    await session.send_event(
        {
            "type": "conversation.item.truncated",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": int(end_ms),
        }
    )
