"""Interim responses: short spoken bridges while the agent thinks or a tool runs.

A session (or one ``response.create``) may configure ``interim_response``:
``{"type": "static_interim_response", "triggers": [...], "latency_threshold_ms": N,
"texts": [...]}`` picks one of ``texts`` at random; ``{"type": "llm_interim_response", ...}`` asks
a small LLM on the service, which the emulator replaces by the script's ``interim`` reply or a
canned sentence that fits the trigger. Triggers (any of them fires, as documented):

* ``"latency"``: the response's think time (see :class:`~.timing.Timing`) exceeds
  ``latency_threshold_ms`` (default 2000). At the threshold the response starts with an interim
  message item; the main reply follows when the think time is over.
* ``"tool"``: the response calls a function. The interim message item follows the
  ``function_call`` item in the same response (the client runs the tool after ``response.done``).

Where the interim message sits on the wire is not documented; these choices are listed in
``docs/emulator.md``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_LATENCY_THRESHOLD_MS", "LLM_INTERIM_TEXTS", "InterimPlan", "plan_interim"]

DEFAULT_LATENCY_THRESHOLD_MS = 2000.0

LLM_INTERIM_TEXTS = {
    "latency": "Let me think about that for a moment.",
    "tool": "One moment while I look that up.",
}
"""What the emulated interim LLM says for each trigger when the script has no ``interim``."""


@dataclass(frozen=True)
class InterimPlan:
    """The interim response settings that apply to one response.

    Attributes:
        kind: ``"static_interim_response"`` or ``"llm_interim_response"``.
        triggers: The triggers that fire (``"latency"``, ``"tool"``).
        latency_threshold_ms: Think time beyond which the latency trigger fires.
        text_for: Gives the text to speak for a trigger.
    """

    kind: str
    triggers: frozenset[str]
    latency_threshold_ms: float
    text_for: Callable[[str], str]

    def fires_on_latency(self, think_s: float) -> bool:
        """Whether a think time of ``think_s`` seconds triggers an interim response."""
        return "latency" in self.triggers and think_s * 1000.0 > self.latency_threshold_ms


def plan_interim(
    config: dict[str, Any],
    params: dict[str, Any],
    *,
    rng: random.Random,
    script_interim: Callable[[str], str | None] | None = None,
) -> InterimPlan | None:
    """The interim plan for a response, or ``None`` when none is configured.

    Args:
        config: The session config (``interim_response``).
        params: The ``response`` of ``response.create`` (its ``interim_response`` wins).
        rng: Picks static texts (seeded per connection).
        script_interim: The script's interim text for a trigger (LLM-style), or ``None``.
    """
    settings = params.get("interim_response", config.get("interim_response"))
    if not isinstance(settings, dict):
        return None
    kind = settings.get("type")
    if kind not in ("static_interim_response", "llm_interim_response"):
        return None
    raw_triggers = settings.get("triggers")
    triggers = frozenset(
        t for t in (raw_triggers if isinstance(raw_triggers, list) else ["latency"]) if t
    )
    threshold = settings.get("latency_threshold_ms")
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        threshold = DEFAULT_LATENCY_THRESHOLD_MS
    texts = [t for t in settings.get("texts") or [] if isinstance(t, str) and t.strip()]

    def text_for(trigger: str) -> str:
        if kind == "static_interim_response":
            return rng.choice(texts) if texts else ""
        scripted = script_interim(trigger) if script_interim is not None else None
        return scripted if scripted else LLM_INTERIM_TEXTS.get(trigger, "One moment.")

    return InterimPlan(str(kind), triggers, float(threshold), text_for)
