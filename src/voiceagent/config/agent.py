"""Who to talk to in agent mode: a Foundry agent by name, or a classic agent by id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import model_validator

from ..errors import ConfigError
from ._base import ConfigModel, Name, build_from_env, env_value, environ_or_os
from .connection import AI_FOUNDRY_SCOPE, ML_SCOPE

__all__ = ["ENV_VARIABLES", "AgentConfig", "ClassicAgentConfig"]

ENV_VARIABLES: dict[str, str] = {
    "agent_name": "AGENT_NAME",
    "project_name": "PROJECT_NAME",
    "agent_version": "AGENT_VERSION",
    "conversation_id": "CONVERSATION_ID",
    "foundry_resource_override": "FOUNDRY_RESOURCE_OVERRIDE",
    "authentication_identity_client_id": "AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID",
}
""":class:`AgentConfig` field -> the environment variable the Voice Live samples use for it."""


class AgentConfig(ConfigModel):
    """A Microsoft Foundry agent to talk to (agent mode), named as the SDK's ``connect()`` keywords.

    Agent mode accepts Microsoft Entra ID credentials only (no API key). Builder methods return
    new objects::

        agent = (AgentConfig(agent_name="concierge", project_name="contoso")
                 .with_version("4")
                 .with_resource_override("other-res", identity_client_id="<client id>")
                 .resume("conv_abc"))

    Attributes:
        agent_name: The agent's name in the Foundry project.
        project_name: The Foundry project that hosts the agent.
        agent_version: Pin a version of the agent (default: the latest).
        conversation_id: Continue this conversation (history kept) instead of starting one.
        foundry_resource_override: The Foundry resource that hosts the project, when it is not
            the Voice Live resource you connect to.
        authentication_identity_client_id: Client id of the managed identity Voice Live uses
            to call the agent on the overriding resource; needs ``foundry_resource_override``.
    """

    agent_name: Name
    project_name: Name
    agent_version: Name | None = None
    conversation_id: Name | None = None
    foundry_resource_override: Name | None = None
    authentication_identity_client_id: Name | None = None

    @model_validator(mode="before")
    @classmethod
    def _require_name_and_project(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            missing = [k for k in ("agent_name", "project_name") if data.get(k) is None]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} missing: an agent is named by both agent_name "
                    "(the agent) and project_name (its Foundry project), e.g. "
                    "AgentConfig(agent_name='concierge', project_name='contoso')"
                )
        return data

    @model_validator(mode="after")
    def _identity_needs_override(self) -> AgentConfig:
        if self.authentication_identity_client_id and not self.foundry_resource_override:
            raise ValueError(
                "authentication_identity_client_id is only used with foundry_resource_override "
                "(the identity that calls the agent on another Foundry resource); set both "
                "with .with_resource_override(resource, identity_client_id=...) or drop the id"
            )
        return self

    def _replace(self, **changes: Any) -> AgentConfig:
        # Through the constructor (not model_copy) so the result is validated again.
        return type(self)(**{**self.model_dump(), **changes})

    def with_version(self, version: str) -> AgentConfig:
        """Return a copy pinned to agent version ``version`` (e.g. ``"4"``)."""
        return self._replace(agent_version=version)

    def with_resource_override(
        self, resource: str, identity_client_id: str | None = None
    ) -> AgentConfig:
        """Return a copy whose agent lives on Foundry resource ``resource``.

        Args:
            resource: The Foundry resource name hosting the project.
            identity_client_id: Client id of the managed identity used to call the agent there;
                ``None`` clears any id set before (the id belongs to the resource).

        Returns:
            The new configuration.
        """
        return self._replace(
            foundry_resource_override=resource,
            authentication_identity_client_id=identity_client_id,
        )

    def resume(self, conversation_id: str) -> AgentConfig:
        """Return a copy that continues conversation ``conversation_id`` (history kept)."""
        return self._replace(conversation_id=conversation_id)

    def new_conversation(self) -> AgentConfig:
        """Return a copy that starts a new conversation (clears ``conversation_id``)."""
        return self._replace(conversation_id=None)

    def to_connect_kwargs(self) -> dict[str, str]:
        """The SDK ``connect()`` keyword arguments for this agent (unset fields left out).

        These are the flattened keywords of ``azure-ai-voicelive`` >= 1.2.0, which silently
        ignores the older ``agent_config=`` form.
        """
        return {k: v for k, v in self.model_dump().items() if v is not None}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AgentConfig:
        """Read the agent from the environment variables the Voice Live samples use.

        ``AGENT_NAME``, ``PROJECT_NAME`` (both required), ``AGENT_VERSION``,
        ``CONVERSATION_ID``, ``FOUNDRY_RESOURCE_OVERRIDE``,
        ``AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID``. A variable set to an empty string is an error.

        Args:
            environ: The mapping to read (default: ``os.environ``).

        Returns:
            The agent configuration.

        Raises:
            ConfigError: A variable is missing, empty or invalid (the message names it).
        """
        env = environ_or_os(environ)
        values: dict[str, str] = {}
        sources: dict[str, str] = {}
        for field, var in ENV_VARIABLES.items():
            found = env_value(env, var)
            if found is not None:
                sources[field], values[field] = found
        missing = [ENV_VARIABLES[f] for f in ("agent_name", "project_name") if f not in values]
        if missing:
            raise ConfigError(
                f"environment variable {' and '.join(missing)} not set: agent mode needs "
                "AGENT_NAME (the agent) and PROJECT_NAME (its Foundry project)"
            )
        return build_from_env(cls, values, sources)


class ClassicAgentConfig(ConfigModel):
    """A classic (Assistants-style) Foundry agent, addressed by id. Deprecated by the service.

    The connection fetches an Entra token for :attr:`token_scope` and passes ``agent-id``,
    ``agent-project-name`` (or ``agent-connection-string`` for hub-based projects) and
    ``agent-access-token`` in the query. Give exactly one of ``project_name`` and
    ``connection_string``.

    Attributes:
        agent_id: The classic agent's id (``asst_...``).
        project_name: The Foundry project name (Foundry projects).
        connection_string: The project connection string (hub-based projects).
    """

    agent_id: Name
    project_name: Name | None = None
    connection_string: Name | None = None

    @model_validator(mode="after")
    def _one_project(self) -> ClassicAgentConfig:
        if (self.project_name is None) == (self.connection_string is None):
            raise ValueError(
                "give exactly one of project_name (Foundry projects) or connection_string "
                "(hub-based projects)"
            )
        return self

    @property
    def is_hub(self) -> bool:
        """Whether the project is hub-based (addressed by connection string)."""
        return self.connection_string is not None

    @property
    def token_scope(self) -> str:
        """The Entra scope of the ``agent-access-token``."""
        return ML_SCOPE if self.is_hub else AI_FOUNDRY_SCOPE

    def to_query(self, access_token: str) -> dict[str, str]:
        """The query naming the agent, with ``access_token`` as ``agent-access-token``."""
        query = {"agent-id": self.agent_id}
        if self.connection_string is not None:
            query["agent-connection-string"] = self.connection_string
        else:
            assert self.project_name is not None  # guaranteed by _one_project
            query["agent-project-name"] = self.project_name
        query["agent-access-token"] = access_token
        return query
