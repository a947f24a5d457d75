"""A local emulator of Azure AI Voice Live, for tests and offline development.

It speaks the Voice Live WebSocket protocol well enough for the unmodified
``azure.ai.voicelive.aio.connect()`` to hold a whole voice conversation with it. See
``docs/emulator.md``.
"""

from __future__ import annotations

from .conversations import Conversation
from .faults import DEFAULT_GARBAGE_FRAMES, Faults
from .listening import FILLER_WORDS, SpeechUnavailableError, is_filler_only
from .response import ResponseRecord
from .script import UNSCRIPTED_TRANSCRIPT, AgentScript, FunctionCall, Reply, ScriptContext
from .server import Emulator
from .session import EmulatedSession
from .timing import Timing

__all__ = [
    "DEFAULT_GARBAGE_FRAMES",
    "FILLER_WORDS",
    "UNSCRIPTED_TRANSCRIPT",
    "AgentScript",
    "Conversation",
    "EmulatedSession",
    "Emulator",
    "Faults",
    "FunctionCall",
    "Reply",
    "ResponseRecord",
    "ScriptContext",
    "SpeechUnavailableError",
    "Timing",
    "is_filler_only",
    "main",
]


def main(argv: list[str] | None = None) -> int:
    """Run the emulator from the command line (``python -m voiceagent.emulator``)."""
    from .cli import main as cli_main

    return cli_main(argv)
