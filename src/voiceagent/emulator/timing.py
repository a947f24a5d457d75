"""How long the emulated service takes: think time, time to first audio, delivery jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["Timing"]


@dataclass(frozen=True)
class Timing:
    """A timing profile for responses (all times in milliseconds).

    The default, :attr:`IMMEDIATE`, adds nothing: a response starts at once and audio is only
    paced (with ``realtime=True``). :attr:`REALISTIC` behaves like a cloud service: it "thinks"
    300-700 ms before ``response.created``, takes 200 ms more to the first audio, and delivers
    each audio delta up to 30 ms late. Jitter only ever delays a delta, never sends it early, and
    applies only with ``realtime=True``; the think time and first-audio delay always apply.

    Attributes:
        think_ms: ``(low, high)``: a uniform draw before ``response.created``.
        first_audio_ms: From the start of the audio part to the first ``response.audio.delta``.
        jitter_ms: Each paced audio delta is sent up to this much after its schedule.
        seed: Seeds the draws; each connection starts its own generator from it.
    """

    think_ms: tuple[float, float] = (0.0, 0.0)
    first_audio_ms: float = 0.0
    jitter_ms: float = 0.0
    seed: int = 0

    IMMEDIATE: ClassVar[Timing]
    REALISTIC: ClassVar[Timing]

    def __post_init__(self) -> None:
        low, high = self.think_ms
        if not 0 <= low <= high:
            raise ValueError("think_ms must be (low, high) with 0 <= low <= high")
        if self.first_audio_ms < 0 or self.jitter_ms < 0:
            raise ValueError("first_audio_ms and jitter_ms must not be negative")

    @classmethod
    def coerce(cls, value: Timing | str | None) -> Timing:
        """A :class:`Timing` from itself, ``None`` (immediate) or a profile name.

        Raises:
            ValueError: An unknown profile name (known: ``"immediate"``, ``"realistic"``).
        """
        if value is None:
            return cls.IMMEDIATE
        if isinstance(value, Timing):
            return value
        profiles = {"immediate": cls.IMMEDIATE, "realistic": cls.REALISTIC}
        try:
            return profiles[value]
        except KeyError:
            raise ValueError(
                f"unknown timing profile {value!r}; expected one of {', '.join(profiles)}"
            ) from None

    def think(self, rng: random.Random) -> float:
        """A think time in seconds."""
        low, high = self.think_ms
        return (low if high == low else rng.uniform(low, high)) / 1000.0

    def jitter(self, rng: random.Random) -> float:
        """A delivery delay in seconds."""
        return rng.uniform(0.0, self.jitter_ms) / 1000.0 if self.jitter_ms else 0.0


Timing.IMMEDIATE = Timing()
Timing.REALISTIC = Timing(think_ms=(300.0, 700.0), first_audio_ms=200.0, jitter_ms=30.0)
