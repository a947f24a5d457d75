"""voiceagent: embed a barge-in-capable voice agent backed by Azure AI Voice Live.

The public surface is this module's ``__all__``. Optional parts import lazily: the PortAudio
backend (``SoundDeviceAudio``, ``list_devices``) needs ``libportaudio2`` only when used, and the
emulator lives in :mod:`voiceagent.emulator`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .audio import AudioBackend, AudioFormat, AudioListener
from .audio.memory import MemoryAudio
from .audio.null import NullAudio
from .audio.wav import WavAudio
from .bargein import BargeInPolicy
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
from .errors import (
    AudioError,
    ConfigError,
    ConnectError,
    HandlerError,
    SessionClosedError,
    VoiceAgentError,
)
from .events import (
    AgentInfo,
    BargeIn,
    HandlerFailed,
    PlaybackFinished,
    Reconnected,
    Reconnecting,
    SessionClosed,
    SessionReady,
    TurnLogged,
)
from .session import SessionState, VoiceAgentSession
from .transcript import ConversationLog, SessionInfo, Turn

if TYPE_CHECKING:
    from .audio.devices import list_devices
    from .audio.sounddevice_backend import SoundDeviceAudio

__version__ = "0.1.0"

__all__ = [
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
    "ClassicAgentConfig",
    "ConfigError",
    "ConnectError",
    "ConnectionConfig",
    "ConversationLog",
    "EndOfUtteranceDetection",
    "FunctionTool",
    "HandlerError",
    "HandlerFailed",
    "InputTranscription",
    "LlmInterimResponse",
    "MemoryAudio",
    "NullAudio",
    "OpenAIVoiceConfig",
    "PlaybackFinished",
    "ReconnectPolicy",
    "Reconnected",
    "Reconnecting",
    "SessionClosed",
    "SessionClosedError",
    "SessionInfo",
    "SessionOptions",
    "SessionReady",
    "SessionState",
    "SoundDeviceAudio",
    "StaticInterimResponse",
    "Turn",
    "TurnDetection",
    "TurnLogged",
    "VoiceAgentError",
    "VoiceAgentSession",
    "WavAudio",
    "list_devices",
]


def __getattr__(name: str) -> Any:
    # PortAudio is loaded only when the device backend is asked for.
    if name == "SoundDeviceAudio":
        from .audio.sounddevice_backend import SoundDeviceAudio

        return SoundDeviceAudio
    if name == "list_devices":
        from .audio.devices import list_devices

        return list_devices
    raise AttributeError(f"module 'voiceagent' has no attribute {name!r}")
