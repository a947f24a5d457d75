"""Audio backends: the :class:`AudioBackend` Protocol and its implementations.

Only the contract (:mod:`.base`, :mod:`.format`) is imported eagerly. Every backend imports on
first use (PEP 562), so that ``import voiceagent`` loads neither numpy nor soxr nor PortAudio,
and works on a machine without PortAudio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    AcknowledgedFlush,
    AudioBackend,
    AudioListener,
    NativeFormatBackend,
    PausableOutput,
    ReadyAwareListener,
    ReportsStats,
    native_format_of,
    wait_until_ready,
)
from .format import AudioFormat

if TYPE_CHECKING:
    from .clock import BlockClock, OutputBlock, PacedOutput
    from .codec import decode_pcm16
    from .devices import DeviceInfo, list_devices
    from .echo_gate import EchoGate
    from .local_vad import LocalInterruption, SileroVad, VoiceDetector
    from .null import NullAudio
    from .sounddevice_backend import AudioStats, SoundDeviceAudio
    from .wav import WavAudio

__all__ = [
    "AcknowledgedFlush",
    "AudioBackend",
    "AudioFormat",
    "AudioListener",
    "AudioStats",
    "BlockClock",
    "DeviceInfo",
    "EchoGate",
    "LocalInterruption",
    "NativeFormatBackend",
    "NullAudio",
    "OutputBlock",
    "PacedOutput",
    "PausableOutput",
    "ReadyAwareListener",
    "ReportsStats",
    "SileroVad",
    "SoundDeviceAudio",
    "VoiceDetector",
    "WavAudio",
    "decode_pcm16",
    "list_devices",
    "native_format_of",
    "wait_until_ready",
]

_LAZY = {
    "BlockClock": "clock",
    "OutputBlock": "clock",
    "PacedOutput": "clock",
    "decode_pcm16": "codec",
    "EchoGate": "echo_gate",
    "LocalInterruption": "local_vad",
    "SileroVad": "local_vad",
    "VoiceDetector": "local_vad",
    "NullAudio": "null",
    "WavAudio": "wav",
    "AudioStats": "sounddevice_backend",
    "SoundDeviceAudio": "sounddevice_backend",
    "DeviceInfo": "devices",
    "list_devices": "devices",
}


def __getattr__(name: str) -> Any:
    # numpy/soxr load with the first backend used. These modules do not import sounddevice at
    # import time either; PortAudio is only loaded by SoundDeviceAudio.start() / list_devices(),
    # which raise AudioError with an install hint.
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
