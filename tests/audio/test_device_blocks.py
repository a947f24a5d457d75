"""Device blocks of 10 ms by default; the session still gets 20 ms blocks, one hand-over each."""

from __future__ import annotations

import pytest

from conftest import Recorder
from voiceagent.audio import AudioFormat
from voiceagent.audio.sounddevice_backend import SoundDeviceAudio
from voiceagent.audio.streams import default_block

pytestmark = pytest.mark.device


def test_default_block_is_10_ms_when_the_session_block_is_two_of_them() -> None:
    assert default_block(24000, 480) == 240
    assert default_block(16000, 320) == 160
    assert default_block(24000, 240) == 240  # already 10 ms
    assert default_block(44100, 882) == 441
    assert default_block(24000, 600) == 600  # 25 ms: not two 10 ms blocks


@pytest.mark.parametrize("block_frames", [None, 480, 120])
async def test_listener_gets_whole_session_blocks_once_each(
    virtual_card, recorder: Recorder, block_frames: int | None
) -> None:
    audio = SoundDeviceAudio(block_frames=block_frames)
    await audio.start(AudioFormat(), recorder)
    try:
        await recorder.wait_until(lambda: len(recorder.blocks) >= 40)
        blocks, callbacks = len(recorder.blocks), audio.stats.input_blocks
    finally:
        await audio.stop()
    assert all(len(b) == 960 for b in recorder.blocks)  # 20 ms, whatever the device block
    per_block = 480 // (block_frames or 240)
    assert abs(callbacks - per_block * blocks) <= per_block  # the device ran its own blocks
