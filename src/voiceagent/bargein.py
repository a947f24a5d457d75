"""Barge-in: what the user heard, and what to do when they talk over the agent.

Pure bookkeeping, no I/O: the session feeds it the server's response events and asks it for a
:class:`BargeInPlan` when ``input_audio_buffer.speech_started`` arrives. The order of the plan
is the order that makes the agent stop at once and keeps the history honest:

1. flush the backend's queued playback (the session does this before anything else);
2. cancel the response, only if one is in progress and the service will not do it itself
   (``interrupt_response``), so ``response_cancel_not_active`` is never provoked;
3. truncate each assistant item the user heard only part of, at the frames the device
   actually played (clamped to what was received, skipped at 0 ms), unless the service
   truncates by itself (``auto_truncate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BargeInPlan", "BargeInPolicy", "PlaybackTracker", "Truncation"]


@dataclass(frozen=True)
class BargeInPolicy:
    """How the session reacts when the user starts speaking over the agent.

    Attributes:
        enabled: False turns barge-in handling off entirely (the agent talks to the end).
        cancel_response: ``"auto"`` sends ``response.cancel`` only when the service is not
            configured to interrupt by itself (``interrupt_response: false``); ``"always"``
            sends it whenever a response is in progress; ``"never"`` leaves it to the service.
        truncate: Send ``conversation.item.truncate`` so the history keeps only what was heard.
            Skipped when the service truncates by itself (``auto_truncate: true``).
    """

    enabled: bool = True
    cancel_response: Literal["auto", "always", "never"] = "auto"
    truncate: bool = True


@dataclass(frozen=True)
class Truncation:
    """One ``conversation.item.truncate`` to send."""

    item_id: str
    audio_end_ms: int


@dataclass(frozen=True)
class BargeInPlan:
    """What to do about one interruption (see the module docstring for the order)."""

    item_id: str | None
    played_ms: int
    received_ms: int
    cancel_response_id: str | None
    truncations: tuple[Truncation, ...]
    heard_text: str

    @property
    def cancel(self) -> bool:
        """Whether ``response.cancel`` should be sent."""
        return self.cancel_response_id is not None


@dataclass
class _Item:
    item_id: str
    response_id: str | None
    received_frames: int = 0
    transcript: str = ""
    final_transcript: str | None = None
    interrupted_at_frames: int | None = None
    transcript_done: bool = field(default=False)

    @property
    def text(self) -> str:
        return self.final_transcript if self.final_transcript is not None else self.transcript


def heard_prefix(text: str, heard_frames: int, total_frames: int) -> str:
    """The part of ``text`` heard after ``heard_frames`` of ``total_frames``, at a word boundary.

    An estimate: speech is assumed to be spread evenly over the item's audio.
    """
    if total_frames <= 0 or heard_frames <= 0:
        return ""
    if heard_frames >= total_frames:
        return text
    cut = len(text) * heard_frames // total_frames
    if cut < len(text) and not text[cut].isspace():
        space = text.rfind(" ", 0, cut)
        cut = space if space >= 0 else 0
    return text[:cut].rstrip()


class PlaybackTracker:
    """Tracks responses and assistant audio items as the server streams them.

    Args:
        sample_rate: The PCM rate of the assistant audio (frames per second).
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._items: dict[str, _Item] = {}
        self._active_response: str | None = None

    # --- fed by the session, in server order -------------------------------------------

    def response_created(self, response_id: str) -> None:
        """``response.created``."""
        self._active_response = response_id

    def response_done(self, response_id: str | None) -> None:
        """``response.done`` (any status)."""
        if response_id is None or response_id == self._active_response:
            self._active_response = None

    def audio_received(self, item_id: str, response_id: str | None, frames: int) -> bool:
        """``response.audio.delta``; returns False when the audio must not be played.

        Audio still in flight for an item the user already interrupted is dropped: the flush
        would otherwise be undone by the next delta.
        """
        item = self._item(item_id, response_id)
        if item.interrupted_at_frames is not None:
            return False
        item.received_frames += frames
        return True

    def transcript_delta(self, item_id: str, response_id: str | None, delta: str) -> None:
        """``response.audio_transcript.delta``."""
        self._item(item_id, response_id).transcript += delta

    def transcript_done(self, item_id: str, response_id: str | None, transcript: str) -> None:
        """``response.audio_transcript.done``."""
        item = self._item(item_id, response_id)
        item.final_transcript = transcript
        item.transcript_done = True

    def forget(self, item_id: str) -> None:
        """Drop a finished item's bookkeeping (keeps long sessions from growing)."""
        self._items.pop(item_id, None)

    def reset(self) -> None:
        """Forget everything in flight (the connection was replaced)."""
        self._items.clear()
        self._active_response = None

    # --- queries -----------------------------------------------------------------------

    @property
    def response_active(self) -> bool:
        """True between ``response.created`` and its ``response.done``."""
        return self._active_response is not None

    @property
    def active_response_id(self) -> str | None:
        """The response in progress, if any."""
        return self._active_response

    def received_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` received and accepted for playback."""
        item = self._items.get(item_id)
        return item.received_frames if item else 0

    def was_interrupted(self, item_id: str) -> bool:
        """True once the user barged in on ``item_id``."""
        item = self._items.get(item_id)
        return item is not None and item.interrupted_at_frames is not None

    def heard_text(self, item_id: str, played_frames: int) -> str:
        """The part of ``item_id``'s transcript the user heard."""
        item = self._items.get(item_id)
        if item is None:
            return ""
        return heard_prefix(item.text, played_frames, item.received_frames)

    def full_text(self, item_id: str) -> str:
        """Everything the agent said (or was saying) in ``item_id``."""
        item = self._items.get(item_id)
        return item.text if item else ""

    def plan_barge_in(
        self,
        played_frames: dict[str, int],
        *,
        policy: BargeInPolicy,
        service_cancels: bool,
        service_truncates: bool,
    ) -> BargeInPlan:
        """Decide what to send for an interruption, and mark the unheard items as interrupted.

        Args:
            played_frames: Frames actually played per item, from the audio backend.
            policy: The session's barge-in policy.
            service_cancels: The service cancels the response itself (``interrupt_response``).
            service_truncates: The service truncates by itself (``auto_truncate``).
        """
        cancel_id: str | None = None
        if self._active_response is not None and (
            policy.cancel_response == "always"
            or (policy.cancel_response == "auto" and not service_cancels)
        ):
            cancel_id = self._active_response

        truncations: list[Truncation] = []
        current: _Item | None = None
        for item in self._items.values():
            if item.interrupted_at_frames is not None:
                continue
            played = min(played_frames.get(item.item_id, 0), item.received_frames)
            still_streaming = item.response_id is not None and (
                item.response_id == self._active_response
            )
            if played >= item.received_frames and not still_streaming:
                continue  # fully heard and finished: nothing to cut
            item.interrupted_at_frames = played
            current = item
            end_ms = played * 1000 // self.sample_rate
            if policy.truncate and not service_truncates and end_ms > 0:
                truncations.append(Truncation(item.item_id, end_ms))

        if current is None:
            return BargeInPlan(None, 0, 0, cancel_id, (), "")
        played = current.interrupted_at_frames or 0
        return BargeInPlan(
            item_id=current.item_id,
            played_ms=played * 1000 // self.sample_rate,
            received_ms=current.received_frames * 1000 // self.sample_rate,
            cancel_response_id=cancel_id,
            truncations=tuple(truncations),
            heard_text=heard_prefix(current.text, played, current.received_frames),
        )

    def _item(self, item_id: str, response_id: str | None) -> _Item:
        item = self._items.get(item_id)
        if item is None:
            item = self._items[item_id] = _Item(item_id, response_id)
        return item
