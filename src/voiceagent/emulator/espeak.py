"""espeak-ng through ctypes: synthesised speech with each word's and phoneme's timing.

The library comes from the ``espeakng-loader`` wheel (it ships ``libespeak-ng`` and its voice
data, so no system package is needed) or, failing that, from the Debian package
(``libespeak-ng1``, installed with ``espeak-ng``). espeak-ng keeps global state, so every call is
serialised by one lock; synthesis is fast (a sentence in a few tens of milliseconds).

This module is imported only when the emulator speaks with espeak-ng (never by
``import voiceagent.emulator``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .listening import SpeechUnavailableError

__all__ = [
    "DEFAULT_RATE_WPM",
    "DEFAULT_VOICE",
    "EspeakResult",
    "EspeakUnavailableError",
    "available",
    "synthesize_espeak",
]

DEFAULT_VOICE = "en-us+f2"
"""The emulator's espeak-ng voice: US English with the "f2" variant. Of the variants measured
(bench/emulator_speech.py), it is the one pocketsphinx understands best by far (word error rate
about 0.25 against 0.7 for the plain ``en-us`` voice)."""

DEFAULT_RATE_WPM = 150
"""Speaking rate in words per minute (a calm assistant; espeak-ng's own default is 175)."""

# espeak_AUDIO_OUTPUT, options, events, flags and parameters from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_END = 5
_EVENT_MSG_TERMINATED = 6
_EVENT_PHONEME = 7
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAM_RATE = 1

_DEBIAN_DATA_DIRS = (
    "/usr/lib/x86_64-linux-gnu/espeak-ng-data",
    "/usr/lib/aarch64-linux-gnu/espeak-ng-data",
    "/usr/share/espeak-ng-data",
)


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class EspeakUnavailableError(SpeechUnavailableError):
    """Neither the ``espeakng-loader`` wheel nor a system ``libespeak-ng`` could be loaded."""


@dataclass(frozen=True)
class EspeakResult:
    """One synthesis.

    Attributes:
        pcm: PCM16 little-endian mono at ``sample_rate``.
        sample_rate: espeak-ng's rate (22050 Hz).
        words: ``(text_offset, length, audio_ms)`` per word event: the word's first character
            (0-based, in characters), its length in characters and its start in the audio.
        phonemes: ``(audio_ms, name)`` per phoneme event (espeak mnemonics; pauses start
            with ``_``).
        end_ms: The end of the speech in the audio.
    """

    pcm: bytes
    sample_rate: int
    words: tuple[tuple[int, int, int], ...]
    phonemes: tuple[tuple[int, str], ...]
    end_ms: int


class _Engine:
    """The loaded library, initialised once for synchronous synthesis with phoneme events."""

    def __init__(self) -> None:
        lib, data = _load()
        self.lib = lib
        self.source = "espeakng-loader" if "espeakng_loader" in str(lib._name) else "system"
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        ]
        options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, options)
        if rate <= 0:
            raise EspeakUnavailableError(f"espeak_Initialize failed ({rate})")
        self.sample_rate = int(rate)
        self._chunks: list[bytes] = []
        self._words: list[tuple[int, int, int]] = []
        self._phonemes: list[tuple[int, str]] = []
        self._end_ms = 0
        self._callback = _CALLBACK(self._on_synth)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _on_synth(self, wav: Any, count: int, events: Any) -> int:
        if count > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_WORD:
                self._words.append((event.text_position - 1, event.length, event.audio_position))
            elif event.type == _EVENT_PHONEME:
                name = bytes(event.id.string).split(b"\0", 1)[0].decode("utf-8", "replace")
                self._phonemes.append((event.audio_position, name))
            elif event.type in (_EVENT_END, _EVENT_MSG_TERMINATED):
                self._end_ms = max(self._end_ms, event.audio_position)
            i += 1
        return 0  # continue

    def synth(self, text: str, voice: str, rate_wpm: int) -> EspeakResult:
        if voice != self._voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakUnavailableError(f"espeak-ng has no voice {voice!r}")
            self._voice = voice
        self.lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
        self._chunks, self._words, self._phonemes, self._end_ms = [], [], [], 0
        data = text.encode("utf-8") + b"\0"
        buffer = ctypes.create_string_buffer(data)
        err = self.lib.espeak_Synth(
            buffer, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if err != 0:
            raise EspeakUnavailableError(f"espeak_Synth failed ({err})")
        self.lib.espeak_Synchronize()
        pcm = b"".join(self._chunks)
        end_ms = max(self._end_ms, 1000 * (len(pcm) // 2) // self.sample_rate)
        return EspeakResult(
            pcm, self.sample_rate, tuple(self._words), tuple(self._phonemes), end_ms
        )


def _load() -> tuple[ctypes.CDLL, bytes | None]:
    """The library and its data directory: the wheel first, then the system's."""
    errors: list[str] = []
    try:
        import espeakng_loader

        return ctypes.CDLL(espeakng_loader.get_library_path()), str(
            espeakng_loader.get_data_path()
        ).encode()
    except (ImportError, OSError, RuntimeError) as exc:
        errors.append(f"espeakng-loader: {exc}")
    for name in ("libespeak-ng.so.1", ctypes.util.find_library("espeak-ng")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
            continue
        data = next((d for d in _DEBIAN_DATA_DIRS if Path(d).is_dir()), None)
        return lib, (str(Path(data).parent).encode() if data else None)
    raise EspeakUnavailableError(
        "espeak-ng is not available (pip install 'voiceagent[speech]' or apt-get install "
        "espeak-ng): " + "; ".join(errors)
    )


_lock = threading.Lock()
_engine: _Engine | None = None
_failure: EspeakUnavailableError | None = None


def _get_engine() -> _Engine:
    global _engine, _failure
    if _engine is None:
        if _failure is not None:
            raise _failure
        try:
            _engine = _Engine()
        except EspeakUnavailableError as exc:
            _failure = exc
            raise
    return _engine


def available() -> bool:
    """True when espeak-ng can be loaded (loads it on first call)."""
    with _lock:
        try:
            _get_engine()
        except EspeakUnavailableError:
            return False
    return True


def source() -> str:
    """Where the library came from: ``"espeakng-loader"`` or ``"system"``.

    Raises:
        EspeakUnavailableError: espeak-ng cannot be loaded.
    """
    with _lock:
        return _get_engine().source


def synthesize_espeak(
    text: str, voice: str = DEFAULT_VOICE, rate_wpm: int = DEFAULT_RATE_WPM
) -> EspeakResult:
    """Speak ``text`` with espeak-ng (thread-safe; calls are serialised).

    Raises:
        EspeakUnavailableError: espeak-ng cannot be loaded or fails.
    """
    with _lock:
        return _get_engine().synth(text, voice, rate_wpm)
