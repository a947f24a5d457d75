"""Emulator-wide settings every connection reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .timing import Timing

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "SessionSettings"]

DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024
"""Largest client frame the emulator accepts (4 MiB, the SDK's own inbound limit); larger frames
get an ``error`` event and are otherwise ignored."""


@dataclass(frozen=True)
class SessionSettings:
    """Emulator-wide settings a connection needs.

    Attributes:
        realtime: Pace response audio at real time.
        speed: Pacing factor when ``realtime`` (2.0 = twice real time).
        chunk_ms: Audio per ``response.audio.delta``, in ms.
        ms_per_char: Speaking rate of the synthetic voice.
        agent_description: ``session.agent.description`` in agent modes.
        agent_id: ``session.agent.agent_id``; ``<name>:<version or 1>`` when ``None``.
        max_frame_bytes: Largest client frame accepted.
        record_events: Keep every event in ``received``/``sent`` (needed by ``wait_for_*``).
        always_transcribe: Send user transcripts even when the session did not configure
            ``input_audio_transcription`` (the service sends none then).
        timing: Think time, time to first audio and delivery jitter of responses.
        invocations_url: Voice an Invocations-protocol agent at this URL (``invocations.py``).
        voice: The assistant's voice: ``"auto"`` (espeak-ng when available, else the synthetic
            buzz), ``"espeak"`` or ``"synthetic"``.
        listen: Transcribe unscripted user speech with pocketsphinx: ``"auto"`` (when it is
            installed), ``"on"`` (required) or ``"off"``.
        ice_servers: What ``session.updated`` reports as ``avatar.ice_servers`` (the emulator's
            loopback STUN server once it started).
    """

    realtime: bool = True
    speed: float = 1.0
    chunk_ms: int = 100
    ms_per_char: float = 65.0
    agent_description: str = "An emulated Foundry agent."
    agent_id: str | None = None
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    record_events: bool = True
    always_transcribe: bool = False
    timing: Timing = Timing.IMMEDIATE
    invocations_url: str | None = None
    voice: str = "auto"
    listen: str = "auto"
    ice_servers: tuple[dict[str, Any], ...] = ()
