"""Everything known about each assistant item, in one place.

:class:`TurnTracker` is the only owner of per-item state: audio received, transcript, whether the
user cut it off and where, whether its response is finished, whether it was logged. The session
feeds it the service's events in order and asks it questions; it answers with plans
(:class:`~voiceagent.session.bargein.BargeInPlan`) and with the turns to log. Pure bookkeeping, no
I/O, so every rule here is tested without a network.

Frames are PCM frames at the device rate (``sample_rate``); the "heard" count always comes from
the audio backend, never from the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..conversation import Turn
from .bargein import BargeInPlan, BargeInPolicy, Truncation, heard_prefix
from .responses import ResponseGate

__all__ = ["TurnTracker"]


@dataclass
class _Item:
    item_id: str
    response_id: str | None
    received_frames: int = 0
    transcript: str = ""
    final_transcript: str | None = None
    interrupted_at: int | None = None  # frames heard when the user cut it off
    delete_when_done: bool = False  # heard nothing: remove it once its response is done
    finished: bool = False  # its response is done

    @property
    def text(self) -> str:
        return self.final_transcript if self.final_transcript is not None else self.transcript


@dataclass(frozen=True)
class ResponseOutcome:
    """What ``response.done`` means for the items: turns to log now, items to delete now."""

    turns: list[Turn]
    delete: list[str]
    awaiting_playback: bool


class TurnTracker:
    """Responses and assistant items as the service streams them, and what the user heard.

    Whether a response is in progress is not its own state: it feeds ``response.created`` /
    ``response.done`` to the session's :class:`~.responses.ResponseGate` and asks it.

    Args:
        sample_rate: The PCM rate of the assistant audio as played (frames per second).
        responses: The session's response gate (a new one by default).
    """

    def __init__(self, sample_rate: int, responses: ResponseGate | None = None) -> None:
        self.sample_rate = sample_rate
        self.responses = responses if responses is not None else ResponseGate()
        self._items: dict[str, _Item] = {}
        self.playing_item: str | None = None
        """The item whose audio was handed to the backend last."""

    # --- fed by the session, in the service's order -------------------------------------

    def response_created(self, response_id: str) -> None:
        """``response.created``."""
        self.responses.created(response_id)

    def item_added(self, item_id: str, response_id: str | None) -> None:
        """``response.output_item.added`` of an assistant message."""
        self._item(item_id, response_id)

    def audio_received(self, item_id: str, response_id: str | None, frames: int) -> bool:
        """``response.audio.delta``; returns False when the audio must not be played.

        Audio still in flight for an item the user already interrupted is dropped: the flush
        would otherwise be undone by the next delta.
        """
        item = self._item(item_id, response_id)
        if item.interrupted_at is not None:
            return False
        item.received_frames += frames
        self.playing_item = item_id
        return True

    def transcript_delta(self, item_id: str, response_id: str | None, delta: str) -> None:
        """``response.audio_transcript.delta`` / ``response.text.delta``."""
        self._item(item_id, response_id).transcript += delta

    def transcript_done(self, item_id: str, response_id: str | None, transcript: str) -> None:
        """``response.audio_transcript.done`` / ``response.text.done``."""
        self._item(item_id, response_id).final_transcript = transcript

    def response_done(self, response_id: str | None, output_ids: Iterable[str]) -> ResponseOutcome:
        """``response.done`` (any status) listing the ids of its output items.

        Returns:
            The turns that can be logged now (cut earlier, or text only), the unheard items to
            delete now that their response is over, and whether some audio is still to play.
        """
        self.responses.done(response_id)
        turns: list[Turn] = []
        delete: list[str] = []
        awaiting = False
        ids = set(output_ids)
        for item in list(self._items.values()):
            if item.item_id not in ids and item.response_id != response_id:
                continue
            item.finished = True
            if item.delete_when_done:
                item.delete_when_done = False
                delete.append(item.item_id)
            if item.interrupted_at is not None:
                turns.extend(self._close(item, interrupted=True))
            elif item.received_frames:
                awaiting = True
            else:
                turns.extend(self._close(item, interrupted=False))  # text only: nothing to play
        return ResponseOutcome(turns, delete, awaiting)

    def playback_idle(self) -> list[Turn]:
        """The backend played everything queued: finished items were heard in full."""
        turns: list[Turn] = []
        for item in list(self._items.values()):
            if item.finished and item.interrupted_at is None:
                turns.extend(self._close(item, interrupted=False))
        return turns

    def plan_barge_in(
        self,
        played_frames: Callable[[str], int],
        *,
        policy: BargeInPolicy,
        service_cancels: bool,
        service_truncates: bool,
        closing: bool = False,
    ) -> BargeInPlan:
        """Decide what to send for an interruption, and mark the unheard items as interrupted.

        Args:
            played_frames: Frames of an item actually played, from the audio backend.
            policy: The session's barge-in policy.
            service_cancels: The service cancels the response itself (``interrupt_response``).
            service_truncates: The service truncates by itself (``auto_truncate``).
            closing: The session closes: no ``response.done`` will be waited for, so an unheard
                item is deleted now (after the cancel), not when its response is done.
        """
        cancel_id: str | None = None
        active = self.responses.active_id
        if active is not None and (
            policy.cancel_response == "always"
            or (policy.cancel_response == "auto" and not service_cancels)
        ):
            cancel_id = active
        edit_history = policy.truncate and not service_truncates
        truncations: list[Truncation] = []
        deletions: list[str] = []
        turns: list[Turn] = []
        current: _Item | None = None
        for item in list(self._items.values()):
            if item.interrupted_at is not None:
                if closing and item.delete_when_done:  # its response.done will not come now
                    deletions.append(item.item_id)
                    item.delete_when_done = False
                continue
            played = min(played_frames(item.item_id), item.received_frames)
            streaming = item.response_id is not None and item.response_id == active
            if played >= item.received_frames and not streaming:
                continue  # fully heard and finished: nothing to cut
            item.interrupted_at = played
            current = item
            end_ms = played * 1000 // self.sample_rate
            if edit_history and end_ms > 0:
                truncations.append(Truncation(item.item_id, end_ms))
            elif edit_history:
                # Heard nothing: a truncate at 0 ms is refused by some services, and the item
                # must not stay in the history as if heard. Delete it once its response is over
                # (deleting an item still being generated races the service's cancel).
                if item.finished or closing:  # closing: the cancel is sent before it
                    deletions.append(item.item_id)
                else:
                    item.delete_when_done = True
            if item.finished:
                turns.extend(self._close(item, interrupted=True))
        if current is None:  # nothing new to cut; a close may still owe pending deletions
            return BargeInPlan(None, 0, 0, cancel_id, (), "", tuple(deletions), [])
        played = current.interrupted_at or 0
        return BargeInPlan(
            item_id=current.item_id,
            played_ms=played * 1000 // self.sample_rate,
            received_ms=current.received_frames * 1000 // self.sample_rate,
            cancel_response_id=cancel_id,
            truncations=tuple(truncations),
            heard_text=heard_prefix(current.text, played, current.received_frames),
            deletions=tuple(deletions),
            turns=turns,
        )

    def finish_all(self, played_frames: Callable[[str], int]) -> list[Turn]:
        """The conversation stops here (close or dropped connection): log every open item.

        An item heard in full and finished is complete; any other is interrupted at what was
        played. Forgets everything in flight.
        """
        turns: list[Turn] = []
        for item in list(self._items.values()):
            played = min(played_frames(item.item_id), item.received_frames)
            if item.interrupted_at is None and not (
                item.finished and played >= item.received_frames
            ):
                item.interrupted_at = played
            turns.extend(self._close(item, interrupted=item.interrupted_at is not None))
        self._items.clear()
        self.responses.reset()
        self.playing_item = None
        return turns

    # --- queries -------------------------------------------------------------------------

    @property
    def response_active(self) -> bool:
        """True between ``response.created`` and its ``response.done`` (asks the gate)."""
        return self.responses.active

    @property
    def active_response_id(self) -> str | None:
        """The response in progress, if any (asks the gate)."""
        return self.responses.active_id

    @property
    def open_items(self) -> list[str]:
        """Ids of the items not yet logged (for tests and diagnostics)."""
        return list(self._items)

    def received_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` received and accepted for playback."""
        item = self._items.get(item_id)
        return item.received_frames if item else 0

    # --- internals -----------------------------------------------------------------------

    def _close(self, item: _Item, *, interrupted: bool) -> list[Turn]:
        """Forget ``item`` and return its turn (none when it said nothing at all)."""
        if item.delete_when_done:
            return []  # logged when its response is done, after the delete is sent
        self._items.pop(item.item_id, None)
        full = item.text
        if interrupted:
            heard = heard_prefix(full, item.interrupted_at or 0, item.received_frames)
        else:
            heard = full
        if not full:
            return []  # neither audio transcript nor text (e.g. cancelled at once)
        return [
            Turn(
                role="assistant",
                text=heard,
                item_id=item.item_id,
                interrupted=interrupted,
                full_text=full if interrupted else None,
            )
        ]

    def _item(self, item_id: str, response_id: str | None) -> _Item:
        item = self._items.get(item_id)
        if item is None:
            item = self._items[item_id] = _Item(item_id, response_id)
        return item
