"""Voicing an Invocations-protocol agent, as Voice Live does (``Emulator(invocations_url=...)``).

For each response to a user turn, the emulator posts ``{"type": "input_audio.transcription",
"input": "<the user's text>"}`` to the agent, reads its Server-Sent Events and speaks the text:
``output_audio_transcription.done``'s ``text`` (or the deltas joined, if the agent sends no
``done`` text). Every other event the agent sends reaches the client as
``response.invocation.delta {response_id, delta: <the event>}``.

Simplifications (documented in ``docs/invocations.md``): the emulator collects the whole reply
before speaking it (the service starts speaking as the deltas arrive), so custom events are sent
right after ``response.created``, before the audio. Responses without a new user message
(greetings, function outputs) keep the script's reply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp

from .replies import message_text
from .script import Reply

if TYPE_CHECKING:
    from .response import ResponseRun
    from .session import EmulatedSession

__all__ = ["read_events", "voice_invocation"]

logger = logging.getLogger(__name__)

_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=5)


async def read_events(
    url: str, payload: dict[str, Any], *, timeout: aiohttp.ClientTimeout = _TIMEOUT
) -> AsyncIterator[dict[str, Any]]:
    """POST ``payload`` to ``url`` and yield each SSE ``data:`` event (a JSON object).

    Raises:
        aiohttp.ClientError: The request failed or the status is not 2xx.
        ValueError: A ``data:`` line that is not a JSON object.
    """
    async with (
        aiohttp.ClientSession(timeout=timeout) as client,
        client.post(url, json=payload, headers={"Accept": "text/event-stream"}) as response,
    ):
        response.raise_for_status()
        data: list[str] = []
        async for raw in response.content:
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
            elif not line and data:
                event = json.loads("\n".join(data))
                data = []
                if not isinstance(event, dict):
                    raise ValueError(f"an SSE event that is not a JSON object: {event!r}")
                yield event


def _latest_user_text(session: EmulatedSession) -> str | None:
    for item in reversed(session.conversation.items):
        if item.get("type") == "message" and item.get("role") == "user":
            return message_text(item)
        if item.get("type") == "message" and item.get("role") == "assistant":
            return None  # already answered: not a user turn
    return None


async def voice_invocation(session: EmulatedSession, run: ResponseRun) -> None:
    """Replace ``run``'s reply with what the session's Invocations agent says (see above)."""
    url = session.settings.invocations_url
    text = _latest_user_text(session)
    if url is None or text is None:
        return
    chunks: list[str] = []
    full: str | None = None
    custom: list[dict[str, Any]] = []
    payload = {"type": "input_audio.transcription", "input": text}
    try:
        async for event in read_events(url, payload):
            kind = event.get("type")
            if kind == "output_audio_transcription.delta":
                chunks.append(str(event.get("delta") or ""))
            elif kind == "output_audio_transcription.done":
                full = event.get("text") if isinstance(event.get("text"), str) else None
            elif kind == "done":
                break
            else:
                custom.append(event)
    except (aiohttp.ClientError, ValueError, TimeoutError) as exc:
        logger.warning("invocations agent at %s failed: %s", url, exc)
        await session.send_error(f"The Invocations agent failed: {exc}", code="invocation_failed")
        run.record.reply = Reply(text="")
        return
    run.record.reply = Reply(text=full if full is not None else "".join(chunks))
    run.pre_events.extend(
        {"type": "response.invocation.delta", "response_id": run.id, "delta": event}
        for event in custom
    )
