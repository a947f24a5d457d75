from __future__ import annotations

import numpy as np

from conftest import tone
from voiceagent.audio.echo_gate import EchoGate, rms_dbfs


def blocks(x: np.ndarray, n: int = 480) -> list[np.ndarray]:
    return [x[i : i + n] for i in range(0, len(x) - n + 1, n)]


def test_rms_dbfs() -> None:
    assert rms_dbfs(np.zeros(480, dtype=np.int16)) == -120.0
    full = np.full(480, 32767, dtype=np.int16)
    assert abs(rms_dbfs(full)) < 0.01
    assert abs(rms_dbfs(tone(440, 0.1, amp=3276.8)) - (-23.0)) < 0.1  # sine: -3 dB of peak


def test_gate_mutes_echo_and_passes_loud_user_speech() -> None:
    gate = EchoGate()
    played = tone(300, 1.0, amp=8000)  # about -15 dBFS
    echo = (played // 10).astype(np.int16)  # 20 dB echo return loss
    user = tone(700, 0.4, amp=12000)
    played_levels = [rms_dbfs(b) for b in blocks(played)]
    out = [gate.process(b, lvl) for b, lvl in zip(blocks(echo), played_levels, strict=True)]
    assert not np.concatenate(out).any()  # echo fully muted
    out = [gate.process(b, played_levels[0]) for b in blocks(user)]
    assert all(np.array_equal(o, b) for o, b in zip(out, blocks(user), strict=True))  # barge-in
    assert gate.blocks_muted == len(played_levels) and gate.blocks_passed == len(out)


def test_gate_is_open_when_nothing_plays_and_holds_after_playback() -> None:
    gate = EchoGate(hold_ms=100, block_ms=20)
    quiet = tone(500, 0.02, amp=100)
    assert gate.process(quiet, -120.0) is quiet
    assert not gate.process(quiet, -15.0).any()
    for _ in range(4):  # played level still remembered for hold_ms (echo arrives late)
        assert not gate.process(quiet, -120.0).any()
    assert gate.process(quiet, -120.0) is quiet
