"""Audio backends: the :class:`AudioBackend` Protocol and its implementations.

Heavy or optional backends (PortAudio via ``sounddevice``) import lazily, so that
``import voiceagent`` works on a machine without PortAudio.
"""

from __future__ import annotations

from .base import AudioBackend, AudioListener
from .format import AudioFormat

__all__ = ["AudioBackend", "AudioFormat", "AudioListener"]
