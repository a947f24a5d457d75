from __future__ import annotations

import asyncio
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import Recorder, read_wav, tone
from voiceagent.audio import AudioBackend, AudioFormat, NullAudio, WavAudio
from voiceagent.audio.resample import resample
from voiceagent.audio.wav import read_wav as load
from voiceagent.errors import AudioError

FMT = AudioFormat()


def write_wav(
    path: Path, data: bytes, *, rate: int, channels: int, bits: int, tag: int = 1
) -> Path:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_backends_satisfy_the_protocol() -> None:
    assert isinstance(WavAudio(), AudioBackend)
    assert isinstance(NullAudio(), AudioBackend)


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
def test_read_wav_integer_encodings_stereo(tmp_path: Path, bits: int) -> None:
    x = tone(440, 0.1, rate=24000, amp=16000).astype(np.int64)
    if bits == 8:
        raw = ((x >> 8) + 128).astype(np.uint8)
        expected = ((x >> 8) << 8).astype(np.int16)
    elif bits == 16:
        raw, expected = x.astype("<i2"), x
    elif bits == 24:
        v = (x << 8).astype(np.int32)
        raw = np.stack([(v >> s) & 0xFF for s in (0, 8, 16)], axis=1).astype(np.uint8)
        expected = x
    else:
        raw, expected = (x << 16).astype("<i4"), x
    frames = np.repeat(raw.reshape(len(x), -1), 2, axis=0).reshape(len(x), -1)  # L == R
    path = write_wav(tmp_path / "t.wav", frames.tobytes(), rate=24000, channels=2, bits=bits)
    assert np.array_equal(load(path, 24000), expected)


def test_read_wav_float_and_rate_conversion(tmp_path: Path) -> None:
    x = tone(440, 0.5, rate=16000, amp=10000)
    path = write_wav(
        tmp_path / "f.wav",
        (x / 32768).astype("<f4").tobytes(),
        rate=16000,
        channels=1,
        bits=32,
        tag=3,
    )
    got = load(path, 24000)
    assert len(got) == 12000
    assert np.abs(got[200:-200].astype(int) - resample(x, 16000, 24000)[200:-200]).max() <= 2


def test_read_wav_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="missing.wav"):
        load(tmp_path / "missing.wav", 24000)
    (tmp_path / "x.wav").write_bytes(b"not a wav")
    with pytest.raises(AudioError, match="not a WAV file"):
        load(tmp_path / "x.wav", 24000)
    path = write_wav(tmp_path / "a.wav", b"\0" * 8, rate=8000, channels=1, bits=8, tag=6)
    with pytest.raises(AudioError, match="cannot decode"):
        load(path, 24000)


async def test_wav_input_in_blocks_then_silence_fast(tmp_path: Path, speech_wav: Path) -> None:
    speech, _ = read_wav(speech_wav)
    rec = Recorder()
    audio = WavAudio(input_path=speech_wav, realtime=False, pad_ms=100)
    await audio.start(FMT, rec)
    try:
        await asyncio.wait_for(audio.wait_input_done(), 10)
        n = len(rec.blocks)
        await rec.wait_until(lambda: len(rec.blocks) >= n + 2)  # then silence, in real time
    finally:
        await audio.stop()
    mic = rec.mic()
    assert np.array_equal(mic[: len(speech)], speech)
    assert not mic[len(speech) :].any()
    assert all(len(b) == FMT.block_bytes for b in rec.blocks)


async def test_wav_output_is_what_was_heard_including_a_cut(tmp_path: Path) -> None:
    out_path = tmp_path / "out" / "reply.wav"
    rec = Recorder()
    speech = tone(300, 2.0)
    mic_path = write_wav(tmp_path / "mic.wav", speech.tobytes(), rate=24000, channels=1, bits=16)
    # Duplex virtual device in fast mode: every microphone block is one output block.
    audio = WavAudio(
        input_path=mic_path, output_path=out_path, realtime=False, after_input="end", pad_ms=0
    )
    reply = tone(440, 1.0)
    await audio.start(FMT, rec)
    audio.play("r1", reply.tobytes())  # before the first tick
    try:
        await rec.wait_until(lambda: len(rec.blocks) >= 10)
        audio.flush()
        cut = audio.played_frames("r1")
        audio.play("r2", reply[:4800].tobytes())
        await rec.wait_until(lambda: rec.idle >= 1)
    finally:
        await audio.stop()
    assert cut % 480 == 0 and 4800 <= cut < len(reply)
    assert len(rec.blocks) * 480 >= cut  # the output clock is the microphone clock
    heard, rate = read_wav(out_path)
    assert rate == 24000
    assert np.array_equal(heard[:cut], reply[:cut])
    fade = heard[cut : cut + 96]
    assert np.all(np.abs(fade.astype(int)) <= abs(int(reply[cut - 1])))
    assert not heard[cut + 96 : cut + 480].any()
    assert np.array_equal(heard[cut + 480 : cut + 480 + 4800], reply[:4800])
    assert audio.played_frames("r2") == 4800


async def test_wav_realtime_clock_counts_like_a_device(tmp_path: Path) -> None:
    out_path = tmp_path / "reply.wav"
    rec = Recorder()
    audio = WavAudio(output_path=out_path, realtime=True, silence_between_turns=False)
    await audio.start(FMT, rec)
    reply = tone(440, 0.3)
    try:
        audio.play("r1", reply.tobytes())
        assert audio.is_playing and audio.played_frames("r1") < len(reply)
        await rec.wait_until(lambda: rec.idle >= 1)
        assert audio.played_frames("r1") == len(reply) and not audio.is_playing
    finally:
        await audio.stop()
    heard, _ = read_wav(out_path)
    assert np.array_equal(heard[: len(reply)], reply)
    assert rec.blocks == []  # no input file: no microphone


async def test_null_audio_counts_instantly() -> None:
    rec = Recorder()
    audio = NullAudio()
    await audio.start(FMT, rec)
    audio.play("a", bytes(960))
    assert audio.played_frames("a") == 480 and not audio.is_playing
    await rec.wait_until(lambda: rec.idle == 1)
    audio.flush()
    assert audio.played_frames("a") == 480
    await audio.stop()
    await audio.stop()
    assert rec.blocks == []


async def test_null_audio_realtime_counts_by_clock() -> None:
    rec = Recorder()
    audio = NullAudio(realtime=True)
    await audio.start(FMT, rec)
    try:
        audio.play("a", bytes(48000))  # 1 s
        await rec.wait_until(lambda: audio.played_frames("a") >= 960)
        audio.flush()
        cut = audio.played_frames("a")
        assert cut < 24000 and not audio.is_playing
    finally:
        await audio.stop()


def test_wav_files_are_closed(tmp_path: Path) -> None:
    async def run() -> None:
        audio = WavAudio(output_path=tmp_path / "o.wav")
        await audio.start(FMT, Recorder())
        await audio.stop()
        await audio.stop()

    asyncio.run(run())
    with wave.open(str(tmp_path / "o.wav")) as w:
        assert w.getframerate() == 24000
