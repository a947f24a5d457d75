"""The session starts the audio before it connects: errors come first, and waiting is harmless.

Contract (``voiceagent.audio.base``): ``start`` may precede the first ``play`` by any time; device
problems fail in ``start``; backends with a scripted microphone wait for a ready-aware listener.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from audio_device import SPEAKER_NAME
from conftest import NO_DEVICE_CARD, NO_INPUT_CARD, Recorder, find, read_wav, tone
from voiceagent.audio import AudioFormat, NullAudio, ReadyAwareListener, WavAudio
from voiceagent.audio.devices import list_devices, resolve_device
from voiceagent.audio.sounddevice_backend import SoundDeviceAudio
from voiceagent.errors import AudioError

FMT = AudioFormat()


class ReadyRecorder(Recorder):
    """A recorder that, like the session's listener, is ready only once "connected"."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = asyncio.Event()

    async def wait_ready(self) -> None:
        await self.ready.wait()


async def spin(iterations: int = 200) -> None:
    """Let every ready task run many times (no wall-clock wait involved)."""
    for _ in range(iterations):
        await asyncio.sleep(0)


# --------------------------------------------------------------------------- file and memory


async def test_wav_input_waits_until_the_session_is_ready(tmp_path: Path) -> None:
    speech = tone(300, 0.5)
    path = tmp_path / "q.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(24000)
        w.writeframes(speech.tobytes())
    rec = ReadyRecorder()
    assert isinstance(rec, ReadyAwareListener)
    audio = WavAudio(input_path=path, realtime=False, after_input="end", pad_ms=0)
    await audio.start(FMT, rec)
    try:
        await spin()  # fast mode would send the whole file in 25 iterations
        assert rec.blocks == []
        rec.ready.set()  # connected
        await asyncio.wait_for(audio.wait_input_done(), 10)
    finally:
        await audio.stop()
    assert np.array_equal(rec.mic()[: len(speech)], speech)  # from its first sample


async def test_a_plain_listener_starts_the_clock_at_once(tmp_path: Path) -> None:
    # Without wait_ready (a test's own listener), the clock starts with start(), as before.
    audio = NullAudio(realtime=True)
    rec = Recorder()
    await audio.start(FMT, rec)
    try:
        audio.play("a", tone(440, 0.1).tobytes())
        await rec.wait_until(lambda: rec.idle == 1)
    finally:
        await audio.stop()


async def test_wav_output_after_a_long_wait(tmp_path: Path) -> None:
    out_path = tmp_path / "out.wav"
    rec = ReadyRecorder()
    rec.ready.set()
    audio = WavAudio(output_path=out_path, realtime=True)
    await audio.start(FMT, rec)
    reply = tone(440, 0.2)
    try:
        await rec.wait_until(lambda: audio.frames_written >= 25 * 480)  # 0.5 s of connecting
        audio.play("r1", reply.tobytes())
        await rec.wait_until(lambda: rec.idle >= 1)
    finally:
        await audio.stop()
    heard, _ = read_wav(out_path)
    at = find(heard, reply)
    assert at >= 25 * 480 and not heard[:at].any()
    assert audio.played_frames("r1") == len(reply)


async def test_stop_while_waiting_for_ready_does_not_hang(tmp_path: Path) -> None:
    audio = NullAudio(realtime=True)
    await audio.start(FMT, ReadyRecorder())  # the connection then fails: never ready
    await asyncio.wait_for(audio.stop(), 5)


# --------------------------------------------------------------------------- PortAudio


@pytest.mark.device
async def test_device_plays_after_a_long_wait(virtual_card, recorder: Recorder) -> None:
    audio = SoundDeviceAudio()
    await audio.start(FMT, recorder)
    signal = tone(440, 0.5)
    try:
        # A second of "connecting": the microphone runs (the session drops these blocks).
        await recorder.wait_until(lambda: len(recorder.blocks) >= 50)
        assert not audio.is_playing and audio.stats.played_frames == 0
        for i in range(0, len(signal), 2400):
            audio.play("item1", signal[i : i + 2400].tobytes())
        await recorder.wait_until(lambda: recorder.idle >= 1)
    finally:
        await audio.stop()
    assert audio.played_frames("item1") == len(signal)
    out = virtual_card.output()
    at = find(out, signal)
    assert at >= 50 * 480 and not out[:at].any()
    assert audio.stats.underruns == 0


@pytest.mark.device
async def test_device_index_as_a_string(virtual_card, recorder: Recorder) -> None:
    index = {d.name: d.index for d in list_devices()}
    assert resolve_device(str(index["default"]), "input").name == "default"
    assert resolve_device(f" {index[SPEAKER_NAME]} ", "output").name == SPEAKER_NAME
    audio = SoundDeviceAudio(input_device=str(index["default"]), output_device="0")
    await audio.start(FMT, recorder)
    try:
        assert audio.output_info is not None and audio.output_info.index == 0
        signal = tone(440, 0.2)
        audio.play("a", signal.tobytes())
        await recorder.wait_until(lambda: recorder.idle >= 1)
    finally:
        await audio.stop()
    assert find(virtual_card.output(), signal) >= 0


@pytest.mark.device
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"input_device": "99"}, ["no audio device with index 99", "'default'", "input_device="]),
        ({"input_device": "-speaker"}, ["no input device matches '-speaker'", "'default'"]),
        ({"input_device": SPEAKER_NAME}, ["no input device matches", SPEAKER_NAME]),
    ],
)
async def test_bad_device_fails_in_start_naming_it(virtual_card, recorder, kwargs, words) -> None:
    audio = SoundDeviceAudio(**kwargs)
    with pytest.raises(AudioError) as err:
        await audio.start(FMT, recorder)
    for word in words:
        assert word in str(err.value)
    assert recorder.blocks == []
    await audio.stop()


@pytest.mark.device
async def test_index_without_input_channels(virtual_card, recorder) -> None:
    index = {d.name: d.index for d in list_devices()}
    audio = SoundDeviceAudio(input_device=str(index[SPEAKER_NAME]))
    with pytest.raises(AudioError) as err:
        await audio.start(FMT, recorder)
    assert f"{index[SPEAKER_NAME]}: '{SPEAKER_NAME}'" in str(err.value)
    assert "has no input channels" in str(err.value)


@pytest.mark.device
async def test_no_microphone_at_all(alsa_config: Callable[[str], None], recorder) -> None:
    alsa_config(NO_INPUT_CARD)
    audio = SoundDeviceAudio()
    with pytest.raises(AudioError) as err:
        await audio.start(FMT, recorder)
    message = str(err.value)
    assert "no input device found: there is no microphone" in message
    assert "'default' (ALSA, 0 in, 128 out)" in message  # what exists
    assert "None has input channels" in message and "WavAudio or NullAudio" in message
    await audio.stop()


@pytest.mark.device
async def test_no_audio_devices_at_all(alsa_config: Callable[[str], None], recorder) -> None:
    alsa_config(NO_DEVICE_CARD)
    assert list_devices() == []
    for kwargs in ({}, {"input_device": "USB"}, {"output_device": "2"}):
        audio = SoundDeviceAudio(**kwargs)
        with pytest.raises(AudioError) as err:
            await audio.start(FMT, recorder)
        message = str(err.value)
        assert "PortAudio sees no audio devices at all" in message
        assert "NullAudio()" in message and "apt-get install" in message
        await audio.stop()
