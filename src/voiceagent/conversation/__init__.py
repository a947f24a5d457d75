"""The conversation as the user heard it: session records and turns, in memory and on disk."""

from .log import ConversationLog, SessionInfo, Turn

__all__ = ["ConversationLog", "SessionInfo", "Turn"]
