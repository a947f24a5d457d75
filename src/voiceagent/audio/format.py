"""The audio format a backend plays and records.

Most backends see 16-bit signed little-endian mono PCM at ``AudioFormat.sample_rate``, and the
session converts to and from the service's wire formats (``voiceagent.protocol``) at the network
edge. A backend whose peer already speaks a format Voice Live takes (a phone line in G.711 u-law,
a browser at PCM16 24 kHz) declares it as its ``native_format`` (see
:class:`~voiceagent.audio.base.NativeFormatBackend`): the session then puts that format on the
wire and passes the audio through untouched, both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..protocol.formats import SAMPLE_WIDTH

__all__ = ["SAMPLE_WIDTH", "AudioFormat", "WireEncoding"]

WireEncoding = Literal["pcm16", "g711_ulaw", "g711_alaw"]
"""How a frame is encoded: PCM16 little-endian (2 bytes) or G.711 u-law/A-law (1 byte)."""

_NATIVE_RATES: dict[str, tuple[int, ...]] = {
    "pcm16": (8000, 16000, 24000),
    "g711_ulaw": (8000,),
    "g711_alaw": (8000,),
}
_PCM16_OUTPUT = {8000: "pcm16_8000hz", 16000: "pcm16_16000hz", 24000: "pcm16"}


@dataclass(frozen=True)
class AudioFormat:
    """What a backend plays and records: mono ``encoding`` at ``sample_rate`` Hz.

    Attributes:
        sample_rate: Frames per second (24000 by default, as the service's ``pcm16``).
        block_frames: Frames per device block; 480 frames is 20 ms at 24 kHz.
        encoding: ``"pcm16"`` (the default: what every local device uses) or, for a backend
            that passes a phone line through, ``"g711_ulaw"``/``"g711_alaw"`` (8 kHz, one byte
            per frame).
    """

    sample_rate: int = 24000
    block_frames: int = 480
    encoding: WireEncoding = "pcm16"

    @property
    def bytes_per_frame(self) -> int:
        """Bytes per frame: 2 for PCM16, 1 for G.711 (audio is mono)."""
        return SAMPLE_WIDTH if self.encoding == "pcm16" else 1

    @property
    def block_bytes(self) -> int:
        """Bytes per device block."""
        return self.block_frames * self.bytes_per_frame

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

    @classmethod
    def native(
        cls, encoding: WireEncoding, sample_rate: int, block_ms: float = 20.0
    ) -> AudioFormat:
        """A wire format Voice Live speaks natively, for a backend's ``native_format``.

        Raises:
            ValueError: The service has no such format (G.711 is 8 kHz only; PCM16 is 8, 16 or
                24 kHz for passthrough).
        """
        rates = _NATIVE_RATES.get(encoding)
        if rates is None or sample_rate not in rates:
            raise ValueError(
                f"Voice Live has no native {encoding} at {sample_rate} Hz; use one of "
                + ", ".join(f"{e} at {'/'.join(map(str, r))} Hz" for e, r in _NATIVE_RATES.items())
            )
        return cls(sample_rate, int(sample_rate * block_ms // 1000), encoding)

    @property
    def input_audio_format(self) -> str:
        """The ``input_audio_format`` the service must receive for this format."""
        return self.encoding

    @property
    def output_audio_format(self) -> str:
        """The ``output_audio_format`` the service must send for this format."""
        if self.encoding != "pcm16":
            return self.encoding
        try:
            return _PCM16_OUTPUT[self.sample_rate]
        except KeyError:
            return f"pcm16_{self.sample_rate}hz"
