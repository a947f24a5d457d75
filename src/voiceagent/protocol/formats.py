"""Audio formats and rates the service accepts on the wire."""

from __future__ import annotations

from typing import Literal

__all__ = [
    "INPUT_FORMATS",
    "INPUT_SAMPLE_RATES",
    "OUTPUT_FORMATS",
    "OUTPUT_SAMPLE_RATES",
    "SAMPLE_WIDTH",
    "Encoding",
    "wire_bytes_per_sample",
]

Encoding = Literal["pcm16", "ulaw", "alaw"]

SAMPLE_WIDTH = 2
"""Bytes per PCM16 sample (int16, little-endian)."""

OUTPUT_FORMATS: dict[str, tuple[int, Encoding]] = {
    "pcm16": (24000, "pcm16"),
    "pcm16_8000hz": (8000, "pcm16"),
    "pcm16_16000hz": (16000, "pcm16"),
    "pcm16_22050hz": (22050, "pcm16"),
    "pcm16_24000hz": (24000, "pcm16"),
    "pcm16_44100hz": (44100, "pcm16"),
    "pcm16_48000hz": (48000, "pcm16"),
    "g711_ulaw": (8000, "ulaw"),
    "g711_alaw": (8000, "alaw"),
}
"""``output_audio_format`` -> (sample rate in Hz, encoding). The service echoes the exact string
in ``session.updated`` and speaks at that rate."""

OUTPUT_SAMPLE_RATES: dict[str, int] = {name: rate for name, (rate, _) in OUTPUT_FORMATS.items()}
"""``output_audio_format`` -> the PCM rate a device plays it at (Hz)."""

INPUT_FORMATS: tuple[str, ...] = ("pcm16", "g711_ulaw", "g711_alaw")
"""``input_audio_format`` values."""

INPUT_SAMPLE_RATES: dict[str, tuple[int, ...]] = {
    "pcm16": (8000, 16000, 24000, 44100),
    "g711_ulaw": (8000,),
    "g711_alaw": (8000,),
}
"""``input_audio_format`` -> the ``input_audio_sampling_rate`` values it accepts (Hz). 44100 is
missing from the SDK's docstring, but Microsoft's live tests use it and expect it echoed."""


def wire_bytes_per_sample(output_audio_format: str) -> int:
    """Bytes per sample on the wire: 2 for PCM16, 1 for G.711."""
    return SAMPLE_WIDTH if OUTPUT_FORMATS[output_audio_format][1] == "pcm16" else 1
