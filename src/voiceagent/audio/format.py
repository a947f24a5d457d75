"""The PCM format every audio backend plays and records.

Audio backends only ever see 16-bit signed little-endian mono PCM at ``AudioFormat.sample_rate``;
the session converts to and from the wire formats (``voiceagent.protocol``) at the network edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol.formats import SAMPLE_WIDTH

__all__ = ["SAMPLE_WIDTH", "AudioFormat"]


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
