"""AgentConfig and ClassicAgentConfig: builders, validation messages, from_env."""

from __future__ import annotations

import pytest

from voiceagent.config import AgentConfig, ClassicAgentConfig
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
