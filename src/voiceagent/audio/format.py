"""PCM formats and the codecs the service can use on the wire (G.711 u-law and A-law).

Audio backends only ever see 16-bit signed little-endian mono PCM at ``AudioFormat.sample_rate``;
the session converts to and from G.711 at the network edge with the functions here. These are
pure numpy so that the emulator can use them too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "OUTPUT_SAMPLE_RATES",
    "SAMPLE_WIDTH",
    "AudioFormat",
    "alaw_decode",
    "alaw_encode",
    "ulaw_decode",
    "ulaw_encode",
]

SAMPLE_WIDTH = 2
"""Bytes per sample of the PCM every backend handles (int16, little-endian)."""

OUTPUT_SAMPLE_RATES: dict[str, int] = {
    "pcm16": 24000,
    "pcm16_8000hz": 8000,
    "pcm16_16000hz": 16000,
    "g711_ulaw": 8000,
    "g711_alaw": 8000,
}
"""The service's ``output_audio_format`` -> the PCM rate a device plays it at (Hz)."""


@dataclass(frozen=True)
class AudioFormat:
    """What a backend plays and records: PCM16 little-endian mono at ``sample_rate`` Hz.

    Attributes:
        sample_rate: Frames per second (24000 by default, as the service's ``pcm16``).
        block_frames: Frames per device block; 480 frames is 20 ms at 24 kHz.
    """

    sample_rate: int = 24000
    block_frames: int = 480

    @property
    def bytes_per_frame(self) -> int:
        """Bytes per frame: one int16 sample, as audio is mono."""
        return SAMPLE_WIDTH

    @property
    def block_bytes(self) -> int:
        """Bytes per device block."""
        return self.block_frames * SAMPLE_WIDTH

    @property
    def block_ms(self) -> float:
        """Duration of one block in milliseconds."""
        return 1000.0 * self.block_frames / self.sample_rate

    def frames_to_ms(self, frames: int) -> int:
        """Convert a frame count to whole milliseconds (rounded down)."""
        return frames * 1000 // self.sample_rate

    def ms_to_frames(self, ms: float) -> int:
        """Convert milliseconds to a frame count (rounded down)."""
        return int(ms * self.sample_rate // 1000)


# G.711 per ITU-T G.711, the same tables as the retired stdlib audioop module.

_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159  # in the 14-bit domain the encoder works in
_ULAW_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def ulaw_encode(pcm: bytes) -> bytes:
    """Encode PCM16 little-endian samples to G.711 u-law (one byte per sample)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 2  # 14-bit domain
    mask = np.where(x < 0, 0x7F, 0xFF).astype(np.int32)
    mag = np.minimum(np.where(x < 0, -x, x), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = np.searchsorted(_ULAW_SEGMENT_ENDS, mag)
    code = np.where(segment > 7, 0x7F, (segment << 4) | ((mag >> (segment + 1)) & 0x0F))
    return bytes((code ^ mask).astype(np.uint8).tobytes())


def _ulaw_table() -> npt.NDArray[np.int16]:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    mag = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(sign != 0, -mag, mag).astype(np.int16)


def _alaw_table() -> npt.NDArray[np.int16]:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    mag = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    return np.where(sign != 0, mag, -mag).astype(np.int16)


_ULAW_DECODE = _ulaw_table()
_ALAW_DECODE = _alaw_table()


def ulaw_decode(data: bytes) -> bytes:
    """Decode G.711 u-law bytes to PCM16 little-endian."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return bytes(_ULAW_DECODE[codes].astype("<i2").tobytes())


def alaw_encode(pcm: bytes) -> bytes:
    """Encode PCM16 little-endian samples to G.711 A-law (one byte per sample)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 3  # 13-bit magnitude domain
    sign = np.where(x >= 0, 0x80, 0).astype(np.int32)
    mag = np.where(x < 0, -x - 1, x)
    mag = np.minimum(mag, 0xFFF)
    exponent = np.where(mag < 32, 0, np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 4)
    exponent = np.clip(exponent, 0, 7)
    mantissa = np.where(exponent == 0, mag >> 1, mag >> exponent) & 0x0F
    out = (sign | (exponent << 4) | mantissa) ^ 0x55
    return bytes(out.astype(np.uint8).tobytes())


def alaw_decode(data: bytes) -> bytes:
    """Decode G.711 A-law bytes to PCM16 little-endian."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return bytes(_ALAW_DECODE[codes].astype("<i2").tobytes())
