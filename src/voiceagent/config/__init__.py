"""Configuration as data: who to talk to (agent or model), how to connect, how the session sounds.

Every model here is a frozen pydantic model that rejects unknown fields. Invalid values raise
:class:`~voiceagent.errors.ConfigError` (a ``ValueError``) whose message names the field, says
what is wrong and how to fix it, and never quotes a secret. Nothing here does I/O or imports the
SDK: the environment is read only by the ``from_env()`` constructors and
:func:`resolve_connection`, and the conversion to SDK models lives at the SDK edge
(:mod:`voiceagent.voicelive.requests`).

One subject per module: :mod:`.agent` (who), :mod:`.connection` (where and how to connect),
:mod:`.voice` (voices and the voice rule), :mod:`.input` (turn detection, transcription),
:mod:`.interim` (interim responses), :mod:`.tools` (function tools), :mod:`.session`
(:class:`SessionOptions`). See ``docs/configuration.md`` for every field, the environment
variables and the voice rule.
"""

from __future__ import annotations

from .agent import AgentConfig, ClassicAgentConfig
from .avatar import AvatarOptions, AvatarVideo, parse_avatar
from .connection import (
    AI_FOUNDRY_SCOPE,
    DEFAULT_API_VERSION,
    ML_SCOPE,
    ConnectionConfig,
    ReconnectPolicy,
    resolve_connection,
)
from .input import EndOfUtteranceDetection, InputTranscription, TurnDetection
from .interim import InterimResponse, LlmInterimResponse, StaticInterimResponse
from .session import SessionOptions
from .tools import FunctionTool
from .voice import (
    AZURE_NEURAL_VOICE_PATTERN,
    OPENAI_VOICE_NAMES,
    AzureCustomVoiceConfig,
    AzurePersonalVoiceConfig,
    AzureStandardVoiceConfig,
    OpenAIVoiceConfig,
    TypedVoice,
    VoiceConfig,
    resolve_voice,
)

__all__ = [
    "AI_FOUNDRY_SCOPE",
    "AZURE_NEURAL_VOICE_PATTERN",
    "DEFAULT_API_VERSION",
    "ML_SCOPE",
    "OPENAI_VOICE_NAMES",
    "AgentConfig",
    "AvatarOptions",
    "AvatarVideo",
    "AzureCustomVoiceConfig",
    "AzurePersonalVoiceConfig",
    "AzureStandardVoiceConfig",
    "ClassicAgentConfig",
    "ConnectionConfig",
    "EndOfUtteranceDetection",
    "FunctionTool",
    "InputTranscription",
    "InterimResponse",
    "LlmInterimResponse",
    "OpenAIVoiceConfig",
    "ReconnectPolicy",
    "SessionOptions",
    "StaticInterimResponse",
    "TurnDetection",
    "TypedVoice",
    "VoiceConfig",
    "parse_avatar",
    "resolve_connection",
    "resolve_voice",
]
