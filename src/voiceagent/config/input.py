"""What the service does with the user's audio: turn detection and transcription."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, model_validator

from ..protocol.names import TURN_DETECTION_TYPES
from ._base import ConfigModel, Name, one_of

__all__ = ["EndOfUtteranceDetection", "InputTranscription", "TurnDetection"]

# Turn detection type -> the TurnDetection fields it does not have.
_NOT_FOR: dict[str, tuple[str, ...]] = {
    "server_vad": ("speech_duration_ms", "remove_filler_words", "languages", "eagerness"),
    "semantic_vad": (
        "threshold",
        "prefix_padding_ms",
        "silence_duration_ms",
        "end_of_utterance_detection",
        "speech_duration_ms",
        "remove_filler_words",
        "languages",
    ),
    "azure_semantic_vad": ("eagerness",),
    "azure_semantic_vad_multilingual": ("eagerness",),
    "azure_semantic_vad_en": ("languages", "eagerness"),
}


class EndOfUtteranceDetection(ConfigModel):
    """Semantic end-of-utterance detection on top of VAD.

    Attributes:
        model: ``semantic_detection_v1``, ``semantic_detection_v1_en`` or
            ``semantic_detection_v1_multilingual``.
        threshold_level: ``low``, ``medium``, ``high`` or ``default``.
        timeout_ms: Longest wait for the end of an utterance, in ms.
    """

    model: Literal[
        "semantic_detection_v1", "semantic_detection_v1_en", "semantic_detection_v1_multilingual"
    ] = "semantic_detection_v1"
    threshold_level: Literal["low", "medium", "high", "default"] | None = None
    timeout_ms: StrictInt | None = Field(default=None, gt=0)


class TurnDetection(ConfigModel):
    """Server-side turn detection (``SessionOptions(turn_detection=None)`` disables it).

    Unset fields use the service's defaults.

    Attributes:
        type: ``server_vad``, ``semantic_vad``, ``azure_semantic_vad``,
            ``azure_semantic_vad_multilingual`` or ``azure_semantic_vad_en``.
        threshold: Speech probability threshold, 0..1.
        prefix_padding_ms: Audio kept before detected speech, in ms.
        silence_duration_ms: Silence that ends a turn, in ms.
        auto_truncate: Let the service truncate the interrupted assistant item itself.
        create_response: Start a response when a turn ends.
        interrupt_response: Cancel the playing response when the user starts speaking.
        end_of_utterance_detection: Semantic end-of-utterance detection.
        speech_duration_ms: Minimum speech to start a turn, in ms (Azure semantic VADs only).
        remove_filler_words: Ignore filler words such as "um" (Azure semantic VADs only).
        languages: Expected languages (``azure_semantic_vad`` and ``..._multilingual`` only).
        eagerness: How soon to answer, ``low``, ``medium``, ``high`` or ``auto``
            (``semantic_vad`` only).
    """

    type: Annotated[str, one_of(TURN_DETECTION_TYPES, "a turn detection type")] = "server_vad"
    threshold: StrictFloat | None = Field(default=None, ge=0, le=1)
    prefix_padding_ms: StrictInt | None = Field(default=None, ge=0)
    silence_duration_ms: StrictInt | None = Field(default=None, ge=0)
    auto_truncate: StrictBool | None = None
    create_response: StrictBool | None = None
    interrupt_response: StrictBool | None = None
    end_of_utterance_detection: EndOfUtteranceDetection | None = None
    speech_duration_ms: StrictInt | None = Field(default=None, ge=0)
    remove_filler_words: StrictBool | None = None
    languages: tuple[Name, ...] | None = None
    eagerness: Literal["low", "medium", "high", "auto"] | None = None

    @model_validator(mode="after")
    def _fields_fit_type(self) -> TurnDetection:
        wrong = [f for f in _NOT_FOR.get(self.type, ()) if getattr(self, f) is not None]
        if wrong:
            fit = [t for t, absent in _NOT_FOR.items() if not set(wrong) & set(absent)]
            them = "it" if len(wrong) == 1 else "them"
            instead = f"use type {' or '.join(repr(t) for t in fit)}, or " if fit else ""
            raise ValueError(
                f"{', '.join(wrong)} not supported by turn detection {self.type!r}; "
                f"{instead}remove {them}"
            )
        return self


class InputTranscription(ConfigModel):
    """Transcription of the user's audio (``conversation.item.input_audio_transcription.*``).

    Attributes:
        model: e.g. ``azure-speech``, ``whisper-1``, ``gpt-4o-transcribe``,
            ``gpt-4o-mini-transcribe``.
        language: BCP-47 or ISO-639-1 code, or several comma-separated for auto-detection.
        phrase_list: Phrase hints to bias recognition.
    """

    model: Name
    language: Name | None = None
    phrase_list: tuple[Name, ...] | None = None
