"""Speech-like audio for the emulated assistant, with the timing of every word.

The emulator cannot speak, but clients need audio that behaves like speech: a VAD or RMS meter
must see it as voice, and the words must take time so that barge-in and truncation can be tested.
Each word becomes voiced "syllables": a harmonic tone (fundamental around 140 Hz with slow
intonation, ten harmonics falling off as 1/k) under a syllable-rate envelope with 15 ms
raised-cosine fades at each word's edges (no clicks); spaces and
punctuation become pauses. Every character lasts ``ms_per_char`` (65 ms by default, about
150 words per minute); a comma adds 150 ms and a sentence end 300 ms. The voiced parts are
normalised to -20 dBFS RMS.

Synthesis is vectorised and cached per (text, format), so many sessions saying the same thing
cost one synthesis.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceagent.protocol.formats import OUTPUT_FORMATS
from voiceagent.protocol.g711 import alaw_encode, ulaw_encode

__all__ = ["DEFAULT_MS_PER_CHAR", "Speech", "WordTiming", "synthesize"]

DEFAULT_MS_PER_CHAR = 65.0

_WORD = re.compile(r"\S+")
_VOWEL_GROUPS = re.compile(r"[aeiouyAEIOUY]+")
_COMMA_PAUSE_MS = 150.0
_SENTENCE_PAUSE_MS = 300.0
_TARGET_DBFS = -20.0


@dataclass(frozen=True)
class WordTiming:
    """Where one word sits in the audio and in the text.

    Attributes:
        start_ms: When the word starts, in ms into the audio.
        duration_ms: How long it is voiced, in ms (the pause after it not included).
        start_char: Index of its first character in the text.
        end_char: Index just past its last character.
    """

    start_ms: float
    duration_ms: float
    start_char: int
    end_char: int


@dataclass(frozen=True)
class Speech:
    """Synthesised speech for one text.

    Attributes:
        text: What is said.
        audio: The audio on the wire (PCM16 little-endian or G.711 bytes).
        sample_rate: Samples per second of ``audio``.
        bytes_per_sample: 2 for PCM16, 1 for G.711.
        words: ``(start_ms, end_char)`` per word: the word starts at ``start_ms`` into the
            audio and ``text[:end_char]`` is the transcript up to and including it.
        timings: The full timing of every word, in order (same words as ``words``).
        visemes: ``(audio_ms, viseme_id)`` from the synthesiser's phonemes (espeak-ng), or
            ``()`` when mouth shapes are guessed from the letters (the synthetic voice).
        engine: ``"espeak"`` or ``"synthetic"``.
    """

    text: str
    audio: bytes
    sample_rate: int
    bytes_per_sample: int
    words: tuple[tuple[float, int], ...]
    timings: tuple[WordTiming, ...] = ()
    visemes: tuple[tuple[int, int], ...] = ()
    engine: str = "synthetic"

    @property
    def duration_ms(self) -> float:
        """Length of the audio in milliseconds."""
        return 1000.0 * len(self.audio) / (self.sample_rate * self.bytes_per_sample)

    def bytes_for_ms(self, ms: float) -> int:
        """Byte offset into ``audio`` of the sample at ``ms`` (whole samples)."""
        return int(ms * self.sample_rate / 1000) * self.bytes_per_sample

    def ms_for_bytes(self, n: int) -> float:
        """Milliseconds of audio in the first ``n`` bytes."""
        return 1000.0 * n / (self.sample_rate * self.bytes_per_sample)

    def transcript_at(self, ms: float) -> str:
        """The transcript heard after ``ms`` of playback: every word that started before ``ms``."""
        end = 0
        for start_ms, end_char in self.words:
            if start_ms >= ms:
                break
            end = end_char
        return self.text[:end]


def synthesize(
    text: str, output_audio_format: str = "pcm16", ms_per_char: float = DEFAULT_MS_PER_CHAR
) -> Speech:
    """Synthesise speech-like audio for ``text`` in an ``output_audio_format`` (cached)."""
    return _synthesize(text, output_audio_format, float(ms_per_char))


@functools.lru_cache(maxsize=256)
def _synthesize(text: str, output_audio_format: str, ms_per_char: float) -> Speech:
    rate, encoding = OUTPUT_FORMATS[output_audio_format]
    pcm, timings = _render(text, rate, ms_per_char)
    words = tuple((w.start_ms, w.end_char) for w in timings)
    if encoding == "ulaw":
        audio, width = ulaw_encode(pcm), 1
    elif encoding == "alaw":
        audio, width = alaw_encode(pcm), 1
    else:
        audio, width = pcm, 2
    return Speech(text, audio, rate, width, words, tuple(timings))


def _render(text: str, rate: int, ms_per_char: float) -> tuple[bytes, list[WordTiming]]:
    """Lay the words out in time and render them; returns (PCM16 bytes, word timings)."""
    segments: list[tuple[float, float, int]] = []  # (start_ms, duration_ms, syllables)
    words: list[WordTiming] = []
    t = 20.0  # a short lead-in, as real TTS has
    for match in _WORD.finditer(text):
        word = match.group()
        duration = len(word) * ms_per_char
        syllables = max(1, len(_VOWEL_GROUPS.findall(word)))
        segments.append((t, duration, syllables))
        words.append(WordTiming(t, duration, match.start(), match.end()))
        t += duration + ms_per_char  # the space after the word
        if word[-1] in ",;:":
            t += _COMMA_PAUSE_MS
        elif word[-1] in ".!?":
            t += _SENTENCE_PAUSE_MS
    total = int(t * rate / 1000) if segments else int(0.2 * rate)
    signal = np.zeros(total, dtype=np.float64)
    for start_ms, duration_ms, syllables in segments:
        a = int(start_ms * rate / 1000)
        n = min(int(duration_ms * rate / 1000), total - a)
        if n > 0:
            signal[a : a + n] = _voiced(n, rate, syllables, start_ms)
    voiced = signal[signal != 0]
    if voiced.size:
        rms = float(np.sqrt(np.mean(voiced * voiced)))
        signal *= (10 ** (_TARGET_DBFS / 20)) / rms
    pcm = np.clip(signal * 32767.0, -32768, 32767).astype("<i2").tobytes()
    return pcm, words


def _voiced(n: int, rate: int, syllables: int, start_ms: float) -> npt.NDArray[np.float64]:
    """One word: harmonics of a gliding fundamental under a per-syllable envelope."""
    t = np.arange(n, dtype=np.float64) / rate
    duration = n / rate
    # Intonation: a slow wobble that depends on where the word sits in the utterance.
    f0 = 140.0 * (1.0 + 0.12 * np.sin(2 * np.pi * (0.8 * t + start_ms / 1700.0)))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    wave = np.zeros(n, dtype=np.float64)
    for k in range(1, 11):
        if k * 180.0 >= rate / 2:
            break
        wave += np.sin(k * phase) / k
    # Syllables: raised-sine bumps, never fully silent inside a word (co-articulation).
    syllable_pos = (t / duration) * syllables
    envelope = 0.25 + 0.75 * np.sin(np.pi * (syllable_pos % 1.0)) ** 0.7
    # Raised-cosine fades (15 ms, at most a third of the word) so no word starts or ends with
    # a step: short words used to click where they ended.
    edge = max(1, min(int(0.015 * rate), n // 3))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, edge))
    envelope[: ramp.size] *= ramp
    envelope[n - ramp.size :] *= ramp[::-1]
    result: npt.NDArray[np.float64] = wave * envelope
    return result
