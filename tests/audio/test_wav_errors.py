"""Bad WAV input fails at WavAudio construction with an AudioError naming the file and the fix."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import Recorder, tone
from voiceagent.audio import AudioFormat, WavAudio
from voiceagent.audio.wav_file import inspect_wav, read_wav
from voiceagent.errors import AudioError


def riff(*chunks: tuple[bytes, bytes], magic: bytes = b"RIFF") -> bytes:
    body = b"WAVE" + b"".join(
        cid + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1) for cid, data in chunks
    )
    return magic + struct.pack("<I", len(body)) + body


def fmt_chunk(tag: int = 1, channels: int = 1, rate: int = 24000, bits: int = 16) -> bytes:
    block = channels * max(bits, 8) // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


PCM = b"\x01\x00" * 480

CASES = {
    "short_fmt": (riff((b"fmt ", fmt_chunk()[:12]), (b"data", PCM)), ["damaged fmt chunk", "12"]),
    "zero_channels": (riff((b"fmt ", fmt_chunk(channels=0)), (b"data", PCM)), ["0 channels"]),
    "zero_rate": (riff((b"fmt ", fmt_chunk(rate=0)), (b"data", PCM)), ["0 Hz"]),
    "text": (b"this is not audio at all, just text\n", ["not a WAV file", "b'this'"]),
    "tiny": (b"RIF", ["not a WAV file", "3 bytes"]),
    "rf64": (riff((b"fmt ", fmt_chunk()), (b"data", PCM), magic=b"RF64"), ["RF64"]),
    "no_data": (riff((b"fmt ", fmt_chunk())), ["no data chunk"]),
    "no_fmt": (riff((b"data", PCM)), ["no fmt chunk"]),
    "alaw": (riff((b"fmt ", fmt_chunk(tag=6, bits=8)), (b"data", PCM)), ["A-law", "8 bits"]),
    "mp3": (riff((b"fmt ", fmt_chunk(tag=0x55, bits=0)), (b"data", PCM)), ["MP3"]),
    "pcm12": (riff((b"fmt ", fmt_chunk(bits=12)), (b"data", PCM)), ["integer PCM", "12 bits"]),
    "float16": (riff((b"fmt ", fmt_chunk(tag=3, bits=16)), (b"data", PCM)), ["IEEE float"]),
    "zero_bits": (riff((b"fmt ", fmt_chunk(bits=0)), (b"data", PCM)), ["0 bits"]),
}
# The fmt chunk claims 16 bytes, but the file ends after 10 of them.
CASES["truncated"] = (riff((b"fmt ", fmt_chunk()))[:30], ["damaged fmt chunk", "10 bytes"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_file_fails_at_construction(tmp_path: Path, case: str) -> None:
    data, words = CASES[case]
    path = write(tmp_path, f"{case}.wav", data)
    with pytest.raises(AudioError) as err:
        WavAudio(input_path=path)
    message = str(err.value)
    assert str(path) in message
    for word in words:
        assert word in message
    assert f"sox {path}" in message and "-c 1 -b 16 -e signed-integer" in message
    with pytest.raises(AudioError):  # the reader used by start() says the same
        read_wav(path, 24000)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "question.wav"
    with pytest.raises(AudioError) as err:
        WavAudio(input_path=path)
    assert str(path) in str(err.value) and "does not exist" in str(err.value)
    assert "check the path" in str(err.value)


def test_directory_as_input_or_output(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="is a directory") as err:
        WavAudio(input_path=tmp_path)
    assert str(tmp_path) in str(err.value) and ".wav" in str(err.value)
    with pytest.raises(AudioError, match="is a directory") as err:
        WavAudio(output_path=tmp_path)
    assert str(tmp_path) in str(err.value)


def test_unreadable_file_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.wav", riff((b"fmt ", fmt_chunk()), (b"data", PCM)))
    if os.geteuid() == 0:
        pytest.skip("root reads any file: permissions cannot be tested")
    path.chmod(0)
    with pytest.raises(AudioError, match="cannot be read"):
        WavAudio(input_path=path)


def test_file_that_went_bad_after_construction_fails_in_start(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.wav", riff((b"fmt ", fmt_chunk()), (b"data", PCM)))
    audio = WavAudio(input_path=path, realtime=False)
    assert audio.input_info is not None and audio.input_info.frames == 480
    path.write_bytes(b"garbage")

    async def run() -> None:
        with pytest.raises(AudioError, match="not a WAV file"):
            await audio.start(AudioFormat(), Recorder())
        await audio.stop()

    asyncio.run(run())


def test_header_checks_do_not_reject_good_files(tmp_path: Path) -> None:
    # A data chunk before the fmt chunk, an odd-sized extra chunk, and a data size past the end
    # of the file (as written by a streaming recorder) are all fine.
    x = tone(440, 0.1)
    extra = (b"LIST", b"abc")
    path = write(tmp_path, "odd.wav", riff((b"data", x.tobytes()), extra, (b"fmt ", fmt_chunk())))
    assert np.array_equal(read_wav(path, 24000), x)
    streamed = bytearray(riff((b"fmt ", fmt_chunk()), (b"data", x.tobytes())))
    streamed[40:44] = struct.pack("<I", 0xFFFFFFF0)
    path = write(tmp_path, "streamed.wav", bytes(streamed))
    assert inspect_wav(path).frames == len(x)
    assert np.array_equal(read_wav(path, 24000), x)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
def test_the_suggested_sox_command_fixes_the_file(tmp_path: Path) -> None:
    alaw = bytes([0xD5, 0xAA, 0x2A, 0xD5] * 2000)  # 0, +, -, 0 ... as A-law
    path = write(
        tmp_path,
        "phone call.wav",
        riff((b"fmt ", fmt_chunk(tag=6, bits=8, rate=8000)), (b"data", alaw)),
    )
    with pytest.raises(AudioError) as err:
        WavAudio(input_path=path)
    command = str(err.value).split("with: ", 1)[1]
    subprocess.run(shlex.split(command), check=True, capture_output=True)
    fixed = tmp_path / "phone call-pcm16.wav"
    info = WavAudio(input_path=fixed).input_info
    assert info is not None and (info.format_tag, info.bits, info.channels) == (1, 16, 1)
    assert info.sample_rate == 24000 and info.frames == 3 * 8000
