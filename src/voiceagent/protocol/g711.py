"""G.711 u-law and A-law per ITU-T G.711 (the same tables as the retired stdlib ``audioop``).

Careful: bytes of ``0x00`` are silence in PCM16 but a constant (DC) level in G.711.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]

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
