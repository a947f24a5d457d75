"""Audio backends: the :class:`AudioBackend` Protocol and its implementations.

Heavy or optional backends (PortAudio via ``sounddevice``) import lazily, so that
``import voiceagent`` works on a machine without PortAudio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import AudioBackend, AudioListener, ReadyAwareListener
from .echo_gate import EchoGate
from .format import AudioFormat
from .null import NullAudio
from .wav import WavAudio

if TYPE_CHECKING:
    from .devices import DeviceInfo, list_devices
    from .sounddevice_backend import AudioStats, SoundDeviceAudio

__all__ = [
    "AudioBackend",
    "AudioFormat",
    "AudioListener",
    "AudioStats",
    "DeviceInfo",
    "EchoGate",
    "NullAudio",
    "ReadyAwareListener",
    "SoundDeviceAudio",
    "WavAudio",
    "list_devices",
]

_LAZY = {
    "AudioStats": "sounddevice_backend",
    "SoundDeviceAudio": "sounddevice_backend",
    "DeviceInfo": "devices",
    "list_devices": "devices",
}


def __getattr__(name: str) -> Any:
    # These modules do not import sounddevice at import time either; PortAudio is only loaded
    # by SoundDeviceAudio.start() / list_devices(), which raise AudioError with an install hint.
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
