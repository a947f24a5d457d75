"""A local echo gate for speaker (not headphone) setups.

With loudspeakers the microphone hears the agent. The service's echo cancellation usually copes,
but a loud speaker close to the microphone can still make the agent interrupt itself. The gate
replaces microphone blocks with digital silence while the agent's audio is playing, unless the
microphone is clearly louder than the echo that playback can explain:

    pass  if  mic_dbfs > played_dbfs - echo_return_loss_db + margin_db  and  mic_dbfs > floor_dbfs

``played_dbfs`` is the loudest block played during the last ``hold_ms`` (the echo arrives late
through the device buffers and the room). Once the user's voice opens the gate it stays open for
``hold_ms`` so that quieter syllables of the same phrase are not chopped. When nothing has been
played for ``hold_ms`` the gate is open. It is a gate, not an echo canceller: while it is shut the
user cannot barge in quietly; headphones avoid the problem altogether.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

__all__ = ["EchoGate", "rms_dbfs"]

_SILENT_DBFS = -120.0


def rms_dbfs(samples: npt.NDArray[np.int16]) -> float:
    """RMS level of PCM16 samples in dB relative to full scale (-120 for digital silence)."""
    if len(samples) == 0:
        return _SILENT_DBFS
    x = samples.astype(np.float32)
    ms = float(np.dot(x, x)) / len(x)
    if ms <= 0.0:
        return _SILENT_DBFS
    return max(_SILENT_DBFS, 10.0 * math.log10(ms / (32768.0 * 32768.0)))


class EchoGate:
    """Mutes microphone blocks that are probably the agent's own voice.

    Args:
        echo_return_loss_db: How much quieter the echo is at the microphone than the played
            signal (dB). 12 dB suits a laptop; lower it for a loud speaker next to the mic.
        margin_db: How far above the expected echo the user's voice must be to pass (dB).
        floor_dbfs: Below this level a block never opens the gate while the agent plays.
        hold_ms: How long played audio keeps counting as "playing", and how long an open gate
            stays open after the last loud block (ms).
        block_ms: Duration of one block (ms), to convert ``hold_ms`` to blocks.
    """

    def __init__(
        self,
        *,
        echo_return_loss_db: float = 12.0,
        margin_db: float = 6.0,
        floor_dbfs: float = -50.0,
        hold_ms: float = 300.0,
        block_ms: float = 20.0,
    ) -> None:
        self.echo_return_loss_db = echo_return_loss_db
        self.margin_db = margin_db
        self.floor_dbfs = floor_dbfs
        self.hold_ms = hold_ms
        self._hold_blocks = 1
        self._played: deque[float] = deque()
        self._open_for = 0
        self.reset(block_ms)
        self.blocks_muted = 0
        """Microphone blocks replaced by silence so far."""
        self.blocks_passed = 0
        """Microphone blocks passed while the agent was playing."""

    def reset(self, block_ms: float) -> None:
        """Forget the history and set the block duration (ms); backends call it on start."""
        self._hold_blocks = max(1, round(self.hold_ms / block_ms))
        self._played = deque(maxlen=self._hold_blocks)
        self._open_for = 0

    def process(self, mic: npt.NDArray[np.int16], played_dbfs: float) -> npt.NDArray[np.int16]:
        """Gate one microphone block.

        Args:
            mic: The microphone block (PCM16 mono).
            played_dbfs: Level of the block played at the same time (``rms_dbfs``; -120 when
                nothing was playing).

        Returns:
            ``mic`` itself, or an array of zeros of the same length when muted.
        """
        self._played.append(played_dbfs)
        loudest = max(self._played)
        if loudest <= _SILENT_DBFS:
            self._open_for = 0
            return mic
        level = rms_dbfs(mic)
        threshold = loudest - self.echo_return_loss_db + self.margin_db
        if level > threshold and level > self.floor_dbfs:
            self._open_for = self._hold_blocks
        if self._open_for > 0:
            self._open_for -= 1
            self.blocks_passed += 1
            return mic
        self.blocks_muted += 1
        return np.zeros_like(mic)
