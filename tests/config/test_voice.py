"""The voice rule and voice objects."""

from __future__ import annotations

import pytest

from voiceagent.config import (
    AzureCustomVoiceConfig,
    AzurePersonalVoiceConfig,
    AzureStandardVoiceConfig,
    OpenAIVoiceConfig,
    SessionOptions,
    resolve_voice,
)
from voiceagent.errors import ConfigError

# --------------------------------------------------------------------------- voice rule


@pytest.mark.parametrize(
    "name",
    [
        "alloy",
        "ash",
        "ballad",
        "coral",
        "echo",
        "sage",
        "shimmer",
        "verse",
        "marin",
        "cedar",
        "Alloy",
    ],
)
def test_openai_voice_names(name: str) -> None:
    assert resolve_voice(name) == OpenAIVoiceConfig(name=name.lower())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "en-US-Ava:DragonHDLatestNeural",
        "en-US-JennyNeural",
        "en-US-AvaMultilingualNeural",
        "zh-CN-XiaoxiaoNeural",
        "zh-CN-shaanxi-XiaoniNeural",
        "sr-Latn-RS-NicholasNeural",
        "wuu-CN-XiaotongNeural",
        "de-DE-Seraphina:DragonHDLatestNeural",
    ],
)
def test_azure_neural_voice_names(name: str) -> None:
    assert resolve_voice(name) == AzureStandardVoiceConfig(name=name)


@pytest.mark.parametrize(
    "name",
    [
        "nova",
        "en-US-Jenny",
        "my-custom-voice",
        "en-us-jennyneural",
        "Jenny",
        "en-US-:Neural",
        "a-b",
    ],
)
def test_unrecognised_voice_names_list_the_accepted_forms(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_voice(name)
    message = str(info.value)
    for form in ("alloy", "en-US-Ava:DragonHDLatestNeural", "voice_endpoint_id", "azure-personal"):
        assert form in message


def test_any_name_with_endpoint_id_is_a_custom_voice() -> None:
    voice = resolve_voice("my-custom-voice", endpoint_id="ep-1", style="cheerful")
    assert voice == AzureCustomVoiceConfig(
        name="my-custom-voice", endpoint_id="ep-1", style="cheerful"
    )


def test_voice_settings_in_session_options() -> None:
    options = SessionOptions(
        voice="en-US-Ava:DragonHDLatestNeural",
        voice_temperature=0.4,
        voice_rate="1.1",
        voice_pitch="+5%",
        voice_style="cheerful",
        voice_volume="+10%",
        voice_locale="en-GB",
    )
    assert options.voice == "en-US-Ava:DragonHDLatestNeural"
    assert options.resolved_voice() == AzureStandardVoiceConfig(
        name="en-US-Ava:DragonHDLatestNeural",
        temperature=0.4,
        rate="1.1",
        pitch="+5%",
        style="cheerful",
        volume="+10%",
        locale="en-GB",
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"voice": "alloy", "voice_rate": "1.2"}, "applies to Azure voices only"),
        ({"voice_style": "cheerful"}, "need a voice name"),
        ({"voice": "nova"}, "not a recognised voice"),
        ({"voice": ""}, "must not be empty"),
        ({"voice": {"name": "x"}}, "needs a 'type'"),
        ({"voice": {"type": "azure-standard", "name": "x", "temperature": 3}}, "temperature"),
        ({"voice": {"type": "openai", "name": "nova"}}, "voice"),
        ({"voice": {"type": "azure-custom", "name": "x"}}, "endpoint_id"),
        (
            {"voice": {"type": "azure-standard", "name": "x"}, "voice_style": "calm"},
            "set them on that object",
        ),
        ({"voice": "en-US-JennyNeural", "voice_temperature": 1.5}, "voice_temperature"),
    ],
)
def test_voice_validation(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        SessionOptions(**fields)  # type: ignore[arg-type]


def test_explicit_voice_objects_dicts_and_sdk_models() -> None:
    from azure.ai.voicelive.models import AzurePersonalVoice

    personal = {"type": "azure-personal", "name": "speaker-1", "model": "DragonLatestNeural"}
    assert SessionOptions(voice=personal).resolved_voice() == AzurePersonalVoiceConfig(
        name="speaker-1", model="DragonLatestNeural"
    )
    sdk = AzurePersonalVoice(name="speaker-1", model="DragonLatestNeural")
    assert SessionOptions(voice=sdk).resolved_voice() == AzurePersonalVoiceConfig(  # type: ignore[arg-type]
        name="speaker-1", model="DragonLatestNeural"
    )
    typed = AzureStandardVoiceConfig(name="anything-goes", style="calm")
    assert SessionOptions(voice=typed).resolved_voice() is typed


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("en-US-Jenny", "did you mean 'en-US-JennyNeural'?"),
        ("en-US-Ava:DragonHDLatest", "did you mean 'en-US-Ava:DragonHDLatestNeural'?"),
        ("alloyy", "did you mean 'alloy'?"),
        ("Shimer", "did you mean 'shimmer'?"),
    ],
)
def test_near_miss_voice_names_suggest_the_intended_one(name: str, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        SessionOptions(voice=name)
    assert str(info.value).startswith(f"invalid SessionOptions: voice {name!r} is not a recognised")
    assert hint in str(info.value)


def test_wrong_openai_voice_in_an_object_lists_the_names() -> None:
    with pytest.raises(ConfigError) as info:
        SessionOptions(voice={"type": "openai", "name": "nova"})
    assert str(info.value) == (
        "invalid SessionOptions: voice: name: 'nova' is not an OpenAI voice; use one of alloy, "
        "ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar"
    )


def test_voice_from_env_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="VOICE_NAME") as info:
        SessionOptions.from_env({"VOICE_NAME": "nova"})
    assert "not a recognised voice" in str(info.value)
