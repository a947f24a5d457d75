"""Conversion between the device's PCM and the service's wire formats.

The device side is always PCM16 mono at the session's output rate (``AudioFormat``). The wire
side is what ``SessionOptions`` asked the service for: ``pcm16`` at 8/16/24 kHz, or G.711
u-law/A-law at 8 kHz. Microphone audio is resampled (soxr, streaming, so block edges leave no
clicks) and encoded on the way out; assistant audio is decoded on the way in.

PCM16 at the session rate, the default, passes through untouched; numpy, soxr and the G.711
tables are imported only by a converter that needs them (``import voiceagent`` stays light).

A backend with a native wire format (:class:`~voiceagent.audio.base.NativeFormatBackend`, e.g. a
phone line in G.711 u-law) gets the service's bytes as they are, both ways: ``native=True``
makes both converters pass everything through (no decode, no resample, no encode).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ..protocol.formats import OUTPUT_SAMPLE_RATES, wire_bytes_per_sample

if TYPE_CHECKING:
    from .format import WireEncoding
    from .resample import Resampler

__all__ = ["InputEncoder", "OutputDecoder", "decode_pcm16", "wire_sample_rate"]


def decode_pcm16(data: bytes, encoding: WireEncoding) -> bytes:
    """Audio of ``encoding`` (an :class:`~voiceagent.audio.AudioFormat`'s) as PCM16 little-endian.

    For whoever looks at a native format backend's audio (a level meter, a recording): G.711
    u-law/A-law is decoded (one byte becomes one sample), PCM16 is returned as it is.

    Raises:
        ValueError: ``encoding`` is none of ``pcm16``, ``g711_ulaw``, ``g711_alaw``.
    """
    if encoding == "pcm16":
        return data
    if encoding == "g711_ulaw":
        from ..protocol.g711 import ulaw_decode

        return ulaw_decode(data)
    if encoding == "g711_alaw":
        from ..protocol.g711 import alaw_decode

        return alaw_decode(data)
    raise ValueError(f"unknown encoding {encoding!r}; expected pcm16, g711_ulaw or g711_alaw")


def wire_sample_rate(output_audio_format: str) -> int:
    """The PCM rate a device must play for a service ``output_audio_format``."""
    try:
        return OUTPUT_SAMPLE_RATES[output_audio_format]
    except KeyError:
        raise ValueError(
            f"unknown output_audio_format {output_audio_format!r}; "
            f"expected one of {sorted(OUTPUT_SAMPLE_RATES)}"
        ) from None


class OutputDecoder:
    """Service audio (``response.audio.delta`` bytes) to device PCM16."""

    def __init__(self, output_audio_format: str, *, native: bool = False) -> None:
        wire_sample_rate(output_audio_format)  # validates
        self.format = output_audio_format
        self.native = native
        """True: the backend plays the wire format itself; :meth:`decode` changes nothing."""
        self.bytes_per_sample = wire_bytes_per_sample(output_audio_format)
        """Bytes per sample on the wire (2 for PCM16, 1 for G.711)."""
        self.device_bytes_per_frame = self.bytes_per_sample if native else 2
        """Bytes per frame of what :meth:`decode` returns (what the backend plays)."""

    def decode(self, data: bytes) -> bytes:
        """Decode one delta."""
        if self.native or self.format not in ("g711_ulaw", "g711_alaw"):
            return data  # PCM16 at any rate is played as it comes
        return decode_pcm16(data, cast("WireEncoding", self.format))


class InputEncoder:
    """Device PCM16 microphone blocks to the service's ``input_audio_format``.

    Args:
        device_rate: Rate of the PCM the backend captures.
        input_audio_format: ``pcm16``, ``g711_ulaw`` or ``g711_alaw``.
        input_rate: The wire rate (``input_audio_sampling_rate``; 8000 for G.711).
        native: The backend captures the wire format itself (a native format backend):
            nothing is converted.
    """

    def __init__(
        self, device_rate: int, input_audio_format: str, input_rate: int, *, native: bool = False
    ) -> None:
        if input_audio_format not in ("pcm16", "g711_ulaw", "g711_alaw"):
            raise ValueError(f"unknown input_audio_format {input_audio_format!r}")
        if native and device_rate != input_rate:
            raise ValueError(
                f"a native format passes audio through: the device rate {device_rate} Hz must "
                f"be the wire rate {input_rate} Hz"
            )
        self.format = input_audio_format
        self.device_rate = device_rate
        self.input_rate = input_rate
        self._resampler: Resampler | None = None
        if device_rate != input_rate:
            from .resample import Resampler

            self._resampler = Resampler(device_rate, input_rate)
        self.passthrough = native or (self._resampler is None and input_audio_format == "pcm16")
        """True when :meth:`encode` returns its input unchanged (PCM16 at the device rate, or
        the backend's native format)."""

    def encode(self, pcm: bytes) -> bytes:
        """Encode one microphone block."""
        if self.passthrough:
            return pcm
        if self._resampler is not None:
            import numpy as np

            samples = np.frombuffer(pcm, dtype="<i2")
            pcm = self._resampler.process(samples).astype("<i2").tobytes()
        if self.format == "g711_ulaw":
            from ..protocol.g711 import ulaw_encode

            return ulaw_encode(pcm)
        if self.format == "g711_alaw":
            from ..protocol.g711 import alaw_encode

            return alaw_encode(pcm)
        return pcm
