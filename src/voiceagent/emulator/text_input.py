"""Streamed text input (``input_text.delta``/``done``) and ``mcp_approval_response``.

``input_text.delta {id, delta, content_index?}`` appends text to an ``input_text`` part of an item
the client created; ``input_text.done {id, content_index?}`` closes it (the JS SDK's README
sample; the events are in its generated models). The service's acknowledgement, if any, is
undocumented: the emulator sends none and answers a bad reference with an ``error``.

``mcp_approval_response {approval_request_id, approve}`` answers an ``mcp_approval_request`` item.
The emulator never calls MCP servers, so it never has a pending request: every response names an
unknown request and gets ``error`` ``approval_request_not_found`` (the code is inferred).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import EmulatedSession

__all__ = ["TextInputHandlers"]


class TextInputHandlers:
    """Handlers of ``input_text.*`` and ``mcp_approval_response`` for one session.

    Args:
        session: The session whose conversation they edit.
    """

    def __init__(self, session: EmulatedSession) -> None:
        self._session = session
        self._closed: set[tuple[str, int]] = set()  # (item id, content index) done

    async def _part(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The ``input_text`` part the event names, or ``None`` after sending the error."""
        session = self._session
        event_id = event.get("event_id")
        item_id = event.get("id")
        index = event.get("content_index", 0)
        if not isinstance(item_id, str) or not item_id:
            await session.send_error(
                "Missing required parameter: 'id' (the item to stream text into).",
                code="missing_required_parameter",
                param="id",
                event_id=event_id,
            )
            return None
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            await session.send_error(
                "Invalid type for 'content_index': expected a non-negative integer.",
                code="invalid_type",
                param="content_index",
                event_id=event_id,
            )
            return None
        item = session.conversation.find(item_id)
        if item is None:
            await session.send_error(
                f"Item with item_id '{item_id}' not found: create it first with "
                "conversation.item.create (an input_text part to stream into).",
                code="item_not_found",
                param="id",
                event_id=event_id,
            )
            return None
        content = item.get("content")
        part = content[index] if isinstance(content, list) and index < len(content) else None
        if not isinstance(part, dict) or part.get("type") != "input_text":
            await session.send_error(
                f"Item '{item_id}' has no input_text part at content_index {index}.",
                code="invalid_value",
                param="content_index",
                event_id=event_id,
            )
            return None
        if (item_id, index) in self._closed:
            await session.send_error(
                f"The text of item '{item_id}' part {index} was already completed "
                "with input_text.done.",
                code="invalid_value",
                param="id",
                event_id=event_id,
            )
            return None
        return part

    async def on_delta(self, event: dict[str, Any]) -> None:
        """``input_text.delta``: append ``delta`` to the part's text."""
        delta = event.get("delta")
        if not isinstance(delta, str):
            await self._session.send_error(
                "Invalid type for 'delta': expected string.",
                code="invalid_type",
                param="delta",
                event_id=event.get("event_id"),
            )
            return
        part = await self._part(event)
        if part is not None:
            part["text"] = str(part.get("text") or "") + delta

    async def on_done(self, event: dict[str, Any]) -> None:
        """``input_text.done``: the part's text is complete."""
        part = await self._part(event)
        if part is not None:
            self._closed.add((str(event["id"]), int(event.get("content_index", 0))))

    async def on_mcp_approval_response(self, event: dict[str, Any]) -> None:
        """``mcp_approval_response``: refused, as no MCP approval request is ever pending."""
        session = self._session
        event_id = event.get("event_id")
        request_id = event.get("approval_request_id")
        if not isinstance(request_id, str) or not request_id:
            await session.send_error(
                "Missing required parameter: 'approval_request_id'.",
                code="missing_required_parameter",
                param="approval_request_id",
                event_id=event_id,
            )
            return
        if not isinstance(event.get("approve"), bool):
            await session.send_error(
                "Invalid type for 'approve': expected boolean.",
                code="invalid_type",
                param="approve",
                event_id=event_id,
            )
            return
        await session.send_error(
            f"No MCP approval request with id '{request_id}' is pending (the emulator does "
            "not call MCP servers, so it never sends mcp_approval_request items).",
            code="approval_request_not_found",
            param="approval_request_id",
            event_id=event_id,
        )
