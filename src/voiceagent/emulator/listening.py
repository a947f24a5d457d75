"""Listening: transcribing the user's speech with pocketsphinx, and filler words.

When no ``user_says`` transcript covers a speech turn, the emulator can transcribe the turn's
audio with pocketsphinx (its wheel ships an English acoustic model, language model and
dictionary; ``pip install 'voiceagent[speech]'``). It is a small offline recogniser: good enough
for rules that look for a keyword, not for dictation (see the figures in ``docs/emulator.md``).
pocketsphinx is imported only when a turn is transcribed. Decoding costs a fraction of real
time and runs in a worker thread, so other connections keep streaming meanwhile.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import threading
from typing import Any

__all__ = [
    "FILLER_WORDS",
    "LISTEN_MODES",
    "RecognizerUnavailableError",
    "SpeechUnavailableError",
    "is_filler_only",
    "listen_mode",
    "recognizer_available",
    "strip_fillers",
    "transcribe",
]

LISTEN_MODES = ("auto", "on", "off")

FILLER_WORDS = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "ahh", "eh", "hm", "hmm", "mm", "mhm"}
)
"""Words that ``remove_filler_words`` removes; an utterance of only these is filler."""

_WORD = re.compile(r"[A-Za-z']+")
_RECOGNIZER_RATE = 16000


class SpeechUnavailableError(RuntimeError):
    """A speech package the emulator was told to use is missing."""


class RecognizerUnavailableError(SpeechUnavailableError):
    """pocketsphinx is not installed (``pip install 'voiceagent[speech]'``)."""


def listen_mode(value: str | bool) -> str:
    """Normalise an ``Emulator(listen=...)`` value to ``"auto"``, ``"on"`` or ``"off"``.

    Raises:
        ValueError: Anything else.
    """
    if value is True:
        return "on"
    if value is False:
        return "off"
    if value in LISTEN_MODES:
        return str(value)
    raise ValueError(f"unknown listen mode {value!r}; expected auto, on, off, True or False")


@functools.lru_cache(maxsize=1)
def recognizer_available() -> bool:
    """True when pocketsphinx is installed (checked once, without importing it)."""
    return importlib.util.find_spec("pocketsphinx") is not None


def is_filler_only(text: str) -> bool:
    """True when ``text`` has words and all of them are filler words (``"um, uh..."``)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return bool(words) and all(w in FILLER_WORDS for w in words)


def strip_fillers(text: str) -> str:
    """``text`` without filler words (and the punctuation and spaces around them)."""
    kept = [
        token for token in text.split() if token.strip(".,;:!?\"'()-").lower() not in FILLER_WORDS
    ]
    return " ".join(kept)


_lock = threading.Lock()
_decoder: Any = None


def _get_decoder() -> Any:
    global _decoder
    if _decoder is None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise RecognizerUnavailableError(
                "pocketsphinx is not installed: pip install 'voiceagent[speech]'"
            ) from exc
        _decoder = Decoder(samprate=_RECOGNIZER_RATE, loglevel="FATAL")
    return _decoder


def transcribe(pcm: bytes, sample_rate: int) -> str:
    """The words in PCM16 mono ``pcm`` at ``sample_rate`` ("" when none are recognised).

    Thread-safe (calls are serialised); blocking: run it in a worker thread.

    Raises:
        RecognizerUnavailableError: pocketsphinx is not installed.
    """
    import numpy as np

    from .voices import resample

    samples = resample(
        np.frombuffer(pcm, dtype="<i2").astype(np.float64), sample_rate, _RECOGNIZER_RATE
    )
    # Dither (+-1 LSB): synthetic and gated audio has stretches of digital silence that the
    # model's noise estimate handles badly (measured: word error rate 0.65 -> 0.53). Seeded by
    # the audio's length, so the same audio always gives the same transcript.
    samples += np.random.default_rng(samples.size).uniform(-1.0, 1.0, samples.size)
    audio = np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
    with _lock:
        decoder = _get_decoder()
        decoder.start_utt()
        decoder.process_raw(audio, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
    return str(hypothesis.hypstr) if hypothesis is not None else ""
