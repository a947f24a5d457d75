"""voiceagent: embed a barge-in-capable voice agent backed by Azure AI Voice Live."""

from __future__ import annotations

from .errors import (
    AudioError,
    ConfigError,
    ConnectError,
    HandlerError,
    SessionClosedError,
    VoiceAgentError,
)

__all__ = [
    "AudioError",
    "ConfigError",
    "ConnectError",
    "HandlerError",
    "SessionClosedError",
    "VoiceAgentError",
]
