"""build_request_session: SessionOptions -> the SDK RequestSession, in model and in agent mode.

(It tests :mod:`voiceagent.voicelive.requests`; it lives here, next to the options it converts.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.ai.voicelive import models as m
from azure.ai.voicelive.models import RequestSession

from config.full_session import FULL_SESSION_DICT, full_options
from voiceagent.config import SessionOptions, StaticInterimResponse, TurnDetection
from voiceagent.voicelive.requests import build_request_session

AUDIO_ONLY = {
    "input_audio_format": "pcm16",
    "input_audio_sampling_rate": 24000,
    "output_audio_format": "pcm16",
}
"""What agent mode sends for ``SessionOptions()``: the audio formats, nothing else."""


def sent(options: SessionOptions, *, agent_mode: bool) -> dict[str, Any]:
    """The ``session`` body as it goes over the wire (JSON round trip)."""
    session = build_request_session(options, agent_mode=agent_mode)
    assert isinstance(session, RequestSession)
    result: dict[str, Any] = json.loads(json.dumps(session.as_dict()))
    return result


# --------------------------------------------------------------------------- model mode


def test_model_mode_defaults() -> None:
    assert sent(SessionOptions(), agent_mode=False) == {
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_noise_reduction": {"type": "azure_deep_noise_suppression"},
        "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
        "turn_detection": {"type": "server_vad"},
    }


def test_every_field_serialises_into_the_request_session() -> None:
    assert sent(full_options(), agent_mode=False) == FULL_SESSION_DICT


def test_turn_detection_disabled_is_sent_as_null() -> None:
    for agent_mode in (False, True):
        body = sent(SessionOptions(turn_detection=None), agent_mode=agent_mode)
        assert "turn_detection" in body and body["turn_detection"] is None


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("server_vad", m.ServerVad),
        ("azure_semantic_vad", m.AzureSemanticVad),
        ("azure_semantic_vad_multilingual", m.AzureSemanticVadMultilingual),
        ("azure_semantic_vad_en", m.AzureSemanticVadEn),
    ],
)
def test_turn_detection_types_map_to_sdk_classes(kind: str, expected: type) -> None:
    session = build_request_session(SessionOptions(turn_detection=kind), agent_mode=False)
    assert isinstance(session.turn_detection, expected)
    assert session.as_dict()["turn_detection"] == {"type": kind}


def test_semantic_vad_without_an_sdk_class_is_sent_as_a_plain_object() -> None:
    options = SessionOptions(
        turn_detection=TurnDetection(type="semantic_vad", eagerness="low", create_response=True)
    )
    assert sent(options, agent_mode=False)["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
    }


def test_off_switches_and_other_variants_serialise() -> None:
    options = SessionOptions(
        voice="alloy",
        noise_reduction=None,
        echo_cancellation=False,
        input_audio_format="g711_alaw",
        output_audio_format="g711_ulaw",
        max_response_output_tokens="inf",
        interim_response=StaticInterimResponse(texts=("One moment.",), triggers=("latency",)),
        tool_choice="auto",
        voice_endpoint_id=None,
    )
    assert sent(options, agent_mode=False) == {
        "voice": {"type": "openai", "name": "alloy"},
        "input_audio_format": "g711_alaw",
        "output_audio_format": "g711_ulaw",
        "max_response_output_tokens": "inf",
        "interim_response": {
            "type": "static_interim_response",
            "texts": ["One moment."],
            "triggers": ["latency"],
        },
        "tool_choice": "auto",
        "turn_detection": {"type": "server_vad"},
    }
    custom = SessionOptions(voice="MyBrandVoice", voice_endpoint_id="ep-42")
    assert sent(custom, agent_mode=False)["voice"] == {
        "type": "azure-custom",
        "name": "MyBrandVoice",
        "endpoint_id": "ep-42",
    }


@pytest.mark.parametrize(
    "fmt", ["pcm16_22050hz", "pcm16_24000hz", "pcm16_44100hz", "pcm16_48000hz"]
)
def test_the_newer_output_formats_are_sent_as_given(fmt: str) -> None:
    assert (
        sent(SessionOptions(output_audio_format=fmt), agent_mode=False)["output_audio_format"]
        == fmt
    )


# --------------------------------------------------------------------------- agent mode


def test_agent_mode_default_options_send_only_the_audio_formats() -> None:
    """The agent's Voice Live settings in Foundry stand: no VAD, noise or echo override."""
    assert sent(SessionOptions(), agent_mode=True) == AUDIO_ONLY


def test_agent_mode_sends_the_audio_path_settings_even_when_defaulted() -> None:
    g711 = SessionOptions(input_audio_format="g711_ulaw", output_audio_format="g711_alaw")
    assert sent(g711, agent_mode=True) == {
        "input_audio_format": "g711_ulaw",
        "input_audio_sampling_rate": 8000,
        "output_audio_format": "g711_alaw",
    }
    rate = SessionOptions(input_audio_sampling_rate=16000, output_audio_format="pcm16_16000hz")
    assert sent(rate, agent_mode=True) == {
        "input_audio_format": "pcm16",
        "input_audio_sampling_rate": 16000,
        "output_audio_format": "pcm16_16000hz",
    }


def test_agent_mode_sends_what_the_app_set_and_nothing_else() -> None:
    options = SessionOptions(
        voice="en-US-Ava:DragonHDLatestNeural",
        voice_rate="1.1",
        turn_detection=TurnDetection(silence_duration_ms=300),
    )
    assert sent(options, agent_mode=True) == {
        **AUDIO_ONLY,
        "voice": {
            "type": "azure-standard",
            "name": "en-US-Ava:DragonHDLatestNeural",
            "rate": "1.1",
        },
        # A nested object is a whole value: its type (a default) is part of it.
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 300},
    }


def test_agent_mode_sends_an_explicit_default_value() -> None:
    """Setting a field to its default value is still a choice the app made."""
    options = SessionOptions(
        noise_reduction="azure_deep_noise_suppression",
        echo_cancellation=True,
        turn_detection=TurnDetection(),
    )
    assert sent(options, agent_mode=True) == {
        **AUDIO_ONLY,
        "input_audio_noise_reduction": {"type": "azure_deep_noise_suppression"},
        "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
        "turn_detection": {"type": "server_vad"},
    }


def test_agent_mode_explicit_off_switches_are_sent_as_null() -> None:
    options = SessionOptions(noise_reduction=None, echo_cancellation=False, turn_detection=None)
    assert sent(options, agent_mode=True) == {
        **AUDIO_ONLY,
        "input_audio_noise_reduction": None,
        "input_audio_echo_cancellation": None,
        "turn_detection": None,
    }
    # Model mode keeps its old meaning: off is simply not sent (the service default is off).
    assert sent(options, agent_mode=False) == {
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "turn_detection": None,
    }


def test_agent_mode_explicit_none_of_an_ordinary_field_is_not_sent() -> None:
    options = SessionOptions(instructions=None, voice=None, temperature=None, tools=())
    assert sent(options, agent_mode=True) == AUDIO_ONLY


def test_agent_mode_with_every_field_set_sends_them_all() -> None:
    assert sent(full_options(), agent_mode=True) == FULL_SESSION_DICT


def test_agent_mode_keeps_fields_set_through_from_env() -> None:
    options = SessionOptions.from_env({"VOICE_NAME": "alloy"}, temperature=0.7)
    assert sent(options, agent_mode=True) == {
        **AUDIO_ONLY,
        "voice": {"type": "openai", "name": "alloy"},
        "temperature": 0.7,
    }
