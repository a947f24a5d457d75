"""Sample-rate conversion with soxr (libsoxr), for devices and files not at the session rate.

``soxr`` is a maintained, high-quality resampler; numpy interpolation would alias audibly.
Streaming conversion keeps filter state between chunks, so a stream cut into blocks converts
exactly like the whole signal (no clicks at block edges).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr

__all__ = ["Resampler", "resample"]

Int16Array = npt.NDArray[np.int16]


def resample(samples: Int16Array, from_rate: int, to_rate: int) -> Int16Array:
    """Convert a whole PCM16 mono signal from ``from_rate`` to ``to_rate`` Hz (one shot)."""
    if from_rate == to_rate or len(samples) == 0:
        return samples
    out = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(out, dtype=np.int16)


class Resampler:
    """Streaming PCM16 mono conversion between two rates.

    soxr holds back a few milliseconds of output (its filter delay); :meth:`finish` returns that
    tail at the end of a stream and makes the object ready for a new, unrelated stream.

    Args:
        from_rate: Input rate in Hz.
        to_rate: Output rate in Hz.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16", quality="HQ")
        self._dirty = False

    def process(self, samples: Int16Array) -> Int16Array:
        """Convert the next chunk; may return fewer frames than the rate ratio (filter delay)."""
        if len(samples) == 0:
            return np.zeros(0, dtype=np.int16)
        self._dirty = True
        return np.ascontiguousarray(self._stream.resample_chunk(samples), dtype=np.int16)

    def finish(self) -> Int16Array:
        """Return the held-back tail of the current stream and reset for the next one."""
        if not self._dirty:
            return np.zeros(0, dtype=np.int16)
        tail = self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
        self.reset()
        return np.ascontiguousarray(tail, dtype=np.int16)

    def reset(self) -> None:
        """Forget the current stream (its held-back tail is discarded)."""
        self._stream.clear()
        self._dirty = False
