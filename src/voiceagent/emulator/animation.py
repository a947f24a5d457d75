"""Word timestamps and visemes for a response's speech.

``response.audio_timestamp.delta`` (when the session's ``output_audio_timestamp_types`` has
``"word"``) gives every spoken word's exact place in the audio. ``response.animation_viseme.delta``
(when ``animation.outputs`` has ``"viseme_id"``) gives mouth shapes over the same timings: each
letter of a word maps to one of Azure's 22 viseme ids (0 is silence) for its share of the word's
time, repeats merged, and viseme 0 follows every word; with espeak-ng they come from the
synthesiser's phonemes instead. Both are sent with the word's transcript
delta, so they never run ahead of the audio by more than one audio delta.
"""

from __future__ import annotations

import math
from typing import Any

from .voice import Speech

__all__ = ["AnimationEvents", "viseme_track", "word_text"]

_PUNCTUATION = ".,;:!?\"'()[]{}-"

# Letters to Azure viseme ids (en-US): 1 ae/ah, 2 aa, 4 eh/uh, 6 y/iy/ih, 7 w/uw, 8 ow, 12 h,
# 13 r, 14 l, 15 s/z, 16 sh/ch/jh, 18 f/v, 19 d/t/n/th, 20 k/g/ng, 21 p/b/m.
_VISEMES: dict[str, int] = {
    **dict.fromkeys("a", 2),
    **dict.fromkeys("e", 4),
    **dict.fromkeys("iy", 6),
    **dict.fromkeys("o", 8),
    **dict.fromkeys("uw", 7),
    **dict.fromkeys("h", 12),
    **dict.fromkeys("r", 13),
    **dict.fromkeys("l", 14),
    **dict.fromkeys("scz", 15),
    **dict.fromkeys("j", 16),
    **dict.fromkeys("fv", 18),
    **dict.fromkeys("dtn", 19),
    **dict.fromkeys("kgqx", 20),
    **dict.fromkeys("pbm", 21),
}


def word_text(speech: Speech, index: int) -> str:
    """The ``index``-th word as a timestamp reports it: without surrounding punctuation."""
    timing = speech.timings[index]
    word = speech.text[timing.start_char : timing.end_char]
    return word.strip(_PUNCTUATION) or word


def viseme_track(speech: Speech, index: int) -> list[tuple[int, int]]:
    """``(audio_offset_ms, viseme_id)`` for the ``index``-th word, ending with silence (0).

    With espeak-ng the visemes come from its phonemes: those from the word's start up to the
    next word's start (the pause after it included). Otherwise each letter gives one.
    """
    timing = speech.timings[index]
    if speech.visemes:
        begin = -1.0 if index == 0 else timing.start_ms
        end = speech.timings[index + 1].start_ms if index + 1 < len(speech.timings) else math.inf
        phonemes = [(ms, v) for ms, v in speech.visemes if begin <= ms < end]
        if not phonemes or phonemes[-1][1] != 0:
            phonemes.append((round(timing.start_ms + timing.duration_ms), 0))
        return phonemes
    word = speech.text[timing.start_char : timing.end_char]
    char_ms = timing.duration_ms / max(1, len(word))
    track: list[tuple[int, int]] = []
    for position, char in enumerate(word.lower()):
        if not char.isalpha():
            continue  # punctuation keeps the mouth where it was
        viseme = _VISEMES.get(char, 1)
        if track and track[-1][1] == viseme:
            continue
        track.append((round(timing.start_ms + position * char_ms), viseme))
    track.append((round(timing.start_ms + timing.duration_ms), 0))
    return track


class AnimationEvents:
    """The timestamp and viseme events of one audio content part.

    Args:
        config: The response's session config.
        speech: The speech being streamed.
        where: ``response_id``, ``item_id``, ``output_index`` and ``content_index``.
    """

    def __init__(self, config: dict[str, Any], speech: Speech, where: dict[str, Any]) -> None:
        types = config.get("output_audio_timestamp_types") or []
        animation = config.get("animation") or {}
        outputs = animation.get("outputs") if isinstance(animation, dict) else None
        self.timestamps = isinstance(types, list) and "word" in types
        self.visemes = isinstance(outputs, list) and "viseme_id" in outputs
        self._speech = speech
        self._where = where

    def for_word(self, index: int) -> list[dict[str, Any]]:
        """The events to send with the ``index``-th word's transcript delta."""
        events: list[dict[str, Any]] = []
        if self.timestamps:
            timing = self._speech.timings[index]
            events.append(
                {
                    "type": "response.audio_timestamp.delta",
                    **self._where,
                    "audio_offset_ms": round(timing.start_ms),
                    "audio_duration_ms": round(timing.duration_ms),
                    "text": word_text(self._speech, index),
                    "timestamp_type": "word",
                }
            )
        if self.visemes:
            events += [
                {
                    "type": "response.animation_viseme.delta",
                    **self._where,
                    "audio_offset_ms": offset,
                    "viseme_id": viseme,
                }
                for offset, viseme in viseme_track(self._speech, index)
            ]
        return events

    def done(self) -> list[dict[str, Any]]:
        """The ``.done`` events, sent after ``response.audio.done``."""
        events: list[dict[str, Any]] = []
        if self.timestamps:
            events.append({"type": "response.audio_timestamp.done", **self._where})
        if self.visemes:
            events.append({"type": "response.animation_viseme.done", **self._where})
        return events
