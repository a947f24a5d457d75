"""resolve_connection: code beats environment; the environment only fills what code left unset."""

from __future__ import annotations

import logging

import pytest

from voiceagent.config import ConnectionConfig, resolve_connection
from voiceagent.errors import ConfigError

SAMPLES_ENV = {
    "VOICELIVE_ENDPOINT": "https://env-resource.services.ai.azure.com",
    "AZURE_VOICELIVE_ENDPOINT": "https://azure-env-resource.services.ai.azure.com",
    "AZURE_VOICELIVE_API_KEY": "env-key-0123456789",
    "AGENT_NAME": "concierge",
    "PROJECT_NAME": "contoso",
    "AGENT_VERSION": "4",
    "CONVERSATION_ID": "conv_abc",
    "FOUNDRY_RESOURCE_OVERRIDE": "other-res",
    "AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID": "mi-client",
    "VOICE_NAME": "en-US-Ava:DragonHDLatestNeural",
    "VOICELIVE_MODEL": "gpt-realtime",
    "AZURE_VOICELIVE_MODEL": "gpt-4o-realtime",
    "VOICELIVE_API_VERSION": "2026-04-10",
}
"""A complete ``.env`` of the Azure Voice Live samples, as ``load_dotenv`` would load it."""

ENDPOINT = "https://code-resource.services.ai.azure.com"


def resolve(**kwargs: object) -> ConnectionConfig:
    args: dict[str, object] = {
        "endpoint": None,
        "model": None,
        "connection": None,
        "credential_given": False,
        "agent_mode": False,
        "environ": SAMPLES_ENV,
    }
    args.update(kwargs)
    return resolve_connection(**args)  # type: ignore[arg-type]


def test_agent_mode_with_a_credential_ignores_the_env_key() -> None:
    config = resolve(agent_mode=True, credential_given=True)
    assert config.api_key is None
    assert config.endpoint == SAMPLES_ENV["VOICELIVE_ENDPOINT"]
    assert config.api_version == "2026-04-10"


def test_agent_mode_never_reads_the_env_key_even_without_a_credential() -> None:
    """Agent mode is Entra only: DefaultAzureCredential is used, the env key stays unread."""
    assert resolve(agent_mode=True, credential_given=False).api_key is None


def test_the_ignored_key_is_logged_at_debug_without_its_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="voiceagent.config"):
        resolve(agent_mode=True, credential_given=True)
    assert "AZURE_VOICELIVE_API_KEY" in caplog.text
    assert SAMPLES_ENV["AZURE_VOICELIVE_API_KEY"] not in caplog.text
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


def test_model_mode_with_a_credential_ignores_the_env_key() -> None:
    config = resolve(agent_mode=False, credential_given=True)
    assert config.api_key is None
    assert config.model == "gpt-realtime"  # VOICELIVE_MODEL wins over AZURE_VOICELIVE_MODEL


def test_model_mode_without_a_credential_takes_the_key_from_env() -> None:
    config = resolve(agent_mode=False, credential_given=False)
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == SAMPLES_ENV["AZURE_VOICELIVE_API_KEY"]
    assert config.model == "gpt-realtime"


def test_explicit_arguments_beat_the_environment() -> None:
    config = resolve(endpoint=ENDPOINT, model="gpt-realtime-mini", credential_given=True)
    assert config.endpoint == ENDPOINT
    assert config.model == "gpt-realtime-mini"
    assert config.api_version == "2026-04-10"  # not given in code: the environment fills it


def test_a_variable_that_is_not_needed_is_not_read() -> None:
    env = {**SAMPLES_ENV, "VOICELIVE_ENDPOINT": "", "AZURE_VOICELIVE_API_KEY": " "}
    config = resolve(endpoint=ENDPOINT, agent_mode=True, credential_given=True, environ=env)
    assert config.endpoint == ENDPOINT and config.api_key is None
    with pytest.raises(ConfigError, match="VOICELIVE_ENDPOINT is set but empty"):
        resolve(environ=env)


def test_empty_environment() -> None:
    config = resolve(endpoint=ENDPOINT, agent_mode=True, environ={})
    assert config == ConnectionConfig(endpoint=ENDPOINT)
    with pytest.raises(ConfigError, match="no endpoint: pass endpoint=.*VOICELIVE_ENDPOINT"):
        resolve(environ={})


def test_a_connection_config_is_used_as_is() -> None:
    given = ConnectionConfig(endpoint=ENDPOINT, model="gpt-realtime", api_key="code-key-123")
    assert resolve(connection=given) is given
    assert resolve(connection=given, credential_given=True, agent_mode=True) is given
    with pytest.raises(ConfigError, match="endpoint given both as argument and in connection="):
        resolve(connection=given, endpoint=ENDPOINT)
    with pytest.raises(ConfigError, match="endpoint and model given both"):
        resolve(connection=given, endpoint=ENDPOINT, model="m")


def test_errors_about_arguments_do_not_mention_the_environment() -> None:
    with pytest.raises(ConfigError) as info:
        resolve(endpoint="contoso.services.ai.azure.com", credential_given=True)
    message = str(info.value)
    assert message.startswith("invalid ConnectionConfig: endpoint: ")
    assert "environment" not in message and "VOICELIVE" not in message
    with pytest.raises(ConfigError) as info:
        resolve(endpoint="nope", environ={})
    assert "environment" not in str(info.value) and "()" not in str(info.value)


def test_errors_about_env_values_name_the_variable() -> None:
    env = {**SAMPLES_ENV, "VOICELIVE_ENDPOINT": "contoso.services.ai.azure.com"}
    with pytest.raises(ConfigError) as info:
        resolve(environ=env, credential_given=True)
    message = str(info.value)
    assert "endpoint (from VOICELIVE_ENDPOINT): " in message
    assert "VOICELIVE_MODEL" not in message and "VOICELIVE_API_VERSION" not in message


def test_secrets_never_appear_in_errors() -> None:
    env = {**SAMPLES_ENV, "VOICELIVE_ENDPOINT": "ftp://h/?api-key=topsecretvalue"}
    with pytest.raises(ConfigError) as info:
        resolve(environ=env)
    assert "topsecretvalue" not in str(info.value)
    assert SAMPLES_ENV["AZURE_VOICELIVE_API_KEY"] not in str(info.value)
