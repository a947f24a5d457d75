"""The emulated agent's voices: espeak-ng (real words) or the synthetic buzz, at any format.

:func:`speak` turns a reply into :class:`~.voice.Speech` in the session's output format. With
espeak-ng every word's timing comes from the synthesiser's word events and the mouth shapes
(visemes) from its phoneme events; the 22,050 Hz output is resampled (FFT, no extra
dependency) to the format's rate and encoded (PCM16 or G.711). Without espeak-ng, or with
``voice="synthetic"``, it is the speech-like buzz of :func:`~.voice.synthesize`.

Results are cached per (text, format, voice), so many sessions saying the same thing cost one
synthesis.
"""

from __future__ import annotations

import functools
import logging
import re

import numpy as np
import numpy.typing as npt

from voiceagent.protocol.formats import OUTPUT_FORMATS
from voiceagent.protocol.g711 import alaw_encode, ulaw_encode

from .listening import SpeechUnavailableError
from .voice import Speech, WordTiming, synthesize

logger = logging.getLogger(__name__)

__all__ = ["VOICES", "espeak_available", "resample_pcm16", "speak"]

VOICES = ("auto", "espeak", "synthetic")
"""Accepted ``Emulator(voice=...)`` values: ``auto`` is espeak-ng when it loads, else synthetic."""

_TOKEN = re.compile(r"\S+")
_TARGET_PEAK_DBFS = -3.0

# espeak-ng phoneme mnemonics (stress marks and "#" removed) to Azure viseme ids: 1 ae/ax/ah,
# 2 aa, 3 ao, 4 ey/eh/uh, 5 er, 6 y/iy/ih/ix, 7 w/uw, 8 ow, 9 aw, 10 oy, 11 ay, 12 h, 13 r,
# 14 l, 15 s/z, 16 sh/ch/jh/zh, 17 th (voiced), 18 f/v, 19 d/t/n/th, 20 k/g/ng, 21 p/b/m.
_PHONEME_VISEMES: dict[str, int] = {
    "a": 1, "@": 1, "V": 1, "a#": 1, "@2": 1, "@5": 1, "I2": 6,
    "A:": 2, "A@": 2, "0": 2, "aa": 2,
    "O:": 3, "O": 3, "O@": 3, "o@": 3,
    "E": 4, "eI": 4, "e@": 4, "U": 4, "e": 4,
    "3:": 5, "3": 5, "@L": 14,
    "i": 6, "i:": 6, "I": 6, "j": 6, "i@": 6, "i@3": 6, "y": 6,
    "w": 7, "u:": 7, "U@": 7, "u": 7,
    "oU": 8, "o": 8, "O@r": 8,
    "aU": 9, "OI": 10, "aI": 11, "aI@": 11, "aI3": 11,
    "h": 12, "r": 13, "r-": 13, "l": 14,
    "s": 15, "z": 15, "S": 16, "Z": 16, "tS": 16, "dZ": 16, "D": 17, "T": 19,
    "f": 18, "v": 18, "d": 19, "t": 19, "n": 19, "t#": 19, "d#": 19, "n-": 19, "?": 19,
    "k": 20, "g": 20, "N": 20, "x": 20,
    "p": 21, "b": 21, "m": 21, "m-": 21,
}  # fmt: skip


def espeak_available() -> bool:
    """True when espeak-ng can be loaded (from the ``espeakng-loader`` wheel or the system)."""
    try:
        from . import espeak
    except ImportError:  # pragma: no cover - ctypes is always there
        return False
    return espeak.available()


def speak(
    text: str,
    output_audio_format: str = "pcm16",
    *,
    voice: str = "auto",
    ms_per_char: float = 65.0,
    espeak_voice: str | None = None,
) -> Speech:
    """Speech for ``text`` in ``output_audio_format`` (cached).

    Args:
        text: What to say.
        output_audio_format: A Voice Live output format (``pcm16``, ``pcm16_8000hz``, ...,
            ``g711_ulaw``, ``g711_alaw``).
        voice: ``"espeak"`` (espeak-ng; raises if it cannot be loaded), ``"synthetic"`` (the
            buzz) or ``"auto"`` (espeak-ng when available, else the buzz).
        ms_per_char: Speaking rate of the synthetic voice.
        espeak_voice: The espeak-ng voice name (``en-us``, ``en-us+f3``, ...); ``None``:
            :data:`~.espeak.DEFAULT_VOICE`.

    Raises:
        ValueError: ``voice`` is not one of :data:`VOICES`.
        voiceagent.emulator.espeak.EspeakUnavailableError: ``voice="espeak"`` and espeak-ng
            cannot be loaded.
    """
    if voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}; expected one of {', '.join(VOICES)}")
    if voice == "synthetic" or (voice == "auto" and not espeak_available()):
        return synthesize(text, output_audio_format, ms_per_char)
    try:
        return _speak_espeak(text, output_audio_format, espeak_voice)
    except SpeechUnavailableError:
        if voice == "espeak":
            raise
        logger.exception("espeak-ng failed; speaking with the synthetic voice")
        return synthesize(text, output_audio_format, ms_per_char)


@functools.lru_cache(maxsize=256)
def _speak_espeak(text: str, output_audio_format: str, espeak_voice: str | None) -> Speech:
    from .espeak import DEFAULT_VOICE, synthesize_espeak

    rate, encoding = OUTPUT_FORMATS[output_audio_format]
    result = synthesize_espeak(text if text.strip() else " ", espeak_voice or DEFAULT_VOICE)
    samples = np.frombuffer(result.pcm, dtype="<i2").astype(np.float64)
    if samples.size and np.max(np.abs(samples)):
        samples *= (10 ** (_TARGET_PEAK_DBFS / 20) * 32767.0) / np.max(np.abs(samples))
    samples = resample(samples, result.sample_rate, rate)
    pcm = np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
    timings = _word_timings(text, result.words, result.phonemes, result.end_ms)
    visemes = _visemes(result.phonemes, result.end_ms)
    if encoding == "ulaw":
        audio, width = ulaw_encode(pcm), 1
    elif encoding == "alaw":
        audio, width = alaw_encode(pcm), 1
    else:
        audio, width = pcm, 2
    words = tuple((w.start_ms, w.end_char) for w in timings)
    return Speech(text, audio, rate, width, words, timings, visemes=visemes, engine="espeak")


def resample(
    samples: npt.NDArray[np.float64], rate_in: int, rate_out: int
) -> npt.NDArray[np.float64]:
    """Resample a whole signal by FFT (ideal low-pass; fine for silence-padded speech)."""
    if rate_in == rate_out or samples.size == 0:
        return samples
    n = samples.size
    m = max(1, round(n * rate_out / rate_in))
    spectrum = np.fft.rfft(samples)
    keep = min(spectrum.size, m // 2 + 1)
    out_spectrum = np.zeros(m // 2 + 1, dtype=np.complex128)
    out_spectrum[:keep] = spectrum[:keep]
    resampled: npt.NDArray[np.float64] = np.fft.irfft(out_spectrum, m) * (m / n)
    return resampled


def resample_pcm16(pcm: bytes, rate_in: int, rate_out: int) -> bytes:
    """Resample PCM16 little-endian mono bytes from ``rate_in`` to ``rate_out``."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    out = resample(samples, rate_in, rate_out)
    return np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()


def _word_timings(
    text: str,
    words: tuple[tuple[int, int, int], ...],
    phonemes: tuple[tuple[int, str], ...],
    end_ms: int,
) -> tuple[WordTiming, ...]:
    """One timing per text token that espeak-ng spoke, from its word and phoneme events.

    A token starts at its first word event ("22" gives two: "twenty", "two") and lasts until
    the first pause phoneme after it, the next token's start or the end of the speech.
    """
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    starts: dict[int, int] = {}
    for offset, _length, audio_ms in words:
        for index, (begin, end) in enumerate(tokens):
            if begin <= offset < end:
                starts.setdefault(index, audio_ms)
                break
    spoken = sorted(starts)
    pauses = [ms for ms, name in phonemes if name.startswith("_")]
    timings: list[WordTiming] = []
    previous_start = -1.0
    for position, index in enumerate(spoken):
        start = float(max(starts[index], previous_start + 1))
        limit = float(starts[spoken[position + 1]] if position + 1 < len(spoken) else end_ms)
        stop = next((float(ms) for ms in pauses if start < ms < limit), limit)
        timings.append(WordTiming(start, max(1.0, stop - start), *tokens[index]))
        previous_start = start
    return tuple(timings)


def _visemes(phonemes: tuple[tuple[int, str], ...], end_ms: int) -> tuple[tuple[int, int], ...]:
    """``(audio_ms, viseme_id)`` from the phoneme events, repeats merged, silence at the end."""
    track: list[tuple[int, int]] = []
    for ms, name in phonemes:
        key = name.replace("'", "").replace(",", "")
        if key.startswith("_"):
            viseme = 0
        else:
            viseme = _PHONEME_VISEMES.get(key, _PHONEME_VISEMES.get(key.rstrip("#:2"), 1))
        if track and track[-1][1] == viseme:
            continue
        track.append((ms, viseme))
    if not track or track[-1][1] != 0:
        track.append((end_ms, 0))
    return tuple(track)
