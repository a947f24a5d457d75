"""Validation of the WebSocket handshake: api-version, authentication and the connection mode.

Checked in this order, each failure an HTTP error with a JSON body ``{"error": {code, message}}``:
credentials present (401), ``api-version`` (400), mode parameters (400), the kind of credential
the mode allows (401), the credential's value (401).

Credentials are read from the headers (``api-key``, ``Authorization: Bearer``) or, as the JS SDK's
browser build sends them (a browser WebSocket cannot set headers), from the query: ``api-key=``
and ``authorization=Bearer%20<token>``. A header wins over the query.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SUPPORTED_API_VERSIONS",
    "HandshakeError",
    "HandshakeInfo",
    "Headers",
    "validate_handshake",
]

SUPPORTED_API_VERSIONS: frozenset[str] = frozenset(
    {"2025-05-01-preview", "2025-10-01", "2026-01-01-preview", "2026-04-10", "2026-07-15"}
)
"""API versions the emulator accepts (those of azure-ai-voicelive 1.0.0 to 1.3.1)."""


class Headers(dict[str, str]):
    """Handshake headers as received, looked up case-insensitively."""

    def _key(self, name: object) -> object:
        if isinstance(name, str) and not super().__contains__(name):
            for key in self:
                if key.lower() == name.lower():
                    return key
        return name

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(str(self._key(name)))

    def __contains__(self, name: object) -> bool:
        return super().__contains__(self._key(name))

    def get(self, name: str, default: Any = None) -> Any:
        """The header's value (any case), or ``default``."""
        return super().get(str(self._key(name)), default)


class HandshakeError(Exception):
    """A refused handshake: HTTP ``status`` with an error ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class HandshakeInfo:
    """What an accepted handshake asked for.

    Attributes:
        mode: ``"model"``, ``"agent"`` or ``"classic_agent"``.
        auth: ``"api-key"`` or ``"bearer"``.
        model: The ``model`` query value, if any.
        agent_name: ``agent-name`` (agent mode) or ``agent-id`` (classic mode).
        project_name: ``agent-project-name`` or ``agent-connection-string``.
        agent_version: ``agent-version``, if any.
        conversation_id: ``conversation-id``, if any.
        foundry_resource_override: ``foundry-resource-override``, if any.
    """

    mode: str
    auth: str
    model: str | None
    agent_name: str | None
    project_name: str | None
    agent_version: str | None
    conversation_id: str | None
    foundry_resource_override: str | None


def validate_handshake(
    query: Mapping[str, str],
    headers: Mapping[str, str],
    *,
    api_key: str | None,
    token: str | None,
    api_versions: Collection[str] = SUPPORTED_API_VERSIONS,
    models: Collection[str] | None = None,
) -> HandshakeInfo:
    """Check a handshake; return what it asked for or raise :class:`HandshakeError`.

    Args:
        query: The URL query.
        headers: The request headers (case-insensitive mapping).
        api_key: The expected ``api-key``; ``None`` accepts any non-empty key.
        token: The expected bearer (and ``agent-access-token``); ``None`` accepts any.
        api_versions: Accepted ``api-version`` values.
        models: Accepted ``model`` values in model mode; ``None`` accepts any.
    """
    key = (headers.get("api-key", "") or query.get("api-key", "")).strip()
    authorization = (headers.get("Authorization", "") or query.get("authorization", "")).strip()
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    if not key and not bearer:
        raise HandshakeError(
            401,
            "Unauthorized",
            "Access denied due to missing credentials: provide an 'api-key' header or "
            "'Authorization: Bearer <token>' (or, from a browser, the 'api-key' or "
            "'authorization=Bearer <token>' query parameter).",
        )
    version = query.get("api-version")
    if not version:
        raise HandshakeError(
            400, "MissingApiVersionParameter", "The api-version query parameter is required."
        )
    if version not in api_versions:
        raise HandshakeError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. Supported versions: "
            f"{', '.join(sorted(api_versions))}.",
        )

    agent_name = query.get("agent-name") or None
    project = query.get("agent-project-name") or None
    agent_id = query.get("agent-id") or None
    if agent_id:
        mode = "classic_agent"
        project = project or query.get("agent-connection-string") or None
        if not project:
            raise HandshakeError(
                400,
                "BadRequest",
                "agent-id requires agent-project-name "
                "(or agent-connection-string for hub projects).",
            )
        access_token = query.get("agent-access-token")
        if not access_token:
            raise HandshakeError(401, "Unauthorized", "agent-id requires an agent-access-token.")
        if token is not None and access_token != token:
            raise HandshakeError(401, "Unauthorized", "The agent-access-token is invalid.")
        agent_name = agent_id
    elif agent_name or project:
        if not (agent_name and project):
            raise HandshakeError(
                400,
                "BadRequest",
                "agent-name and agent-project-name must be given together.",
            )
        mode = "agent"
        if not bearer:
            raise HandshakeError(
                401,
                "Unauthorized",
                "Agent mode requires Microsoft Entra ID authentication (Authorization: Bearer); "
                "key auth is not supported for agent invocation.",
            )
    else:
        mode = "model"
        model = query.get("model")
        if not model:
            raise HandshakeError(
                400,
                "BadRequest",
                "Either a model or agent-name and agent-project-name is required.",
            )
        if models is not None and model not in models:
            # The status and code the service uses are inferred (docs/emulator.md).
            raise HandshakeError(
                400,
                "BadRequest",
                f"The model '{model}' is not supported by Voice Live. Supported models: "
                f"{', '.join(sorted(models))}. (Emulator: add more with the models option "
                "or --model.)",
            )

    if bearer:
        if token is not None and bearer != token:
            raise HandshakeError(401, "Unauthorized", "The bearer token is invalid or expired.")
        auth = "bearer"
    else:
        if api_key is not None and key != api_key:
            raise HandshakeError(
                401,
                "Unauthorized",
                "Access denied due to invalid subscription key. Make sure to provide a valid key.",
            )
        auth = "api-key"
    return HandshakeInfo(
        mode=mode,
        auth=auth,
        model=query.get("model") or None,
        agent_name=agent_name,
        project_name=project,
        agent_version=query.get("agent-version") or None,
        conversation_id=query.get("conversation-id") or None,
        foundry_resource_override=query.get("foundry-resource-override") or None,
    )
