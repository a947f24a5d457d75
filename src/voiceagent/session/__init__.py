"""The voice session: :class:`VoiceAgentSession` and the parts only it drives."""

from .bargein import BargeInPolicy
from .lifecycle import SessionState
from .session import LLM_GREETING_PROMPT, VoiceAgentSession

__all__ = ["LLM_GREETING_PROMPT", "BargeInPolicy", "SessionState", "VoiceAgentSession"]
