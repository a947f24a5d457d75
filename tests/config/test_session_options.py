"""SessionOptions validation, derived rates and from_env."""

from __future__ import annotations

import pytest

from voiceagent.config import SessionOptions, TurnDetection
from voiceagent.errors import ConfigError


def test_session_defaults() -> None:
    options = SessionOptions()
    assert options.noise_reduction == "azure_deep_noise_suppression"
    assert options.echo_cancellation is True
    assert options.turn_detection == TurnDetection(type="server_vad")
    assert options.input_sample_rate == 24000 and options.output_sample_rate == 24000
    assert options.model_fields_set == set()


@pytest.mark.parametrize(
    ("fmt", "rate"),
    [
        ("pcm16", 24000),
        ("pcm16_8000hz", 8000),
        ("pcm16_16000hz", 16000),
        ("pcm16_22050hz", 22050),
        ("pcm16_24000hz", 24000),
        ("pcm16_44100hz", 44100),
        ("pcm16_48000hz", 48000),
        ("g711_ulaw", 8000),
        ("g711_alaw", 8000),
    ],
)
def test_output_sample_rate(fmt: str, rate: int) -> None:
    assert SessionOptions(output_audio_format=fmt).output_sample_rate == rate


@pytest.mark.parametrize(
    ("fmt", "rate", "ok"),
    [
        ("pcm16", 8000, True),
        ("pcm16", 16000, True),
        ("pcm16", 24000, True),
        ("pcm16", 44100, True),
        ("pcm16", 48000, False),
        ("g711_ulaw", 8000, True),
        ("g711_alaw", 8000, True),
        ("g711_ulaw", 16000, False),
        ("g711_alaw", 24000, False),
    ],
)
def test_input_sampling_rate_per_format(fmt: str, rate: int, ok: bool) -> None:
    if ok:
        options = SessionOptions(input_audio_format=fmt, input_audio_sampling_rate=rate)
        assert options.input_sample_rate == rate
    else:
        with pytest.raises(ConfigError, match=f"{rate} is not supported with input_audio_format"):
            SessionOptions(input_audio_format=fmt, input_audio_sampling_rate=rate)


def test_g711_input_defaults_to_8000() -> None:
    assert SessionOptions(input_audio_format="g711_ulaw").input_sample_rate == 8000


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"silence_duration_ms": -1}, "silence_duration_ms"),
        ({"type": "server_vad", "remove_filler_words": True}, "not supported by turn detection"),
        ({"type": "azure_semantic_vad_en", "languages": ["en"]}, "languages not supported"),
        ({"type": "semantic"}, "'semantic' is not a turn detection type"),
        ({"type": "server_vad", "eagerness": "low"}, "eagerness not supported"),
        ({"type": "semantic_vad", "threshold": 0.5}, "use type 'server_vad' or"),
        ({"threshold": True}, "threshold: must be a number, not a bool"),
        ({"silence_duration_ms": 300.0}, "silence_duration_ms"),
        ({"create_response": "yes"}, "create_response"),
        ({"treshold": 0.5}, "did you mean 'threshold'"),
    ],
)
def test_turn_detection_validation(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        SessionOptions(turn_detection=fields)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=expected):
        TurnDetection(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"input_audio_format": "wav"}, "input_audio_format"),
        ({"output_audio_format": "mp3"}, "output_audio_format"),
        ({"output_audio_format": "pcm16_16khz"}, "did you mean 'pcm16_16000hz'"),
        ({"modalities": []}, "modalit"),
        ({"modalities": ["audio", "audio"]}, "modalit"),
        ({"modalities": ["video"]}, "modalities"),
        ({"temperature": 1.5}, "temperature"),
        ({"temperature": True}, "temperature: must be a number, not a bool"),
        ({"temperature": "0.7"}, "temperature"),
        ({"voice_temperature": False, "voice": "en-US-JennyNeural"}, "not a bool"),
        ({"max_response_output_tokens": True}, "positive whole number of tokens or 'inf'"),
        ({"max_response_output_tokens": 10.5}, "positive whole number"),
        ({"input_audio_sampling_rate": True}, "whole number of Hz"),
        ({"input_audio_sampling_rate": 16000.0}, "whole number of Hz"),
        ({"echo_cancellation": 1}, "echo_cancellation"),
        ({"max_response_output_tokens": 0}, "positive"),
        ({"max_response_output_tokens": "unlimited"}, "max_response_output_tokens"),
        ({"noise_reduction": "loud"}, "noise_reduction"),
        ({"instructions": "   "}, "instructions: must not be empty"),
        ({"input_transcription": ""}, "input_transcription: model: must not be empty"),
        ({"interim_response": {"type": "static_interim_response", "texts": []}}, "texts"),
        ({"interim_response": {"type": "llm_interim_response", "triggers": ["slow"]}}, "triggers"),
        ({"interim_response": {"type": "llm_interim_response", "triggers": []}}, "at least one"),
        ({"tools": [{"name": "has space"}]}, "not a valid tool name"),
        ({"tools": [{"name": "f", "parameters": {"properties": {}}}]}, '"type": "object"'),
        ({"tools": [{"name": "f"}, {"name": "f"}]}, "unique"),
        ({"tool_choice": "lookup"}, "tool_choice 'lookup'"),
        ({"voise": "alloy"}, "unknown field 'voise' \\(did you mean 'voice'\\?\\)"),
    ],
)
def test_session_validation(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        SessionOptions(**fields)  # type: ignore[arg-type]
    assert str(info.value).startswith("invalid SessionOptions")


def test_model_validate_also_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown field"):
        SessionOptions.model_validate({"bogus": 1})


def test_session_from_env_reads_voice_name() -> None:
    options = SessionOptions.from_env({"VOICE_NAME": "en-US-JennyNeural"}, instructions="Hi")
    assert options.voice == "en-US-JennyNeural" and options.instructions == "Hi"
    assert SessionOptions.from_env({"VOICE_NAME": "x"}, voice="alloy").voice == "alloy"
    with pytest.raises(ConfigError, match="VOICE_NAME"):
        SessionOptions.from_env({"VOICE_NAME": "not-a-voice"})
    with pytest.raises(ConfigError, match="VOICE_NAME is set but empty"):
        SessionOptions.from_env({"VOICE_NAME": ""})


def test_a_bad_output_format_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        SessionOptions(output_audio_format="mp3")
    assert str(info.value) == (
        "invalid SessionOptions: output_audio_format: 'mp3' is not an output audio format; use "
        "one of pcm16, pcm16_8000hz, pcm16_16000hz, pcm16_22050hz, pcm16_24000hz, "
        "pcm16_44100hz, pcm16_48000hz, g711_ulaw, g711_alaw"
    )


def test_bool_is_not_a_number_messages() -> None:
    with pytest.raises(ConfigError) as info:
        SessionOptions(temperature=True)
    assert str(info.value) == (
        "invalid SessionOptions: temperature: must be a number, not a bool (got True)"
    )
    with pytest.raises(ConfigError) as info:
        SessionOptions(max_response_output_tokens=True)
    assert str(info.value) == (
        "invalid SessionOptions: max_response_output_tokens: must be a positive whole number "
        "of tokens or 'inf' (got True)"
    )


def test_whole_numbers_are_numbers() -> None:
    assert SessionOptions(temperature=1).temperature == 1
    assert SessionOptions(max_response_output_tokens=1).max_response_output_tokens == 1


def test_semantic_vad_and_eagerness() -> None:
    td = TurnDetection(type="semantic_vad", eagerness="high", interrupt_response=True)
    assert SessionOptions(turn_detection=td).turn_detection == td
