"""Pure configuration tests: validation messages, builders, env reading, SDK model conversion."""

from __future__ import annotations

import json

import pytest
from azure.ai.voicelive.models import RequestSession

from voiceagent.config import (
    DEFAULT_API_VERSION,
    AgentConfig,
    AzureCustomVoiceConfig,
    AzurePersonalVoiceConfig,
    AzureStandardVoiceConfig,
    ClassicAgentConfig,
    ConnectionConfig,
    FunctionTool,
    LlmInterimResponse,
    OpenAIVoiceConfig,
    ReconnectPolicy,
    SessionOptions,
    StaticInterimResponse,
    TurnDetection,
    resolve_voice,
)
from voiceagent.errors import ConfigError

# --------------------------------------------------------------------------- AgentConfig


def agent() -> AgentConfig:
    return AgentConfig(agent_name="concierge", project_name="contoso")


def test_agent_builders_return_new_objects_and_keep_the_original() -> None:
    base = agent()
    pinned = base.with_version("4")
    moved = pinned.with_resource_override("other-res", identity_client_id="mi-client")
    resumed = moved.resume("conv_abc")
    assert base.agent_version is None and base.conversation_id is None
    assert pinned.agent_version == "4"
    assert moved.foundry_resource_override == "other-res"
    assert moved.authentication_identity_client_id == "mi-client"
    assert resumed.to_connect_kwargs() == {
        "agent_name": "concierge",
        "project_name": "contoso",
        "agent_version": "4",
        "conversation_id": "conv_abc",
        "foundry_resource_override": "other-res",
        "authentication_identity_client_id": "mi-client",
    }
    assert resumed.new_conversation().conversation_id is None


def test_agent_is_frozen() -> None:
    with pytest.raises(Exception, match="frozen"):
        agent().agent_version = "5"  # type: ignore[misc]


def test_resource_override_without_identity_clears_the_old_identity() -> None:
    moved = agent().with_resource_override("a", identity_client_id="id-a")
    assert moved.with_resource_override("b").authentication_identity_client_id is None


def test_to_connect_kwargs_leaves_out_unset_fields_and_never_uses_agent_config() -> None:
    kwargs = agent().to_connect_kwargs()
    assert kwargs == {"agent_name": "concierge", "project_name": "contoso"}
    assert "agent_config" not in kwargs


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"agent_name": "a"}, "project_name missing"),
        ({"project_name": "p"}, "agent_name missing"),
        ({}, "agent_name and project_name missing"),
        ({"agent_name": "", "project_name": "p"}, "agent_name: must not be empty"),
        ({"agent_name": "a", "project_name": "   "}, "project_name: must not be empty"),
        ({"agent_name": "a ", "project_name": "p"}, "agent_name: has leading or trailing"),
        ({"agent_name": "a", "project_name": "p", "agent_version": ""}, "agent_version"),
        ({"agent_name": "a", "project_name": "p", "conversation_id": " "}, "conversation_id"),
        (
            {"agent_name": "a", "project_name": "p", "authentication_identity_client_id": "i"},
            "only used with foundry_resource_override",
        ),
        ({"agent_name": "a", "project_name": "p", "agent_versoin": "4"}, "did you mean"),
    ],
)
def test_agent_validation_messages(fields: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        AgentConfig(**fields)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("invalid AgentConfig")


def test_builders_validate_their_input() -> None:
    with pytest.raises(ConfigError, match="agent_version"):
        agent().with_version("")
    with pytest.raises(ConfigError, match="conversation_id"):
        agent().resume("  ")
    with pytest.raises(ConfigError, match="foundry_resource_override"):
        agent().with_resource_override("")


def test_agent_from_env_reads_every_variable() -> None:
    env = {
        "AGENT_NAME": "concierge",
        "PROJECT_NAME": "contoso",
        "AGENT_VERSION": "4",
        "CONVERSATION_ID": "conv_1",
        "FOUNDRY_RESOURCE_OVERRIDE": "res",
        "AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID": "cid",
        "UNRELATED": "x",
    }
    assert AgentConfig.from_env(env).to_connect_kwargs() == {
        "agent_name": "concierge",
        "project_name": "contoso",
        "agent_version": "4",
        "conversation_id": "conv_1",
        "foundry_resource_override": "res",
        "authentication_identity_client_id": "cid",
    }


def test_agent_from_env_uses_os_environ_by_default(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_NAME", "concierge")
    monkeypatch.setenv("PROJECT_NAME", "contoso")
    assert AgentConfig.from_env() == agent()


@pytest.mark.parametrize("var", ["AGENT_NAME", "PROJECT_NAME", "AGENT_VERSION", "CONVERSATION_ID"])
def test_agent_from_env_empty_variable_is_an_error_naming_it(var: str) -> None:
    env = {"AGENT_NAME": "a", "PROJECT_NAME": "p", var: ""}
    with pytest.raises(ConfigError, match=f"environment variable {var} is set but empty"):
        AgentConfig.from_env(env)


def test_agent_from_env_missing_and_inconsistent() -> None:
    with pytest.raises(ConfigError, match="AGENT_NAME and PROJECT_NAME not set"):
        AgentConfig.from_env({})
    with pytest.raises(ConfigError, match="PROJECT_NAME not set"):
        AgentConfig.from_env({"AGENT_NAME": "a"})
    env = {"AGENT_NAME": "a", "PROJECT_NAME": "p", "AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID": "c"}
    with pytest.raises(ConfigError, match="AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID") as info:
        AgentConfig.from_env(env)
    assert "foundry_resource_override" in str(info.value)


# --------------------------------------------------------------------------- ClassicAgentConfig


def test_classic_agent_scope_and_query_per_project_kind() -> None:
    foundry = ClassicAgentConfig(agent_id="asst_1", project_name="proj")
    hub = ClassicAgentConfig(agent_id="asst_1", connection_string="eastus.api.azureml.ms;s;r;p")
    assert foundry.token_scope == "https://ai.azure.com/.default"
    assert hub.token_scope == "https://ml.azure.com/.default"
    assert foundry.to_query("tok") == {
        "agent-id": "asst_1",
        "agent-project-name": "proj",
        "agent-access-token": "tok",
    }
    assert hub.to_query("tok") == {
        "agent-id": "asst_1",
        "agent-connection-string": "eastus.api.azureml.ms;s;r;p",
        "agent-access-token": "tok",
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"agent_id": "a"},
        {"agent_id": "a", "project_name": "p", "connection_string": "c"},
    ],
)
def test_classic_agent_needs_exactly_one_project(fields: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="exactly one of project_name"):
        ClassicAgentConfig(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ConnectionConfig


def test_connection_defaults() -> None:
    config = ConnectionConfig(endpoint="https://contoso.services.ai.azure.com")
    assert config.api_version == DEFAULT_API_VERSION == "2026-07-15"
    assert config.model is None and config.api_key is None
    assert config.reconnect == ReconnectPolicy()


def test_default_api_version_matches_the_sdk() -> None:
    import inspect

    from azure.ai.voicelive.aio import connect

    default = inspect.signature(connect).parameters["api_version"].default
    assert default == DEFAULT_API_VERSION


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://contoso.services.ai.azure.com",
        "https://contoso.cognitiveservices.azure.com/",
        "http://127.0.0.1:8765",
        "wss://example.org/base",
        "ws://localhost:1",
    ],
)
def test_valid_endpoints(endpoint: str) -> None:
    assert ConnectionConfig(endpoint=endpoint).endpoint == endpoint


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("", "must not be empty"),
        ("contoso.services.ai.azure.com", "not an http"),
        ("ftp://contoso", "not an http"),
        ("https://", "not an http"),
        (" https://contoso", "whitespace"),
        ("https://contoso/voice-live/realtime", "appends itself"),
    ],
)
def test_invalid_endpoints(endpoint: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        ConnectionConfig(endpoint=endpoint)
    assert (
        "https://<resource>.services.ai.azure.com" in str(info.value)
        or "suffix" in str(info.value)
        or "whitespace" in str(info.value)
    )


def test_endpoint_error_redacts_secrets_in_the_url() -> None:
    with pytest.raises(ConfigError) as info:
        ConnectionConfig(endpoint="ftp://h/?api-key=topsecretvalue")
    assert "topsecretvalue" not in str(info.value)


def test_api_key_is_never_shown() -> None:
    config = ConnectionConfig(endpoint="https://h", api_key="k3y-very-secret", model="gpt-realtime")
    for text in (repr(config), str(config), f"{config}", str(config.model_dump())):
        assert "k3y-very-secret" not in text
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == "k3y-very-secret"


def test_api_key_errors_do_not_echo_the_key() -> None:
    with pytest.raises(ConfigError, match="api_key") as info:
        ConnectionConfig(endpoint="https://h", api_key=" padded-secret-key ")
    assert "padded-secret-key" not in str(info.value)


def test_connection_from_env() -> None:
    env = {
        "AZURE_VOICELIVE_ENDPOINT": "https://b",
        "VOICELIVE_ENDPOINT": "https://a",
        "AZURE_VOICELIVE_API_KEY": "secret-key-123",
        "AZURE_VOICELIVE_MODEL": "gpt-realtime",
        "VOICELIVE_API_VERSION": "2026-04-10",
    }
    config = ConnectionConfig.from_env(env)
    assert config.endpoint == "https://a"  # VOICELIVE_ENDPOINT wins
    assert config.model == "gpt-realtime"
    assert config.api_version == "2026-04-10"
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == "secret-key-123"
    only_azure = ConnectionConfig.from_env({"AZURE_VOICELIVE_ENDPOINT": "https://b"})
    assert only_azure.endpoint == "https://b" and only_azure.api_key is None
    overridden = ConnectionConfig.from_env(env, model="gpt-4o-realtime", api_key=None)
    assert overridden.model == "gpt-4o-realtime" and overridden.api_key is None


def test_connection_from_env_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="VOICELIVE_ENDPOINT .*not set"):
        ConnectionConfig.from_env({})
    with pytest.raises(ConfigError, match="AZURE_VOICELIVE_API_KEY is set but empty"):
        ConnectionConfig.from_env(
            {"VOICELIVE_ENDPOINT": "https://a", "AZURE_VOICELIVE_API_KEY": ""}
        )
    with pytest.raises(ConfigError, match="endpoint <- VOICELIVE_ENDPOINT"):
        ConnectionConfig.from_env({"VOICELIVE_ENDPOINT": "nope"})


def test_reconnect_policy_validation() -> None:
    with pytest.raises(ConfigError, match="max_backoff"):
        ReconnectPolicy(initial_backoff=5, max_backoff=1)
    with pytest.raises(ConfigError, match="jitter"):
        ReconnectPolicy(jitter=2)
    with pytest.raises(ConfigError, match="handshake_timeout"):
        ConnectionConfig(endpoint="https://h", handshake_timeout=0)


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


# --------------------------------------------------------------------------- SessionOptions


def test_session_defaults() -> None:
    options = SessionOptions()
    assert options.noise_reduction == "azure_deep_noise_suppression"
    assert options.echo_cancellation is True
    assert options.turn_detection == TurnDetection(type="server_vad")
    assert options.input_sample_rate == 24000 and options.output_sample_rate == 24000
    assert options.to_request_session().as_dict() == {
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_noise_reduction": {"type": "azure_deep_noise_suppression"},
        "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
        "turn_detection": {"type": "server_vad"},
    }


@pytest.mark.parametrize(
    ("fmt", "rate"),
    [
        ("pcm16", 24000),
        ("pcm16_8000hz", 8000),
        ("pcm16_16000hz", 16000),
        ("g711_ulaw", 8000),
        ("g711_alaw", 8000),
    ],
)
def test_output_sample_rate(fmt: str, rate: int) -> None:
    assert SessionOptions(output_audio_format=fmt).output_sample_rate == rate  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fmt", "rate", "ok"),
    [
        ("pcm16", 8000, True),
        ("pcm16", 16000, True),
        ("pcm16", 24000, True),
        ("pcm16", 44100, False),
        ("g711_ulaw", 8000, True),
        ("g711_alaw", 8000, True),
        ("g711_ulaw", 16000, False),
        ("g711_alaw", 24000, False),
    ],
)
def test_input_sampling_rate_per_format(fmt: str, rate: int, ok: bool) -> None:
    if ok:
        options = SessionOptions(input_audio_format=fmt, input_audio_sampling_rate=rate)  # type: ignore[arg-type]
        assert options.input_sample_rate == rate
    else:
        with pytest.raises(ConfigError, match=f"{rate} is not supported with input_audio_format"):
            SessionOptions(input_audio_format=fmt, input_audio_sampling_rate=rate)  # type: ignore[arg-type]


def test_g711_input_defaults_to_8000() -> None:
    assert SessionOptions(input_audio_format="g711_ulaw").input_sample_rate == 8000


def test_turn_detection_disabled_is_sent_as_null() -> None:
    session = SessionOptions(turn_detection=None).to_request_session()
    assert json.loads(json.dumps(session.as_dict()))["turn_detection"] is None


@pytest.mark.parametrize(
    "kind",
    [
        "server_vad",
        "azure_semantic_vad",
        "azure_semantic_vad_multilingual",
        "azure_semantic_vad_en",
    ],
)
def test_turn_detection_types_map_to_sdk_classes(kind: str) -> None:
    from azure.ai.voicelive import models as m

    expected = {
        "server_vad": m.ServerVad,
        "azure_semantic_vad": m.AzureSemanticVad,
        "azure_semantic_vad_multilingual": m.AzureSemanticVadMultilingual,
        "azure_semantic_vad_en": m.AzureSemanticVadEn,
    }[kind]
    session = SessionOptions(turn_detection=kind).to_request_session()
    assert isinstance(session.turn_detection, expected)
    assert session.as_dict()["turn_detection"] == {"type": kind}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"silence_duration_ms": -1}, "silence_duration_ms"),
        ({"type": "server_vad", "remove_filler_words": True}, "not supported by turn detection"),
        ({"type": "azure_semantic_vad_en", "languages": ["en"]}, "languages not supported"),
        ({"type": "semantic"}, "type"),
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
        ({"modalities": []}, "modalit"),
        ({"modalities": ["audio", "audio"]}, "modalit"),
        ({"modalities": ["video"]}, "modalities"),
        ({"temperature": 1.5}, "temperature"),
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


def full_options() -> SessionOptions:
    """Every SessionOptions field set to a non-default value."""
    return SessionOptions(
        instructions="Be brief.",
        modalities=("text", "audio"),
        voice="en-US-Ava:DragonHDLatestNeural",
        voice_temperature=0.3,
        voice_style="cheerful",
        voice_rate="1.1",
        voice_pitch="+5%",
        voice_volume="+10%",
        voice_locale="en-GB",
        input_audio_format="pcm16",
        input_audio_sampling_rate=16000,
        output_audio_format="pcm16_16000hz",
        turn_detection=TurnDetection(
            type="azure_semantic_vad_multilingual",
            threshold=0.4,
            prefix_padding_ms=200,
            silence_duration_ms=350,
            auto_truncate=True,
            create_response=True,
            interrupt_response=False,
            end_of_utterance_detection={
                "model": "semantic_detection_v1_multilingual",
                "threshold_level": "low",
                "timeout_ms": 900,
            },
            speech_duration_ms=80,
            remove_filler_words=True,
            languages=("en", "fr"),
        ),
        noise_reduction="far_field",
        echo_cancellation=True,
        input_transcription={
            "model": "azure-speech",
            "language": "en-US",
            "phrase_list": ["Contoso"],
        },
        temperature=0.7,
        max_response_output_tokens=512,
        interim_response=LlmInterimResponse(
            triggers=("tool", "latency"),
            latency_threshold_ms=1500,
            model="gpt-4.1-mini",
            instructions="Say you are checking.",
            max_completion_tokens=30,
        ),
        tools=(
            FunctionTool(
                name="lookup_order",
                description="Find an order by id.",
                parameters={
                    "type": "object",
                    "properties": {"id": {"type": "string"}},
                    "required": ["id"],
                },
            ),
        ),
        tool_choice="lookup_order",
    )


FULL_SESSION_DICT = {
    "instructions": "Be brief.",
    "modalities": ["text", "audio"],
    "voice": {
        "type": "azure-standard",
        "name": "en-US-Ava:DragonHDLatestNeural",
        "temperature": 0.3,
        "style": "cheerful",
        "rate": "1.1",
        "pitch": "+5%",
        "volume": "+10%",
        "locale": "en-GB",
    },
    "input_audio_format": "pcm16",
    "input_audio_sampling_rate": 16000,
    "output_audio_format": "pcm16_16000hz",
    "turn_detection": {
        "type": "azure_semantic_vad_multilingual",
        "threshold": 0.4,
        "prefix_padding_ms": 200,
        "silence_duration_ms": 350,
        "auto_truncate": True,
        "create_response": True,
        "interrupt_response": False,
        "end_of_utterance_detection": {
            "model": "semantic_detection_v1_multilingual",
            "threshold_level": "low",
            "timeout_ms": 900,
        },
        "speech_duration_ms": 80,
        "remove_filler_words": True,
        "languages": ["en", "fr"],
    },
    "input_audio_noise_reduction": {"type": "far_field"},
    "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
    "input_audio_transcription": {
        "model": "azure-speech",
        "language": "en-US",
        "phrase_list": ["Contoso"],
    },
    "temperature": 0.7,
    "max_response_output_tokens": 512,
    "interim_response": {
        "type": "llm_interim_response",
        "triggers": ["tool", "latency"],
        "latency_threshold_ms": 1500,
        "model": "gpt-4.1-mini",
        "instructions": "Say you are checking.",
        "max_completion_tokens": 30,
    },
    "tools": [
        {
            "type": "function",
            "name": "lookup_order",
            "description": "Find an order by id.",
            "parameters": {
                "type": "object",
                "properties": {"id": {"type": "string"}},
                "required": ["id"],
            },
        }
    ],
    "tool_choice": {"type": "function", "name": "lookup_order"},
}


def test_every_field_serialises_into_the_request_session() -> None:
    session = full_options().to_request_session()
    assert isinstance(session, RequestSession)
    assert json.loads(json.dumps(session.as_dict())) == FULL_SESSION_DICT


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
    assert options.to_request_session().as_dict() == {
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
    custom = SessionOptions(voice="MyBrandVoice", voice_endpoint_id="ep-42").to_request_session()
    assert custom.as_dict()["voice"] == {
        "type": "azure-custom",
        "name": "MyBrandVoice",
        "endpoint_id": "ep-42",
    }


def test_session_from_env_reads_voice_name() -> None:
    options = SessionOptions.from_env({"VOICE_NAME": "en-US-JennyNeural"}, instructions="Hi")
    assert options.voice == "en-US-JennyNeural" and options.instructions == "Hi"
    assert SessionOptions.from_env({"VOICE_NAME": "x"}, voice="alloy").voice == "alloy"
    with pytest.raises(ConfigError, match="VOICE_NAME"):
        SessionOptions.from_env({"VOICE_NAME": "not-a-voice"})
    with pytest.raises(ConfigError, match="VOICE_NAME is set but empty"):
        SessionOptions.from_env({"VOICE_NAME": ""})
