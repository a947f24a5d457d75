"""The proactive greeting: spoken once per conversation."""

from __future__ import annotations

from ..voicelive.wire import ConnectionLost, Wire

__all__ = ["LLM_GREETING", "LLM_GREETING_PROMPT", "Greeter"]

LLM_GREETING = "llm"
"""``greeting=`` value for a greeting the agent words itself."""

LLM_GREETING_PROMPT = "Say something to welcome the user."
"""The system message sent for ``greeting="llm"`` (the wording of the official samples)."""


class Greeter:
    """Greets once per conversation.

    Args:
        greeting: None, :data:`LLM_GREETING` or a text to speak verbatim.
        pending: Whether this conversation still needs its greeting (False when resuming one,
            unless the app asked for a greeting on resume).
    """

    def __init__(self, greeting: str | None, *, pending: bool) -> None:
        self.greeting = greeting
        self.pending = greeting is not None and pending

    async def greet(self, wire: Wire | None) -> None:
        """Send the greeting if it is still due; one lost to a drop stays due for the next."""
        if not self.pending or wire is None:
            return
        self.pending = False  # sent: never again, not after a reconnect either
        try:
            if self.greeting == LLM_GREETING:
                await wire.add_system_message(LLM_GREETING_PROMPT)
                await wire.create_response()
            elif self.greeting is not None:
                await wire.say(self.greeting)
        except ConnectionLost:
            self.pending = True  # never reached the service: the receive loop reconnects
