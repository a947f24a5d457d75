"""Barge-in: what the user heard, and what to do when they talk over the agent.

Pure data, no I/O: :class:`~voiceagent.session.turns.TurnTracker` makes a :class:`BargeInPlan`
when ``input_audio_buffer.speech_started`` arrives. The order of the plan is the order that makes
the agent stop at once and keeps the history honest:

1. flush the backend's queued playback (the session does this before anything else);
2. cancel the response, only if one is in progress and the service will not do it itself
   (``interrupt_response``), so ``response_cancel_not_active`` is never provoked;
3. truncate each assistant item the user heard only part of, at the frames the device
   actually played (clamped to what was received), unless the service truncates by itself
   (``auto_truncate``); an item the user heard nothing of is deleted instead (a truncate at
   0 ms is refused by some services), once its response is over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..conversation import Turn
from ..errors import ConfigError

__all__ = ["BargeInPlan", "BargeInPolicy", "Truncation", "heard_prefix"]


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

    def __post_init__(self) -> None:
        for name in ("enabled", "truncate"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(
                    f"BargeInPolicy.{name} must be True or False, got {getattr(self, name)!r}"
                )
        if self.cancel_response not in ("auto", "always", "never"):
            raise ConfigError(
                f"BargeInPolicy.cancel_response must be 'auto', 'always' or 'never', got "
                f"{self.cancel_response!r}"
            )


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
    deletions: tuple[str, ...] = ()
    turns: list[Turn] = field(default_factory=list, compare=False)
    """Turns of finished items the cut closes (to log now)."""

    @property
    def cancel(self) -> bool:
        """Whether ``response.cancel`` should be sent."""
        return self.cancel_response_id is not None


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
