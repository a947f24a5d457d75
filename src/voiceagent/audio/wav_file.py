"""Reading WAV files for :class:`~voiceagent.audio.WavAudio`, with errors that say how to fix them.

:func:`inspect_wav` checks a file's header without reading its audio (cheap, so ``WavAudio``
calls it at construction); :func:`read_wav` decodes the audio to PCM16 mono at a given rate.
Every problem raises :class:`~voiceagent.AudioError` naming the file, what is wrong with it and
what to do, usually the ``sox`` command that converts it to 16-bit mono PCM.
"""

from __future__ import annotations

import shlex
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import AudioError
from .resample import resample

__all__ = ["WavInfo", "inspect_wav", "read_wav", "sox_hint"]

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_FMT_MIN = 16  # bytes of a PCM fmt chunk: tag, channels, rate, byte rate, block align, bits
_DECODABLE = {_PCM: (8, 16, 24, 32), _FLOAT: (32, 64)}
_TAG_NAMES = {
    _PCM: "integer PCM",
    0x0002: "Microsoft ADPCM",
    _FLOAT: "IEEE float",
    0x0006: "A-law",
    0x0007: "u-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
    _EXTENSIBLE: "WAVE_FORMAT_EXTENSIBLE",
}


@dataclass(frozen=True)
class WavInfo:
    """What a WAV file's header declares (checked: decodable by :func:`read_wav`).

    Attributes:
        path: The file.
        format_tag: WAVE format tag (1 = integer PCM, 3 = IEEE float; resolved for
            ``WAVE_FORMAT_EXTENSIBLE``).
        channels: Interleaved channels (mixed down by averaging when read).
        sample_rate: Frames per second (converted with soxr when read).
        bits: Bits per sample (8, 16, 24 or 32 for PCM; 32 or 64 for float).
        data_offset: Byte offset of the audio in the file.
        data_bytes: Bytes of audio (clipped to the end of the file).
    """

    path: Path
    format_tag: int
    channels: int
    sample_rate: int
    bits: int
    data_offset: int
    data_bytes: int

    @property
    def frames(self) -> int:
        """Whole frames of audio in the file."""
        return self.data_bytes // (self.channels * self.bits // 8)


def sox_hint(path: str | Path, sample_rate: int = 24000) -> str:
    """The ``sox`` command converting ``path`` to 16-bit mono PCM at ``sample_rate`` Hz."""
    src = Path(path)
    dst = src.with_name(f"{src.stem}-pcm16.wav")
    return (
        f"sox {shlex.quote(str(src))} -r {sample_rate} -c 1 -b 16 -e signed-integer "
        f"{shlex.quote(str(dst))}"
    )


def _bad(path: Path, problem: str, fix: str | None = None) -> AudioError:
    fix = fix or f"convert it to 16-bit mono PCM with: {sox_hint(path)}"
    return AudioError(f"WAV file {str(path)!r} {problem}; {fix}")


def inspect_wav(path: str | Path) -> WavInfo:
    """Check that ``path`` is a WAV file :func:`read_wav` can decode, reading only its header.

    Raises:
        AudioError: The file is missing, a directory, unreadable, not a RIFF/WAVE file, damaged
            (short ``fmt`` chunk, no ``data`` chunk), declares 0 channels or 0 Hz, or uses an
            encoding other than PCM 8/16/24/32-bit or float 32/64-bit. The message names the
            file, the problem and the fix (usually a ``sox`` command).
    """
    p = Path(path)
    if p.is_dir():
        raise _bad(p, "is a directory, not a file", "give the path of a .wav file")
    try:
        with p.open("rb") as f:
            size = p.stat().st_size
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                raise _bad(p, _not_wav(head))
            fmt_body: bytes | None = None
            data: tuple[int, int] | None = None
            pos = 12
            while pos + 8 <= size and (fmt_body is None or data is None):
                f.seek(pos)
                cid, chunk_size = struct.unpack("<4sI", f.read(8))
                if cid == b"fmt ":
                    fmt_body = f.read(min(chunk_size, 64))
                    if chunk_size < _FMT_MIN or len(fmt_body) < _FMT_MIN:
                        raise _bad(
                            p,
                            f"has a damaged fmt chunk ({min(chunk_size, len(fmt_body))} bytes, "
                            f"at least {_FMT_MIN} needed)",
                            f"re-create the file, or try converting it with: {sox_hint(p)}",
                        )
                elif cid == b"data":
                    data = (pos + 8, max(0, min(chunk_size, size - pos - 8)))
                pos += 8 + chunk_size + (chunk_size & 1)
    except FileNotFoundError as exc:
        raise _bad(
            p,
            "does not exist",
            f"check the path (relative paths start at {str(Path.cwd())!r})",
        ) from exc
    except OSError as exc:
        raise _bad(p, f"cannot be read ({exc.strerror or exc})", "check its permissions") from exc
    if fmt_body is None:
        raise _bad(p, "has no fmt chunk (it is damaged or truncated)")
    if data is None:
        raise _bad(p, "has no data chunk (no audio: it is damaged or truncated)")
    tag, channels, rate = struct.unpack_from("<HHI", fmt_body)
    bits = struct.unpack_from("<H", fmt_body, 14)[0]
    if tag == _EXTENSIBLE and len(fmt_body) >= 26:
        tag = struct.unpack_from("<H", fmt_body, 24)[0]  # first field of the SubFormat GUID
    if channels == 0:
        raise _bad(p, "declares 0 channels (its header is damaged)")
    if rate == 0:
        raise _bad(p, "declares a sample rate of 0 Hz (its header is damaged)")
    if bits not in _DECODABLE.get(tag, ()):
        name = _TAG_NAMES.get(tag, "an unknown encoding")
        raise _bad(
            p,
            f"is {name} (format tag {tag:#06x}) at {bits} bits per sample, which WavAudio "
            "cannot decode (it reads PCM 8/16/24/32-bit and float 32/64-bit)",
        )
    return WavInfo(p, tag, channels, rate, bits, data[0], data[1])


def _not_wav(head: bytes) -> str:
    if head[:4] == b"RF64":
        return "is an RF64 file (a WAV over 4 GB), not a RIFF/WAVE file"
    if head[:4] == b"RIFX":
        return "is a big-endian RIFX file, not a little-endian RIFF/WAVE file"
    if len(head) < 12:
        return f"is not a WAV file (only {len(head)} bytes long)"
    return f"is not a WAV file (it starts with {head[:4]!r}, not b'RIFF'...b'WAVE')"


def read_wav(path: str | Path, sample_rate: int) -> npt.NDArray[np.int16]:
    """Read a WAV file as PCM16 mono at ``sample_rate`` Hz.

    Accepts integer PCM of 8, 16, 24 or 32 bits and 32/64-bit float, any channel count (mixed
    down by averaging) and any rate (converted with soxr).

    Raises:
        AudioError: As :func:`inspect_wav`: the message names the file and the fix.
    """
    info = inspect_wav(path)
    try:
        with info.path.open("rb") as f:
            f.seek(info.data_offset)
            frames = f.read(info.data_bytes)
    except OSError as exc:
        raise _bad(info.path, f"cannot be read ({exc})", "check the file") from exc
    width = info.bits // 8
    usable = len(frames) // (width * info.channels) * width * info.channels
    raw = frames[:usable]
    x: npt.NDArray[np.float64]
    if info.format_tag == _FLOAT:
        x = np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").astype(np.float64) * 32768.0
    elif width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8  # sign-extend via the top byte
        x = v.astype(np.float64) / 65536.0  # 24-bit value in the top bytes -> 16-bit scale
    else:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 65536.0
    if info.channels > 1:
        x = x.reshape(-1, info.channels).mean(axis=1)
    pcm = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return resample(pcm, info.sample_rate, sample_rate)
