"""Real PortAudio streams on the virtual ALSA card (tests/audio_device.py)."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from audio_device import SPEAKER_NAME
from conftest import Recorder, find, read_wav, tone
from voiceagent.audio import AudioFormat, EchoGate
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


async def test_stall_is_detected_and_reported(virtual_card, recorder: Recorder) -> None:
    gaps: list[float] = []
    audio = SoundDeviceAudio(on_stall=gaps.append)
    await audio.start(FMT, recorder)
    try:
        await recorder.wait_until(lambda: len(recorder.blocks) >= 3)
        virtual_card.pause_clock()  # the card stops consuming: callbacks stop, like a hung driver
        try:
            await recorder.wait_until(lambda: audio.stalled, timeout=10)
        finally:
            virtual_card.resume_clock()
        assert len(gaps) == 1 and gaps[0] > 1.0
        await recorder.wait_until(lambda: not audio.stalled, timeout=10)
        assert audio.stats.stalls == 1
    finally:
        await audio.stop()


async def test_stop_during_a_stall_does_not_hang(virtual_card, recorder: Recorder) -> None:
    audio = SoundDeviceAudio()
    await audio.start(FMT, recorder)
    await recorder.wait_until(lambda: len(recorder.blocks) >= 3)
    virtual_card.pause_clock()
    try:
        await asyncio.wait_for(audio.stop(), 10)  # bounded by design (abort, 1 s per stream)
    finally:
        virtual_card.resume_clock()
        # PortAudio is not thread-safe: let the abandoned abort finish before the fixture
        # re-initialises PortAudio (a hung driver would leave it hanging; the card resumes).
        for worker in _portaudio_workers():
            await asyncio.to_thread(worker.join, 10)
    assert not _portaudio_workers()


def _portaudio_workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "voiceagent-portaudio" and t.is_alive()]


CTRL_C_CHILD = """
import asyncio, signal, sys, time
import numpy as np
# Ctrl+C as in a terminal: a parent started in the background may have left SIGINT ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
from voiceagent.audio import AudioFormat, SoundDeviceAudio

class L:
    def on_input(self, pcm): pass
    def on_playback_idle(self): pass

stopped = {}

async def main():
    audio = SoundDeviceAudio()
    await audio.start(AudioFormat(), L())
    try:
        audio.play("a", (np.ones(240000, dtype=np.int16) * 1000).tobytes())  # 10 s
        while audio.played_frames("a") < 4800:
            await asyncio.sleep(0.01)
        print("playing", flush=True)
        await asyncio.sleep(30)
    finally:
        t0 = time.monotonic()
        await audio.stop()
        print(f"stopped {time.monotonic() - t0:.3f}", flush=True)

try:
    asyncio.run(main())
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_during_playback_exits_promptly(virtual_card) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "playing"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        raise AssertionError(f"the child did not exit; stdout: {out!r}; stderr: {err!r}") from None
    finally:
        child.kill()
    assert child.returncode == 130, err
    stop_s = float(out.split()[-1])
    assert stop_s < 1.0  # stop() itself (abort + close), measured in the child


async def test_echo_gate_on_the_virtual_card(virtual_card, recorder: Recorder, speech_wav) -> None:
    """The card's microphone hears the agent (a delayed, 20 dB quieter copy) and later the user.

    Without a speaker-to-mic path on a virtual card, the echo is put into the microphone file:
    the agent plays a 300 Hz tone at about -15 dBFS for the whole test; the microphone carries
    that tone 20 dB down for 1.5 s (echo), then loud speech (the user barging in).
    """
    speech, _ = read_wav(speech_wav)
    onset = int(np.flatnonzero(speech)[0])
    user = speech[onset : onset + 24000].astype(np.float64)
    user = np.clip(user * (10 ** (-12 / 20) * 32768 / np.sqrt(np.mean(user**2))), -32768, 32767)
    agent = tone(300, 6.0, amp=8000)
    echo = (agent[:36000] // 10).astype(np.int16)
    mic = np.concatenate(
        [np.zeros(12000, np.int16), echo, np.zeros(4800, np.int16), user.astype(np.int16)]
    )
    virtual_card.set_input(mic)
    gate = EchoGate()
    audio = SoundDeviceAudio(echo_gate=gate)
    await audio.start(FMT, recorder)
    try:
        audio.play("agent", agent.tobytes())
        await recorder.wait_until(lambda: len(recorder.blocks) * 480 >= len(mic) + 4800)
        assert audio.is_playing  # the agent spoke throughout
    finally:
        await audio.stop()
    got = recorder.mic()
    # Locate the microphone timeline by the part of the user's speech that passed.
    passed = np.flatnonzero(got)
    assert len(passed) > 0, "the user's speech was muted"
    first = int(passed[0])
    at = find(mic, got[first : first + 480])
    assert at >= 12000 + len(echo)  # nothing before the user's speech passed: the echo was muted
    shift = first - at
    user_region = got[shift + 12000 + len(echo) + 4800 : shift + len(mic)]
    user_energy = np.sum(user_region.astype(np.float64) ** 2)
    assert user_energy >= 0.9 * np.sum(user**2)  # the barge-in reached the session
    assert gate.blocks_muted >= len(echo) // 480


NO_PORTAUDIO_CHILD = """
import ctypes.util
real = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if "portaudio" in name else real(name)
import voiceagent.audio as audio  # must work without PortAudio
from voiceagent.errors import AudioError
try:
    audio.list_devices()
except AudioError as exc:
    print(exc)
"""


def test_missing_portaudio_says_what_to_install() -> None:
    # PortAudio cannot be uninstalled for a test: the child hides it from the library lookup.
    out = subprocess.run(
        [sys.executable, "-c", NO_PORTAUDIO_CHILD], capture_output=True, text=True, check=True
    ).stdout
    assert "PortAudio library not found" in out and "apt-get install libportaudio2" in out


async def test_spoken_microphone_reaches_the_emulator(virtual_card, speech_wav) -> None:
    """Real mic path end to end: card -> PortAudio -> on_input -> SDK -> emulator VAD."""
    import base64

    from azure.ai.voicelive.aio import connect
    from azure.core.credentials import AzureKeyCredential

    from voiceagent.emulator import Emulator

    speech, _ = read_wav(speech_wav)
    virtual_card.set_input(speech)
    blocks: asyncio.Queue[bytes] = asyncio.Queue()

    class Forward:
        def on_input(self, pcm: bytes) -> None:
            blocks.put_nowait(pcm)

        def on_playback_idle(self) -> None:
            pass

    audio = SoundDeviceAudio()
    async with (
        Emulator(realtime=False) as emu,
        connect(
            endpoint=emu.endpoint, credential=AzureKeyCredential("k"), model="gpt-realtime"
        ) as conn,
    ):
        await conn.recv()  # session.created

        async def send() -> None:
            while True:
                pcm = await blocks.get()
                await conn.input_audio_buffer.append(audio=base64.b64encode(pcm).decode())

        async def speech_started() -> object:
            while True:
                event = await conn.recv()
                if event.type == "input_audio_buffer.speech_started":
                    return event

        await audio.start(FMT, Forward())
        sender = asyncio.create_task(send())
        try:
            event = await asyncio.wait_for(speech_started(), 20)
        finally:
            sender.cancel()
            await audio.stop()
    onset_ms = 1000 * int(np.flatnonzero(speech)[0]) // 24000
    assert abs(event.audio_start_ms - onset_ms) <= 300  # the card's mic timeline, kept intact
