"""Conversations that outlive connections, keyed by conversation id (resume support)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .ids import new_id
from .voice import Speech

__all__ = ["Conversation", "ConversationStore", "ItemAudio"]


@dataclass
class ItemAudio:
    """The audio of one assistant item, for truncation.

    Attributes:
        speech: The synthesised speech (full text and word timings).
        sent_ms: Milliseconds of its audio sent to the client so far.
        generated_chars: Characters of the transcript sent as deltas so far.
        truncated_ms: Where the item was truncated, or ``None``.
    """

    speech: Speech
    sent_ms: float = 0.0
    generated_chars: int = 0
    truncated_ms: float | None = None

    def transcript(self) -> str:
        """The transcript as it stands: what was generated, cut to what was heard if truncated."""
        text = self.speech.text[: self.generated_chars]
        if self.truncated_ms is not None:
            heard = self.speech.transcript_at(self.truncated_ms)
            text = heard if len(heard) < len(text) else text
        return text


@dataclass
class Conversation:
    """One conversation's history.

    Attributes:
        id: The conversation id (``conv_...`` unless the client chose it).
        agent_name: The agent it belongs to (``None`` in model mode).
        project_name: The agent's project (``None`` in model mode).
        items: The items as they stand (dicts in wire format), oldest first; assistant
            transcripts are cut after truncation.
        audio: Audio bookkeeping of assistant items, by item id.
    """

    id: str
    agent_name: str | None = None
    project_name: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    audio: dict[str, ItemAudio] = field(default_factory=dict)

    def find(self, item_id: str) -> dict[str, Any] | None:
        """The item with ``item_id``, or ``None``."""
        for item in self.items:
            if item.get("id") == item_id:
                return item
        return None

    def last_item_id(self) -> str | None:
        """The id of the newest item (the ``previous_item_id`` of the next one)."""
        return str(self.items[-1]["id"]) if self.items else None

    def insert(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Add ``item`` after ``previous_item_id`` (default: last); return the id before it."""
        if previous_item_id is None:
            before = self.last_item_id()
            self.items.append(item)
            return before
        for index, existing in enumerate(self.items):
            if existing.get("id") == previous_item_id:
                self.items.insert(index + 1, item)
                return previous_item_id
        raise KeyError(previous_item_id)

    def delete(self, item_id: str) -> bool:
        """Remove an item; False when there is no such item."""
        for index, existing in enumerate(self.items):
            if existing.get("id") == item_id:
                del self.items[index]
                self.audio.pop(item_id, None)
                return True
        return False

    def sync_transcript(self, item_id: str) -> None:
        """Copy an assistant item's current transcript (after generation or truncation) into it."""
        audio = self.audio.get(item_id)
        item = self.find(item_id)
        if audio is None or item is None:
            return
        for part in item.get("content", []):
            if part.get("type") == "audio":
                part["transcript"] = audio.transcript()


class ConversationStore:
    """All conversations of one emulator, shared by its connections.

    Args:
        max_count: Keep at most this many conversations: when a new one would exceed it, the
            least recently used ones that no open connection uses are forgotten.
        max_age_s: Forget conversations no connection has used for this many seconds.
    """

    def __init__(self, max_count: int | None = None, max_age_s: float | None = None) -> None:
        self.by_id: dict[str, Conversation] = {}
        self.max_count = max_count
        self.max_age_s = max_age_s
        self._users: dict[str, int] = {}  # open connections per conversation id
        self._last_used: dict[str, float] = {}

    def release(self, conversation: Conversation) -> None:
        """A connection that used ``conversation`` has closed."""
        users = self._users.get(conversation.id, 0) - 1
        if users > 0:
            self._users[conversation.id] = users
        else:
            self._users.pop(conversation.id, None)
        if conversation.id in self.by_id:
            self._last_used[conversation.id] = time.monotonic()
        self.prune()

    def prune(self) -> None:
        """Forget conversations beyond the age and count limits (never one in use)."""
        now = time.monotonic()
        idle = sorted(
            (cid for cid in self.by_id if cid not in self._users),
            key=lambda cid: self._last_used.get(cid, now),
        )
        for cid in idle:
            too_old = self.max_age_s is not None and now - self._last_used.get(cid, now) >= (
                self.max_age_s
            )
            too_many = self.max_count is not None and len(self.by_id) > self.max_count
            if not (too_old or too_many):
                continue
            del self.by_id[cid]
            self._last_used.pop(cid, None)

    def _use(self, conversation: Conversation) -> Conversation:
        self._users[conversation.id] = self._users.get(conversation.id, 0) + 1
        self._last_used[conversation.id] = time.monotonic()
        self.prune()
        return conversation

    def open(
        self, conversation_id: str | None, agent_name: str | None, project_name: str | None
    ) -> Conversation:
        """Resume ``conversation_id`` if it belongs to this agent, else start a new conversation.

        An unknown id is adopted (so tests can choose ids); an id that belongs to another
        agent or project starts a new conversation with a new id, as the service does.
        """
        if conversation_id:
            existing = self.by_id.get(conversation_id)
            if existing is None:
                conversation = Conversation(conversation_id, agent_name, project_name)
                self.by_id[conversation_id] = conversation
                return self._use(conversation)
            if (existing.agent_name, existing.project_name) == (agent_name, project_name):
                return self._use(existing)
        conversation = Conversation(new_id("conv"), agent_name, project_name)
        self.by_id[conversation.id] = conversation
        return self._use(conversation)
