"""voiceagent: embed a barge-in-capable voice agent backed by Azure AI Voice Live.

The public surface is this module's ``__all__``. Every name is imported on first use (PEP 562),
so ``import voiceagent`` is cheap and ``import voiceagent.emulator`` loads neither the client
(SDK, soxr) nor PortAudio. The PortAudio backend (``SoundDeviceAudio``, ``list_devices``) needs
``libportaudio2`` only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import logcontext as _logcontext

# Every log record gets ``session_id`` ("-" outside a session), so ``%(session_id)s`` works in
# any format from the first import on (the emulator's and the SDK's records included).
_logcontext.install_record_factory()

if TYPE_CHECKING:
    from .audio import AudioBackend, AudioFormat, AudioListener
    from .audio.base import AcknowledgedFlush, NativeFormatBackend, PausableOutput, ReportsStats
    from .audio.clock import BlockClock, OutputBlock, PacedOutput
    from .audio.devices import list_devices
    from .audio.memory import MemoryAudio
    from .audio.null import NullAudio
    from .audio.sounddevice_backend import SoundDeviceAudio
    from .audio.wav import WavAudio
    from .config import (
        AgentConfig,
        AzureCustomVoiceConfig,
        AzurePersonalVoiceConfig,
        AzureStandardVoiceConfig,
        ClassicAgentConfig,
        ConnectionConfig,
        EndOfUtteranceDetection,
        FunctionTool,
        InputTranscription,
        LlmInterimResponse,
        OpenAIVoiceConfig,
        ReconnectPolicy,
        SessionOptions,
        StaticInterimResponse,
        TurnDetection,
    )
    from .conversation import ConversationLog, SessionInfo, Turn
    from .errors import (
        AudioError,
        ConfigError,
        ConnectError,
        SessionClosedError,
        SessionError,
        VoiceAgentError,
    )
    from .events import (
        AgentInfo,
        BargeIn,
        HandlerFailed,
        PlaybackFinished,
        ProtocolViolation,
        Reconnected,
        Reconnecting,
        SessionClosed,
        SessionReady,
        ToolCallFinished,
        TurnLogged,
        TurnMetrics,
    )
    from .session import SessionState, VoiceAgentSession
    from .session.bargein import BargeInPolicy
    from .session.factory import SessionFactory
    from .tools import Tool, function_tool

__version__ = "0.1.0"

__all__ = [
    "AcknowledgedFlush",
    "AgentConfig",
    "AgentInfo",
    "AudioBackend",
    "AudioError",
    "AudioFormat",
    "AudioListener",
    "AzureCustomVoiceConfig",
    "AzurePersonalVoiceConfig",
    "AzureStandardVoiceConfig",
    "BargeIn",
    "BargeInPolicy",
    "BlockClock",
    "ClassicAgentConfig",
    "ConfigError",
    "ConnectError",
    "ConnectionConfig",
    "ConversationLog",
    "EndOfUtteranceDetection",
    "FunctionTool",
    "HandlerFailed",
    "InputTranscription",
    "LlmInterimResponse",
    "MemoryAudio",
    "NativeFormatBackend",
    "NullAudio",
    "OpenAIVoiceConfig",
    "OutputBlock",
    "PacedOutput",
    "PausableOutput",
    "PlaybackFinished",
    "ProtocolViolation",
    "ReconnectPolicy",
    "Reconnected",
    "Reconnecting",
    "ReportsStats",
    "SessionClosed",
    "SessionClosedError",
    "SessionError",
    "SessionFactory",
    "SessionInfo",
    "SessionOptions",
    "SessionReady",
    "SessionState",
    "SoundDeviceAudio",
    "StaticInterimResponse",
    "Tool",
    "ToolCallFinished",
    "Turn",
    "TurnDetection",
    "TurnLogged",
    "TurnMetrics",
    "VoiceAgentError",
    "VoiceAgentSession",
    "WavAudio",
    "function_tool",
    "list_devices",
]

_WHERE: dict[str, str] = {
    "AudioBackend": "audio",
    "AudioFormat": "audio",
    "AudioListener": "audio",
    "AcknowledgedFlush": "audio.base",
    "NativeFormatBackend": "audio.base",
    "PausableOutput": "audio.base",
    "ReportsStats": "audio.base",
    "BlockClock": "audio.clock",
    "OutputBlock": "audio.clock",
    "PacedOutput": "audio.clock",
    "MemoryAudio": "audio.memory",
    "NullAudio": "audio.null",
    "WavAudio": "audio.wav",
    "SoundDeviceAudio": "audio.sounddevice_backend",
    "list_devices": "audio.devices",
    "BargeInPolicy": "session.bargein",
    "SessionFactory": "session.factory",
    "AgentConfig": "config",
    "AzureCustomVoiceConfig": "config",
    "AzurePersonalVoiceConfig": "config",
    "AzureStandardVoiceConfig": "config",
    "ClassicAgentConfig": "config",
    "ConnectionConfig": "config",
    "EndOfUtteranceDetection": "config",
    "FunctionTool": "config",
    "InputTranscription": "config",
    "LlmInterimResponse": "config",
    "OpenAIVoiceConfig": "config",
    "ReconnectPolicy": "config",
    "SessionOptions": "config",
    "StaticInterimResponse": "config",
    "TurnDetection": "config",
    "AudioError": "errors",
    "ConfigError": "errors",
    "ConnectError": "errors",
    "SessionClosedError": "errors",
    "SessionError": "errors",
    "VoiceAgentError": "errors",
    "AgentInfo": "events",
    "BargeIn": "events",
    "HandlerFailed": "events",
    "PlaybackFinished": "events",
    "ProtocolViolation": "events",
    "Reconnected": "events",
    "Reconnecting": "events",
    "SessionClosed": "events",
    "SessionReady": "events",
    "TurnLogged": "events",
    "ToolCallFinished": "events",
    "TurnMetrics": "events",
    "Tool": "tools",
    "function_tool": "tools",
    "SessionState": "session",
    "VoiceAgentSession": "session",
    "ConversationLog": "conversation",
    "SessionInfo": "conversation",
    "Turn": "conversation",
}
"""Public name -> the module (below this package) that defines it."""


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'voiceagent' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
