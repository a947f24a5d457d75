"""Where and how to connect: endpoint, API version, key, timeouts, reconnect policy.

:func:`resolve_connection` is the one rule for combining arguments given in code with the
environment: code always wins, the environment only fills what the code left unset.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, StrictFloat, StrictInt, field_validator, model_validator

from ..errors import ConfigError
from ..redaction import redact_url
from ._base import ConfigModel, Name, build_from_env, env_value, environ_or_os

__all__ = [
    "AI_FOUNDRY_SCOPE",
    "DEFAULT_API_VERSION",
    "ENV_VARIABLES",
    "ML_SCOPE",
    "ConnectionConfig",
    "ReconnectPolicy",
    "resolve_connection",
]

_log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-07-15"
"""The GA ``api-version`` that ``azure-ai-voicelive`` 1.3.x sends by default."""

AI_FOUNDRY_SCOPE = "https://ai.azure.com/.default"
"""Entra scope of the ``agent-access-token`` for Foundry projects (classic agents)."""

ML_SCOPE = "https://ml.azure.com/.default"
"""Entra scope of the ``agent-access-token`` for hub-based projects (classic agents)."""

ENV_VARIABLES: dict[str, tuple[str, ...]] = {
    "endpoint": ("VOICELIVE_ENDPOINT", "AZURE_VOICELIVE_ENDPOINT"),
    "api_key": ("AZURE_VOICELIVE_API_KEY",),
    "model": ("VOICELIVE_MODEL", "AZURE_VOICELIVE_MODEL"),
    "api_version": ("VOICELIVE_API_VERSION", "AZURE_VOICELIVE_API_VERSION"),
}
""":class:`ConnectionConfig` field -> the variables that may hold it, the first set one wins
(the names the Voice Live samples use)."""

_EXAMPLE_ENDPOINT = "https://<resource>.services.ai.azure.com"
_NO_ENDPOINT = (
    "no endpoint: pass endpoint= (the Voice Live resource endpoint, e.g. "
    f"{_EXAMPLE_ENDPOINT}) or set the environment variable VOICELIVE_ENDPOINT "
    "(or AZURE_VOICELIVE_ENDPOINT)"
)


class ReconnectPolicy(ConfigModel):
    """When and how fast to reconnect after a recoverable drop.

    The delay before attempt ``n`` (from 0) is ``min(max_backoff, initial_backoff * 2**n)``,
    randomised by ``± jitter`` of itself.

    Attributes:
        max_attempts: Reconnect attempts before giving up; 0 disables reconnecting.
        initial_backoff: First delay, in seconds.
        max_backoff: Longest delay, in seconds.
        jitter: Relative randomisation of each delay, 0..1.
    """

    max_attempts: StrictInt = Field(default=5, ge=0)
    initial_backoff: StrictFloat = Field(default=0.5, gt=0)
    max_backoff: StrictFloat = Field(default=15.0, gt=0)
    jitter: StrictFloat = Field(default=0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> ReconnectPolicy:
        if self.max_backoff < self.initial_backoff:
            raise ValueError(
                f"max_backoff ({self.max_backoff}) is shorter than initial_backoff "
                f"({self.initial_backoff}); raise max_backoff"
            )
        return self


class ConnectionConfig(ConfigModel):
    """Where and how to connect to Voice Live.

    Model mode needs ``model`` and may use ``api_key``; agent mode (an
    :class:`~voiceagent.config.AgentConfig` given to the connection) uses Entra ID only.
    ``repr()`` and ``str()`` never show the key.

    Attributes:
        endpoint: The resource endpoint, e.g. ``https://<resource>.services.ai.azure.com``
            (``http``/``https``/``ws``/``wss``; the SDK appends ``/voice-live/realtime``).
        api_version: The ``api-version`` query value.
        model: The model to use in model mode, e.g. ``"gpt-realtime"``.
        api_key: A Voice Live resource key (model mode only).
        credential_scopes: Entra scopes for the ``Authorization`` token (default: the SDK's
            ``https://ai.azure.com/.default``).
        handshake_timeout: Seconds allowed for DNS, TCP, TLS and the WebSocket upgrade.
        receive_timeout: Seconds without any inbound message before the connection is
            considered dead (default: none; a quiet conversation is normal).
        close_timeout: Seconds to wait for the closing handshake.
        heartbeat: Seconds between WebSocket pings.
        max_message_size: Largest inbound message, in bytes.
        reconnect: The reconnect policy.
    """

    endpoint: str
    api_version: Name = DEFAULT_API_VERSION
    model: Name | None = None
    api_key: SecretStr | None = None
    credential_scopes: tuple[Name, ...] | None = None
    handshake_timeout: StrictFloat = Field(default=20.0, gt=0)
    receive_timeout: StrictFloat | None = Field(default=None, gt=0)
    close_timeout: StrictFloat | None = Field(default=None, gt=0)
    heartbeat: StrictFloat = Field(default=30.0, gt=0)
    max_message_size: StrictInt = Field(default=4 * 1024 * 1024, gt=0)
    reconnect: ReconnectPolicy = ReconnectPolicy()

    @field_validator("endpoint")
    @classmethod
    def _valid_endpoint(cls, value: str) -> str:
        example = _EXAMPLE_ENDPOINT
        if not value.strip():
            raise ValueError(f"must not be empty; use the resource endpoint, e.g. {example}")
        if value != value.strip():
            raise ValueError("has leading or trailing whitespace; remove it")
        shown = redact_url(value)
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            raise ValueError(f"{shown!r} is not a valid URL; use e.g. {example}") from None
        if parts.scheme.lower() not in ("http", "https", "ws", "wss") or not host:
            raise ValueError(
                f"{shown!r} is not an http(s):// or ws(s):// URL with a host; use the resource "
                f"endpoint, e.g. {example}"
            )
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError(
                f"{shown!r} has an invalid port; a port is a number from 1 to 65535 (or leave "
                f"it out for the scheme's default), e.g. {example}"
            )
        if parts.path.rstrip("/").endswith("/voice-live/realtime"):
            raise ValueError(
                f"{shown!r} ends with /voice-live/realtime, which the SDK appends itself; "
                "remove that suffix"
            )
        return value

    @field_validator("api_key")
    @classmethod
    def _valid_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if not raw.strip() or raw != raw.strip():
                raise ValueError(
                    "is empty or has surrounding whitespace; copy the key again or leave it unset"
                )
        return value

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> ConnectionConfig:
        """Read the connection from the environment, as the Voice Live samples do.

        ``VOICELIVE_ENDPOINT`` (or ``AZURE_VOICELIVE_ENDPOINT``; required),
        ``AZURE_VOICELIVE_API_KEY``, ``VOICELIVE_MODEL`` (or ``AZURE_VOICELIVE_MODEL``),
        ``VOICELIVE_API_VERSION`` (or ``AZURE_VOICELIVE_API_VERSION``). When both names of a pair
        are set, the first wins. A variable set to an empty string is an error. A field given
        in ``overrides`` is not read from the environment at all.

        To combine the arguments of a session with the environment, use
        :func:`resolve_connection`, which also knows when the key must not be read.

        Args:
            environ: The mapping to read (default: ``os.environ``).
            **overrides: Field values that take precedence over the environment.

        Returns:
            The connection configuration.

        Raises:
            ConfigError: A variable is missing, empty or invalid (the message names it).
        """
        wanted = [f for f in ENV_VARIABLES if f not in overrides]
        values, sources = _read_env(environ_or_os(environ), wanted)
        values.update(overrides)
        if "endpoint" not in values:
            raise ConfigError(_NO_ENDPOINT)
        return build_from_env(cls, values, sources)


def _read_env(
    environ: Mapping[str, str], fields: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field in fields:
        found = env_value(environ, *ENV_VARIABLES[field])
        if found is not None:
            sources[field], values[field] = found
    return values, sources


def resolve_connection(
    *,
    endpoint: str | None,
    model: str | None,
    connection: ConnectionConfig | None,
    credential_given: bool,
    agent_mode: bool,
    environ: Mapping[str, str] | None = None,
) -> ConnectionConfig:
    """The connection settings of a session: arguments first, the environment fills the gaps.

    Rules, in order:

    1. ``connection`` given: used as is (giving ``endpoint`` or ``model`` too is an error).
    2. ``endpoint``, ``model``: the argument when given, else ``VOICELIVE_ENDPOINT`` /
       ``AZURE_VOICELIVE_ENDPOINT``, ``VOICELIVE_MODEL`` / ``AZURE_VOICELIVE_MODEL``. The
       ``api-version`` comes from ``VOICELIVE_API_VERSION`` / ``AZURE_VOICELIVE_API_VERSION``
       when set.
    3. ``AZURE_VOICELIVE_API_KEY`` is read only in model mode and only when no credential was
       given in code. In agent mode it is ignored (agent mode is Entra ID only), so a samples'
       ``.env`` that holds a key never blocks a token credential.

    A variable that is not needed is not read, so a blank one there cannot fail the session.

    Args:
        endpoint: The ``endpoint`` argument of the session (None: not given).
        model: The ``model`` argument of the session (None: not given).
        connection: The ``connection`` argument of the session (None: not given).
        credential_given: Whether the session was given a ``credential`` in code.
        agent_mode: Whether the session talks to an agent (``AgentConfig`` or
            ``ClassicAgentConfig``).
        environ: The mapping to read (default: ``os.environ``).

    Returns:
        The connection configuration.

    Raises:
        ConfigError: Conflicting arguments, no endpoint anywhere, or an invalid value. The
            message names the environment variable of each env-derived value, and mentions the
            environment only for those.
    """
    if connection is not None:
        given = [n for n, v in (("endpoint", endpoint), ("model", model)) if v is not None]
        if given:
            raise ConfigError(
                f"{' and '.join(given)} given both as argument and in connection=; pass "
                f"{'it' if len(given) == 1 else 'them'} in one place only (connection= holds "
                "endpoint, model, api_version, api_key and the transport settings)"
            )
        return connection
    env = environ_or_os(environ)
    code: dict[str, Any] = {}
    if endpoint is not None:
        code["endpoint"] = endpoint
    if model is not None:
        code["model"] = model
    # In agent mode the agent picks its model: a VOICELIVE_MODEL left in a samples' .env must
    # not be sent next to the agent parameters.
    fields = ("endpoint", "api_version") if agent_mode else ("endpoint", "model", "api_version")
    wanted = [f for f in fields if f not in code]
    if not agent_mode and not credential_given:
        wanted.append("api_key")
    elif "AZURE_VOICELIVE_API_KEY" in env:
        _log.debug(
            "ignoring AZURE_VOICELIVE_API_KEY from the environment (%s)",
            "agent mode accepts Entra ID only" if agent_mode else "a credential was given",
        )
    values, sources = _read_env(env, wanted)
    values.update(code)
    if "endpoint" not in values:
        raise ConfigError(_NO_ENDPOINT)
    return build_from_env(ConnectionConfig, values, sources)
