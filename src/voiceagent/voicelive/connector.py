"""Opening Voice Live connections: credentials, SDK ``connect()``, error mapping.

With the rest of :mod:`voiceagent.voicelive`, the only code that imports the SDK. It

* checks the mode (model, agent, classic agent) against the credential before any I/O
  (agent modes take Microsoft Entra ID tokens only);
* calls the SDK's ``connect()`` with the *flattened* agent keywords (never ``agent_config=``,
  which SDK >= 1.2.0 silently ignores) or, for classic agents, the ``query=`` parameters with a
  freshly fetched ``agent-access-token``;
* turns handshake failures into :class:`~voiceagent.errors.ConnectError` with the HTTP status and
  a hint, never quoting the SDK's message (it contains the full URL, tokens included) and never
  chaining the SDK exception (so no traceback shows it either);
* keeps secrets out of the logs (:mod:`voiceagent.redaction`), including the SDK's own DEBUG
  ``Connecting to <url>`` line;
* leaves the reconnect decision to :mod:`.reconnect`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import aiohttp
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError
from azure.ai.voicelive.aio import VoiceLiveConnection, WebsocketConnectionOptions
from azure.ai.voicelive.aio import connect as sdk_connect
from azure.core.credentials import AzureKeyCredential, TokenCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError

from ..errors import ConfigError, ConnectError
from ..redaction import (
    install_sdk_log_redaction,
    redact,
    redact_url,
    register_secret,
    unregister_secret,
)
from .credentials import (
    RecordingCredential,
    close_credential,
    fetch_token,
    is_loopback,
    is_token_credential,
)

if TYPE_CHECKING:
    from ..config import AgentConfig, ClassicAgentConfig, ConnectionConfig

__all__ = [
    "CONNECTION_ERRORS",
    "ConnectionMode",
    "Credential",
    "VoiceLiveConnection",
    "VoiceLiveConnector",
    "open_connection",
]

logger = logging.getLogger(__name__)

Credential: TypeAlias = AzureKeyCredential | AsyncTokenCredential | TokenCredential
"""What the connection accepts: a key credential (model mode only) or a sync/async token
credential."""

ConnectionMode = Literal["model", "agent", "classic_agent"]

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    SdkConnectionError,
    aiohttp.ClientError,
    ConnectionError,
    asyncio.TimeoutError,
)
"""Exceptions a live connection's ``recv()``/``send()`` raise when the transport fails (the SDK's
``ConnectionError``/``ConnectionClosed``, aiohttp and socket errors, timeouts). Catch these in the
session instead of importing the SDK."""

_ENTRA_ONLY = (
    "Voice Live agent mode accepts only Microsoft Entra ID tokens, not API keys. Pass a token "
    "credential (credential=None uses azure.identity.aio.DefaultAzureCredential; sign in with "
    "`az login` or use a managed identity) and remove the API key (AzureKeyCredential or "
    "ConnectionConfig(api_key=...)); AZURE_VOICELIVE_API_KEY in the environment is ignored in "
    "agent mode"
)


class VoiceLiveConnector:
    """Opens Voice Live connections for one configuration, as many times as needed.

    The constructor validates the mode and the credential (no I/O); :meth:`connect` opens one
    connection; :meth:`aclose` closes the ``DefaultAzureCredential`` the connector created when
    ``credential`` was ``None`` (a credential you pass in stays yours to close). Use it as an
    async context manager around a reconnect loop::

        async with VoiceLiveConnector(config, agent) as connector:
            async with connector.connect() as connection:
                await connection.session.update(
                    session=build_request_session(options, agent_mode=connector.mode != "model")
                )

    Args:
        config: Endpoint, API version, model/key and transport options.
        agent: A Foundry agent (agent mode), a classic agent, or ``None`` for model mode.
        credential: ``None`` (model mode with ``config.api_key``: that key; otherwise
            ``azure.identity.aio.DefaultAzureCredential``), an ``AzureKeyCredential`` (model
            mode only) or a sync/async token credential.

    Raises:
        ConfigError: The mode and the credential do not fit (e.g. a key in agent mode, model
            mode without ``config.model``).
    """

    def __init__(
        self,
        config: ConnectionConfig,
        agent: AgentConfig | ClassicAgentConfig | None = None,
        *,
        credential: Credential | None = None,
    ) -> None:
        from ..config import AgentConfig  # pydantic loads on first use, not on import

        self._config = config
        self._agent = agent
        self._mode: ConnectionMode = (
            "model"
            if agent is None
            else "agent"
            if isinstance(agent, AgentConfig)
            else "classic_agent"
        )
        self._endpoint = redact_url(config.endpoint)
        self._credential: Credential | None = None
        self._owns_credential = False
        # Until one connection succeeded, an unreachable endpoint is a mistake to report at once
        # (a typo, a wrong port), not a drop to retry for many seconds.
        self._connected_once = False
        self._check(credential)
        self._credential = credential
        if credential is None and config.api_key is not None:
            self._credential = AzureKeyCredential(config.api_key.get_secret_value())

    def _check(self, credential: Credential | None) -> None:
        config = self._config
        is_key = isinstance(credential, AzureKeyCredential)
        if credential is not None and not is_key and not is_token_credential(credential):
            raise ConfigError(
                f"credential of type {type(credential).__name__} is not supported; pass an "
                "azure.core.credentials.AzureKeyCredential (model mode only), a token credential "
                "such as azure.identity.aio.DefaultAzureCredential, or None"
            )
        if self._mode != "model":
            if is_key or config.api_key is not None:
                raise ConfigError(_ENTRA_ONLY)
            self._check_local(credential)
            return
        if config.model is None:
            raise ConfigError(
                "model mode needs ConnectionConfig.model (e.g. 'gpt-realtime', or "
                "VOICELIVE_MODEL); to talk to a Foundry agent instead, pass an AgentConfig"
            )
        if credential is not None and config.api_key is not None:
            raise ConfigError(
                "both credential and ConnectionConfig.api_key are set; pass only one of them"
            )
        self._check_local(credential)

    def _check_local(self, credential: Credential | None) -> None:
        config = self._config
        if credential is None and config.api_key is None and is_loopback(config.endpoint):
            # DefaultAzureCredential would walk its whole chain (even a cloud metadata address)
            # for a local emulator that only needs a stand-in.
            raise ConfigError(
                f"{self._endpoint} is a local endpoint (an emulator?) and no credential was "
                "given: pass credential=voiceagent.testing.EmulatorCredential() (agent or model "
                "mode) or an AzureKeyCredential (model mode), instead of DefaultAzureCredential"
            )

    @property
    def mode(self) -> ConnectionMode:
        """``"model"``, ``"agent"`` or ``"classic_agent"``."""
        return self._mode

    @property
    def endpoint(self) -> str:
        """The endpoint, safe to show (secrets redacted)."""
        return self._endpoint

    @property
    def config(self) -> ConnectionConfig:
        """The connection configuration."""
        return self._config

    @property
    def agent(self) -> AgentConfig | ClassicAgentConfig | None:
        """The agent, if any."""
        return self._agent

    def _resolve_credential(self) -> Credential:
        if self._credential is None:
            # Imported lazily: azure.identity is only needed when no credential was given.
            from azure.identity.aio import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
            self._owns_credential = True
        return self._credential

    async def aclose(self) -> None:
        """Close the credential this connector created (safe to call twice)."""
        credential, owned = self._credential, self._owns_credential
        if owned and credential is not None:
            self._credential, self._owns_credential = None, False
            await close_credential(credential)

    async def __aenter__(self) -> VoiceLiveConnector:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _connection_options(self) -> WebsocketConnectionOptions:
        config = self._config
        options: WebsocketConnectionOptions = {
            "max_msg_size": config.max_message_size,
            "heartbeat": config.heartbeat,
        }
        if config.receive_timeout is not None:
            options["receive_timeout"] = config.receive_timeout
        if config.close_timeout is not None:
            options["close_timeout"] = config.close_timeout
        return options

    @asynccontextmanager
    async def connect(
        self, agent: AgentConfig | ClassicAgentConfig | None = None
    ) -> AsyncIterator[VoiceLiveConnection]:
        """Open one connection; closing the context closes it.

        Args:
            agent: Use this agent for this connection instead of the connector's, e.g.
                ``agent.resume(conversation_id)`` when reconnecting; it must be of the same
                kind (mode) as the connector's agent.

        Yields:
            The SDK's connected ``VoiceLiveConnection``.

        Raises:
            ConnectError: The handshake failed, timed out, or no token could be obtained. The
                message names the endpoint (without secrets) and what to check; ``status`` is
                the HTTP status of a refused handshake.
            ConfigError: ``agent`` is of another mode than the connector's.
        """
        if agent is None:
            agent = self._agent
        elif type(agent) is not type(self._agent):
            raise ConfigError(
                f"connect(agent=...) must keep the connector's mode ({self._mode}); create "
                "another VoiceLiveConnector to change mode"
            )
        install_sdk_log_redaction()
        credential = self._resolve_credential()
        secrets: list[str] = []
        if isinstance(credential, AzureKeyCredential):
            sdk_credential: AzureKeyCredential | AsyncTokenCredential = credential
            secrets.append(credential.key)
            register_secret(credential.key)
        else:
            sdk_credential = RecordingCredential(credential, secrets)
        try:
            async with AsyncExitStack() as stack:
                connection = await self._open(stack, agent, sdk_credential, secrets)
                yield connection
        finally:
            for secret in secrets:
                unregister_secret(secret)

    async def _open(
        self,
        stack: AsyncExitStack,
        agent: AgentConfig | ClassicAgentConfig | None,
        credential: AzureKeyCredential | AsyncTokenCredential,
        secrets: list[str],
    ) -> VoiceLiveConnection:
        from ..config import AgentConfig, ClassicAgentConfig

        config = self._config
        kwargs: dict[str, Any] = {}
        if isinstance(agent, AgentConfig):
            # Flattened keywords: SDK >= 1.2.0 silently ignores agent_config=.
            kwargs.update(agent.to_connect_kwargs())
        elif isinstance(agent, ClassicAgentConfig):
            token = await self._classic_token(agent)
            secrets.append(token)
            register_secret(token)
            kwargs["query"] = agent.to_query(token)
        if config.credential_scopes is not None:
            kwargs["credential_scopes"] = list(config.credential_scopes)
        if config.model is not None:
            kwargs["model"] = config.model
        logger.info("Connecting to Voice Live at %s (%s mode)", self._endpoint, self._mode)

        manager = sdk_connect(
            credential=credential,
            endpoint=config.endpoint,
            api_version=config.api_version,
            connection_options=self._connection_options(),
            **kwargs,
        )
        error: ConnectError | None = None
        try:
            connection = await asyncio.wait_for(
                stack.enter_async_context(manager), config.handshake_timeout
            )
        except SdkConnectionError as exc:
            error = self._handshake_error(exc.__cause__)
        except asyncio.TimeoutError:
            error = ConnectError(
                f"connecting to Voice Live at {self._endpoint} timed out after "
                f"{config.handshake_timeout:g} s; check the endpoint and the network (DNS, proxy, "
                "firewall), or raise ConnectionConfig.handshake_timeout",
                endpoint=self._endpoint,
            )
        except ClientAuthenticationError as exc:
            raise self._credential_error(exc) from exc
        if error is not None:
            # Raised outside the except block so that neither __cause__ nor __context__ keeps
            # the SDK exception, whose message holds the full URL with any token in it.
            raise error
        logger.info("Connected to Voice Live at %s", self._endpoint)
        self._connected_once = True
        return connection

    async def _classic_token(self, agent: ClassicAgentConfig) -> str:
        credential = self._credential
        assert credential is not None and not isinstance(credential, AzureKeyCredential)
        try:
            token = await fetch_token(credential, (agent.token_scope,))
        except ClientAuthenticationError as exc:
            raise self._credential_error(exc) from exc
        return token.token

    def _credential_error(self, exc: ClientAuthenticationError) -> ConnectError:
        # Entra errors explain themselves and carry no secret; redact anyway, to be safe.
        return ConnectError(
            f"could not get a Microsoft Entra ID token to connect to {self._endpoint}: "
            f"{redact(str(exc.message or exc))}. Sign in (`az login`), or configure a managed "
            "identity / service principal for DefaultAzureCredential, or pass a credential",
            endpoint=self._endpoint,
        )

    def _handshake_error(self, cause: BaseException | None) -> ConnectError:
        where = f"Voice Live at {self._endpoint}"
        status = getattr(cause, "status", None) if isinstance(cause, aiohttp.ClientError) else None
        if isinstance(status, int):
            return ConnectError(
                f"{where} refused the connection: HTTP {status}. {self._status_hint(status)}",
                endpoint=self._endpoint,
                status=status,
            )
        if isinstance(cause, aiohttp.ClientConnectorError):
            return self._unreachable(where, cause.os_error)
        if isinstance(cause, aiohttp.ClientError) and "redirect" in str(cause).lower():
            return ConnectError(
                f"{where} answered with a redirect, which the SDK refuses (credentials must not "
                "follow it); use the final endpoint URL",
                endpoint=self._endpoint,
            )
        kind = type(cause).__name__ if cause is not None else "unknown error"
        return ConnectError(
            f"could not connect to {where} ({kind}); check the endpoint URL and the network",
            endpoint=self._endpoint,
        )

    def _unreachable(self, where: str, os_error: OSError) -> ConnectError:
        reason = os_error.strerror or type(os_error).__name__
        if isinstance(os_error, socket.gaierror):
            check = (
                "the host name does not resolve: check the endpoint for typos (it looks like "
                "https://<resource>.services.ai.azure.com) and the DNS / proxy settings"
            )
        elif isinstance(os_error, ConnectionRefusedError):
            check = (
                "nothing listens there: check the endpoint's host and port (is the emulator or "
                "proxy running?)"
            )
        else:
            check = "check the endpoint host name and port, and the network (proxy, firewall)"
        # Once connected, the same error is the service or the network going away: retry then.
        return ConnectError(
            f"could not reach {where} ({reason}); {check}",
            endpoint=self._endpoint,
            retryable=self._connected_once,
        )

    def _status_hint(self, status: int) -> str:
        if status in (401, 403):
            if self._mode == "model" and isinstance(self._credential, AzureKeyCredential):
                return (
                    "Check the API key (ConnectionConfig.api_key / AZURE_VOICELIVE_API_KEY): it "
                    "must be a key of this resource"
                )
            return (
                "Check the credentials: the Microsoft Entra identity must be signed in to the "
                "right tenant and have the `Azure AI User` role on the Foundry project (agent "
                "mode) or on the resource"
            )
        if status == 404:
            return (
                "Check the endpoint (resource name and region; no extra path) and, in agent "
                "mode, the agent and project names"
            )
        if status == 400:
            return (
                f"Check api_version ({self._config.api_version!r}) and the model/agent parameters"
            )
        if status == 429:
            return "The service is throttling; retry later or raise the resource's quota"
        if status >= 500:
            return "The service failed; retry later"
        return "Check the endpoint, credentials and parameters"


@asynccontextmanager
async def open_connection(
    config: ConnectionConfig,
    agent: AgentConfig | ClassicAgentConfig | None = None,
    *,
    credential: Credential | None = None,
) -> AsyncIterator[VoiceLiveConnection]:
    """Open one Voice Live connection (a :class:`VoiceLiveConnector` used once).

    Args:
        config: Endpoint, API version, model/key and transport options.
        agent: A Foundry agent (agent mode), a classic agent, or ``None`` for model mode.
        credential: See :class:`VoiceLiveConnector`.

    Yields:
        The SDK's connected ``VoiceLiveConnection``; it and any credential created here are
        closed when the context exits.

    Raises:
        ConfigError: The mode and the credential do not fit (raised before any I/O).
        ConnectError: The connection could not be opened.
    """
    async with (
        VoiceLiveConnector(config, agent, credential=credential) as connector,
        connector.connect() as connection,
    ):
        yield connection
