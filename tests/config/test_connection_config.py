"""ConnectionConfig and ReconnectPolicy: defaults, endpoint checks, secrets, from_env."""

from __future__ import annotations

import pytest

from voiceagent.config import DEFAULT_API_VERSION, ConnectionConfig, ReconnectPolicy
from voiceagent.errors import ConfigError

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
        ("https://contoso.services.ai.azure.com:99999", "invalid port"),
        ("https://contoso.services.ai.azure.com:0", "invalid port"),
        ("https://contoso.services.ai.azure.com:https", "invalid port"),
        ("http://127.0.0.1:-1", "invalid port"),
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
    with pytest.raises(ConfigError, match="no endpoint: .*VOICELIVE_ENDPOINT"):
        ConnectionConfig.from_env({})
    with pytest.raises(ConfigError, match="AZURE_VOICELIVE_API_KEY is set but empty"):
        ConnectionConfig.from_env(
            {"VOICELIVE_ENDPOINT": "https://a", "AZURE_VOICELIVE_API_KEY": ""}
        )
    with pytest.raises(ConfigError, match=r"endpoint \(from VOICELIVE_ENDPOINT\): 'nope'"):
        ConnectionConfig.from_env({"VOICELIVE_ENDPOINT": "nope"})


def test_from_env_errors_mention_the_environment_only_for_env_values() -> None:
    with pytest.raises(ConfigError) as info:
        ConnectionConfig.from_env({"VOICELIVE_MODEL": "gpt-realtime"}, endpoint="nope")
    assert "environment" not in str(info.value) and "VOICELIVE" not in str(info.value)


def test_reconnect_policy_validation() -> None:
    with pytest.raises(ConfigError, match="max_backoff"):
        ReconnectPolicy(initial_backoff=5, max_backoff=1)
    with pytest.raises(ConfigError, match="jitter"):
        ReconnectPolicy(jitter=2)
    with pytest.raises(ConfigError, match="handshake_timeout"):
        ConnectionConfig(endpoint="https://h", handshake_timeout=0)


def test_invalid_port_message_names_the_endpoint_and_the_fix() -> None:
    with pytest.raises(ConfigError) as info:
        ConnectionConfig(endpoint="https://contoso.services.ai.azure.com:99999")
    assert str(info.value) == (
        "invalid ConnectionConfig: endpoint: 'https://contoso.services.ai.azure.com:99999' has an "
        "invalid port; a port is a number from 1 to 65535 (or leave it out for the scheme's "
        "default), e.g. https://<resource>.services.ai.azure.com"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"handshake_timeout": True}, "handshake_timeout: must be a number, not a bool"),
        ({"receive_timeout": False}, "receive_timeout: must be a number, not a bool"),
        ({"max_message_size": True}, "max_message_size: must be a whole number, not a bool"),
        ({"max_message_size": 1.5}, "max_message_size"),
        ({"heartbeat": "30"}, "heartbeat"),
    ],
)
def test_numbers_are_strict(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        ConnectionConfig(endpoint="https://h", **fields)  # type: ignore[arg-type]


def test_whole_numbers_are_accepted_for_seconds() -> None:
    config = ConnectionConfig(endpoint="https://h", handshake_timeout=5, heartbeat=10)
    assert config.handshake_timeout == 5 and config.heartbeat == 10
    with pytest.raises(ConfigError, match="max_attempts: must be a whole number, not a bool"):
        ReconnectPolicy(max_attempts=True)
