"""The effective session configuration: defaults, merging of ``session.update``, validation."""

from __future__ import annotations

import copy
from typing import Any

from voiceagent.protocol.formats import INPUT_FORMATS, INPUT_SAMPLE_RATES, OUTPUT_FORMATS
from voiceagent.protocol.names import MODALITIES, OPENAI_VOICES, TURN_DETECTION_TYPES, VOICE_TYPES

__all__ = [
    "DEFAULT_VOICE",
    "ConfigError",
    "default_config",
    "default_turn_detection",
    "input_sample_rate",
    "merge_update",
]

DEFAULT_VOICE: dict[str, Any] = {"type": "azure-standard", "name": "en-US-Ava:DragonHDLatestNeural"}


class ConfigError(ValueError):
    """An invalid ``session.update``; ``param`` names the offending field."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def default_turn_detection(kind: str = "server_vad") -> dict[str, Any]:
    """The defaults of a ``turn_detection`` of type ``kind``."""
    return {
        "type": kind,
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "create_response": True,
        "interrupt_response": True,
        "auto_truncate": False,
    }


def default_config(session_id: str, model: str | None) -> dict[str, Any]:
    """The configuration a new session starts with (what ``session.created`` reports)."""
    return {
        "id": session_id,
        "object": "realtime.session",
        "model": model,
        "modalities": ["text", "audio"],
        "instructions": "",
        "voice": dict(DEFAULT_VOICE),
        "input_audio_format": "pcm16",
        "input_audio_sampling_rate": 24000,
        "output_audio_format": "pcm16",
        "input_audio_noise_reduction": None,
        "input_audio_echo_cancellation": None,
        "input_audio_transcription": None,
        "turn_detection": default_turn_detection(),
        "tools": [],
        "tool_choice": "auto",
        "temperature": 0.8,
        "max_response_output_tokens": "inf",
    }


def input_sample_rate(config: dict[str, Any]) -> int:
    """Input sample rate in Hz: G.711 is always 8 kHz."""
    if config["input_audio_format"] != "pcm16":
        return 8000
    return int(config["input_audio_sampling_rate"])


def merge_update(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Return the config after ``session.update {session: update}``; raise :class:`ConfigError`.

    Top-level fields replace the current ones; ``turn_detection`` is merged over the defaults of
    its type (``null`` disables it). Unknown and mistyped fields were refused before
    (:func:`.schema.check_session_update`).
    """
    if not isinstance(update, dict):
        raise ConfigError("session", "session must be an object")
    merged = copy.deepcopy(current)
    for key, value in update.items():
        if key in ("id", "object", "agent"):
            continue  # server-owned
        merged[key] = copy.deepcopy(value)
    if "turn_detection" in update and update["turn_detection"] is not None:
        td = update["turn_detection"]
        if not isinstance(td, dict):
            raise ConfigError("session.turn_detection", "turn_detection must be an object or null")
        kind = td.get("type", "server_vad")
        merged["turn_detection"] = {**default_turn_detection(str(kind)), **td}
    input_format = merged.get("input_audio_format")
    if input_format in ("g711_ulaw", "g711_alaw") and "input_audio_sampling_rate" not in update:
        merged["input_audio_sampling_rate"] = 8000
    _validate(merged)
    return merged


def _validate(config: dict[str, Any]) -> None:
    fmt = config.get("input_audio_format")
    if fmt not in INPUT_FORMATS:
        raise ConfigError(
            "session.input_audio_format",
            f"Invalid input_audio_format {fmt!r}; expected one of {', '.join(INPUT_FORMATS)}.",
        )
    rate = config.get("input_audio_sampling_rate")
    allowed = INPUT_SAMPLE_RATES[str(fmt)]
    if rate not in allowed:
        raise ConfigError(
            "session.input_audio_sampling_rate",
            f"Invalid input_audio_sampling_rate {rate!r} for {fmt}; expected one of "
            f"{', '.join(str(r) for r in allowed)}.",
        )
    out = config.get("output_audio_format")
    if out not in OUTPUT_FORMATS:
        raise ConfigError(
            "session.output_audio_format",
            f"Invalid output_audio_format {out!r}; expected one of {', '.join(OUTPUT_FORMATS)}.",
        )
    modalities = config.get("modalities")
    if not isinstance(modalities, list) or not all(m in MODALITIES for m in modalities):
        raise ConfigError("session.modalities", f"Invalid modalities {modalities!r}.")
    _validate_voice(config.get("voice"))
    td = config.get("turn_detection")
    if td is not None:
        _validate_turn_detection(td)


def _validate_voice(voice: Any) -> None:
    if isinstance(voice, str):
        if voice not in OPENAI_VOICES:
            raise ConfigError("session.voice", f"Unknown voice {voice!r}.")
        return
    if not isinstance(voice, dict) or voice.get("type") not in VOICE_TYPES or not voice.get("name"):
        raise ConfigError(
            "session.voice",
            f"Invalid voice {voice!r}; expected an OpenAI voice name or "
            f"{{type: {'|'.join(VOICE_TYPES)}, name}}.",
        )


def _validate_turn_detection(td: dict[str, Any]) -> None:
    if td.get("type") not in TURN_DETECTION_TYPES:
        raise ConfigError(
            "session.turn_detection.type",
            f"Invalid turn_detection type {td.get('type')!r}; expected one of "
            f"{', '.join(TURN_DETECTION_TYPES)}.",
        )
    threshold = td.get("threshold")
    if (
        not isinstance(threshold, (int, float))
        or isinstance(threshold, bool)
        or not 0 <= threshold <= 1
    ):
        raise ConfigError(
            "session.turn_detection.threshold",
            f"threshold must be in [0.0, 1.0], got {threshold!r}.",
        )
    for key in ("prefix_padding_ms", "silence_duration_ms"):
        value = td.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10000:
            raise ConfigError(
                f"session.turn_detection.{key}",
                f"{key} must be an integer in [0, 10000], got {value!r}.",
            )
