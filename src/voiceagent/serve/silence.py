"""A silence policy for phone calls: reprompt a caller who says nothing, then hang up.

The clock counts only *caller silence while nobody talks*: it pauses while the agent's reply is
being produced or played (``response.created`` -> ``voiceagent.playback_finished``), and the
caller speaking (``input_audio_buffer.speech_started``) resets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..session.session import VoiceAgentSession

__all__ = ["SilencePolicy", "watch_silence"]

log = logging.getLogger("voiceagent.serve")


@dataclass(frozen=True)
class SilencePolicy:
    """What to do when the caller says nothing.

    Attributes:
        reprompt_after_s: Seconds of caller silence before the agent says ``reprompt`` (once
            per silence; None: never).
        reprompt: What the agent says then.
        hang_up_after_s: Seconds of caller silence (the reprompt's playback not counted) before
            the call is ended (None: never).
    """

    reprompt_after_s: float | None = 8.0
    reprompt: str = "Are you still there?"
    hang_up_after_s: float | None = 20.0

    def __post_init__(self) -> None:
        for name in ("reprompt_after_s", "hang_up_after_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"SilencePolicy.{name}={value}: give seconds > 0, or None")
        if (
            self.reprompt_after_s is not None
            and self.hang_up_after_s is not None
            and self.hang_up_after_s <= self.reprompt_after_s
        ):
            raise ValueError(
                f"SilencePolicy: hang_up_after_s={self.hang_up_after_s} must be longer than "
                f"reprompt_after_s={self.reprompt_after_s}, or the reprompt is never heard"
            )


async def watch_silence(session: VoiceAgentSession, policy: SilencePolicy) -> None:
    """Apply ``policy`` to ``session`` until it closes (run it as a task beside the call)."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    state: dict[str, Any] = {"agent": False, "caller": False, "silent": 0.0, "since": loop.time()}
    reprompted = False

    def account() -> None:  # fold the quiet time since the last change into the clock
        now = loop.time()
        if not state["agent"] and not state["caller"]:
            state["silent"] += now - state["since"]
        state["since"] = now

    def on(kind: str) -> Any:
        def handle(_: Any) -> None:
            nonlocal reprompted
            account()
            if kind == "caller_started":
                state["caller"], state["silent"], reprompted = True, 0.0, False
            elif kind == "caller_stopped":
                state["caller"] = False
            elif kind == "agent_started":
                state["agent"] = True
            elif kind == "agent_done":
                state["agent"] = False
            changed.set()

        return handle

    handlers = {
        "input_audio_buffer.speech_started": on("caller_started"),
        "input_audio_buffer.speech_stopped": on("caller_stopped"),
        "response.created": on("agent_started"),
        "voiceagent.playback_finished": on("agent_done"),
    }
    for event, handler in handlers.items():
        session.on(event, handler)
    try:
        while True:
            account()
            quiet = not state["agent"] and not state["caller"]
            targets = [
                t
                for t in (
                    None if reprompted else policy.reprompt_after_s,
                    policy.hang_up_after_s,
                )
                if t is not None
            ]
            timeout = min(targets) - state["silent"] if quiet and targets else None
            if timeout is not None and timeout <= 0:
                if policy.hang_up_after_s is not None and state["silent"] >= policy.hang_up_after_s:
                    log.info("the caller said nothing for %.0f s: hanging up", state["silent"])
                    await session.aclose()
                    return
                reprompted = True
                state["agent"] = True  # until its playback finishes, the clock pauses
                await session.say(policy.reprompt)
                continue
            changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout)
    finally:
        for event, handler in handlers.items():
            session.off(event, handler)
