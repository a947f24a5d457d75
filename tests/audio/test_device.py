"""Real PortAudio streams on the virtual ALSA card (tests/audio_device.py)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from audio_device import SPEAKER_NAME
from conftest import Recorder, find, read_wav, tone
from voiceagent.audio import AudioFormat
from voiceagent.audio.devices import list_devices
from voiceagent.audio.resample import resample
from voiceagent.audio.sounddevice_backend import SoundDeviceAudio
from voiceagent.errors import AudioError

pytestmark = pytest.mark.device

FMT = AudioFormat()


async def test_tone_arrives_bit_exact(virtual_card, recorder: Recorder) -> None:
    audio = SoundDeviceAudio()
    await audio.start(FMT, recorder)
    try:
        signal = tone(440, 0.5)
        for i in range(0, len(signal), 2400):  # deltas of 100 ms, as the service sends them
            audio.play("item1", signal[i : i + 2400].tobytes())
        assert audio.is_playing
        await recorder.wait_until(lambda: recorder.idle >= 1)
        done = audio.stats.output_callbacks
        await recorder.wait_until(lambda: audio.stats.output_callbacks >= done + 5)
    finally:
        await audio.stop()
    assert audio.played_frames("item1") == len(signal)
    assert not audio.is_playing
    out = virtual_card.output()
    start = find(out, signal)
    assert start >= 0, "the tone did not arrive bit-exact"
    assert not out[:start].any()  # priming silence and prebuffer before it
    assert not out[start + len(signal) :].any()  # silence after it
    stats = audio.stats
    assert stats.underruns == 0 and stats.overrun_frames == 0


async def test_flush_silences_the_next_block(virtual_card, recorder: Recorder) -> None:
    audio = SoundDeviceAudio()
    await audio.start(FMT, recorder)
    signal = tone(440, 3.0)
    try:
        audio.play("item1", signal.tobytes())
        await recorder.wait_until(lambda: audio.played_frames("item1") >= 12000)
        audio.flush()
        cut = audio.played_frames("item1")
        assert not audio.is_playing
        after = audio.stats.output_callbacks
        await recorder.wait_until(lambda: audio.stats.output_callbacks >= after + 5)
        assert audio.played_frames("item1") == cut  # nothing queued is played after the flush
    finally:
        await audio.stop()
    assert 12000 <= cut < len(signal)
    assert audio.stats.flushes == 1
    out = virtual_card.output()
    start = find(out, signal[:2400])
    assert start >= 0
    heard = out[start:]
    assert np.array_equal(heard[:cut], signal[:cut])  # everything counted was played, exactly
    fade = heard[cut : cut + 96]  # 4 ms fade from the last sample played, then digital silence
    assert np.all(np.abs(fade.astype(int)) <= abs(int(signal[cut - 1])))
    assert np.all(np.diff(np.abs(fade.astype(int))) <= 0)
    assert not heard[cut + 96 :].any()


async def test_microphone_blocks_arrive_exact(virtual_card, recorder: Recorder, speech_wav) -> None:
    speech, rate = read_wav(speech_wav)
    assert rate == 24000
    virtual_card.set_input(speech)
    audio = SoundDeviceAudio()
    await audio.start(FMT, recorder)
    try:
        await recorder.wait_until(lambda: len(recorder.blocks) * 480 >= len(speech) + 4800)
    finally:
        await audio.stop()
    assert {len(b) for b in recorder.blocks} == {FMT.block_bytes}
    mic = recorder.mic()
    onset = int(np.flatnonzero(speech)[0])
    at = find(mic, speech[onset : onset + 4800])
    assert at >= 0
    assert np.array_equal(mic[at : at + len(speech) - onset], speech[onset:])
    assert audio.stats.input_blocks >= len(recorder.blocks)


async def test_output_device_by_name(virtual_card, recorder: Recorder) -> None:
    audio = SoundDeviceAudio(output_device="TEST_speak")
    await audio.start(FMT, recorder)
    signal = tone(440, 0.2)
    try:
        assert audio.output_info is not None and audio.output_info.name == SPEAKER_NAME
        assert audio.input_info is not None and audio.input_info.name == "default"
        audio.play("a", signal.tobytes())
        await recorder.wait_until(lambda: recorder.idle >= 1)
    finally:
        await audio.stop()
    assert find(virtual_card.output(), signal) >= 0


def test_list_devices_sees_the_card(virtual_card) -> None:
    devices = list_devices()
    names = {d.name: d for d in devices}
    assert names[SPEAKER_NAME].max_input_channels == 0
    assert names["default"].is_default_output and names["default"].max_input_channels > 0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        (
            {"output_device": "no such speaker"},
            ["no output device matches", "default", SPEAKER_NAME, "output_device="],
        ),
        ({"input_device": 99}, ["no audio device with index 99", "input_device="]),
        ({"input_device": SPEAKER_NAME}, ["no input device matches", "default"]),
        ({"output_device": "e"}, ["ambiguous", SPEAKER_NAME, "default"]),
    ],
)
async def test_missing_device_error_names_devices(virtual_card, recorder, kwargs, words) -> None:
    audio = SoundDeviceAudio(**kwargs)
    with pytest.raises(AudioError) as err:
        await audio.start(FMT, recorder)
    for word in words:
        assert word in str(err.value)
    await audio.stop()  # safe after a failed start


async def test_refused_rate_is_resampled(
    virtual_card_48k, recorder: Recorder, speech_wav, caplog
) -> None:
    speech, _ = read_wav(speech_wav)
    virtual_card_48k.set_input(resample(speech, 24000, 48000))
    audio = SoundDeviceAudio()
    with caplog.at_level(logging.WARNING, logger="voiceagent.audio"):
        await audio.start(FMT, recorder)
    signal = tone(440, 0.5)
    try:
        assert audio.stats.device_rates == (48000, 48000) and audio.stats.resampling
        assert "refuses 24000 Hz" in caplog.text and "resampling with soxr" in caplog.text
        for i in range(0, len(signal), 2400):
            audio.play("item1", signal[i : i + 2400].tobytes())
        await recorder.wait_until(
            lambda: recorder.idle >= 1 and len(recorder.blocks) * 480 >= len(speech)
        )
    finally:
        await audio.stop()
    assert audio.played_frames("item1") == len(signal)
    # Output: the card got the tone at 48 kHz, as soxr converts it in one go.
    out = virtual_card_48k.output()
    expected = resample(signal, 24000, 48000)
    lag = _align(out, expected)
    inner = slice(200, len(expected) - 200)
    diff = out[lag : lag + len(expected)][inner].astype(int) - expected[inner]
    assert np.abs(diff).max() <= 64  # within -54 dBFS of the reference
    # Microphone: 48 kHz capture converted back to 24 kHz blocks of 480 frames.
    assert {len(b) for b in recorder.blocks} == {FMT.block_bytes}
    mic = recorder.mic()
    lag = _align(mic, speech)
    got = mic[lag : lag + len(speech)].astype(float)
    noise = got - speech[: len(got)]
    assert 10 * np.log10(np.sum(speech[: len(got)].astype(float) ** 2) / np.sum(noise**2)) > 30


def _align(signal: np.ndarray, reference: np.ndarray) -> int:
    """Offset of ``reference`` in ``signal`` by cross-correlation (FFT)."""
    n = len(signal) + len(reference)
    corr = np.fft.irfft(
        np.fft.rfft(signal.astype(float), n) * np.conj(np.fft.rfft(reference.astype(float), n)), n
    )
    return int(np.argmax(corr[: len(signal)]))


async def test_refused_rate_without_resampling_is_a_clear_error(virtual_card_48k, recorder) -> None:
    audio = SoundDeviceAudio(resample=False)
    with pytest.raises(AudioError) as err:
        await audio.start(FMT, recorder)
    message = str(err.value)
    assert "refuses 24000 Hz" in message and "48000 Hz" in message
    assert "resample=True" in message and "_device=" in message
    await audio.stop()
