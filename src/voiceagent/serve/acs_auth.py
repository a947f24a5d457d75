"""ACS media sockets authenticated by the JWT ACS sends: ``Authorization: Bearer <RS256 JWT>``.

Call Automation signs each connection with a token whose issuer is
``https://acscallautomation.communication.azure.com`` and whose audience is your Communication
Services resource's immutable id. Microsoft documents the validation as standard OpenID Connect:
fetch the OpenID configuration at :data:`ACS_OPENID_CONFIG_URL` and check the signature against
the keys of its ``jwks_uri`` ("How to secure webhook endpoints and websocket connections",
https://learn.microsoft.com/azure/communication-services/how-tos/call-automation/secure-webhook-endpoint;
its Python and JavaScript samples use the ``jwks_uri`` it names, :data:`ACS_JWKS_URL`, directly).
The configuration is read once and cached (a failed read is retried on the next socket); PyJWT's
``PyJWKClient`` fetches and caches the keys. :meth:`AcsJwtCheck.check` accepts a socket whose
JWT is valid, refuses one whose JWT is not, and without any ``Authorization`` header falls back
to the one-time token minted into the transport URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..bridges.telephony.backend import CallInfo

__all__ = ["ACS_ISSUER", "ACS_JWKS_URL", "ACS_OPENID_CONFIG_URL", "AcsJwtCheck"]

log = logging.getLogger("voiceagent.serve")

ACS_ISSUER = "https://acscallautomation.communication.azure.com"
ACS_OPENID_CONFIG_URL = (
    "https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration"
)
"""ACS's OpenID configuration, whose ``jwks_uri`` names the signing keys (Microsoft's docs)."""
ACS_JWKS_URL = "https://acscallautomation.communication.azure.com/calling/keys"
"""The ``jwks_uri`` that configuration names today (Microsoft's Python and JavaScript samples)."""

Fallback = Callable[[CallInfo, web.Request], "bool | Awaitable[bool]"]


class AcsJwtCheck:
    """A ``check`` for ``hold_call(..., "acs")`` that validates ACS's bearer JWT."""

    def __init__(
        self,
        resource_id: str,
        *,
        jwks_url: str | None = None,
        openid_config_url: str = ACS_OPENID_CONFIG_URL,
        issuer: str = ACS_ISSUER,
        fallback: Fallback | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Check tokens for ``resource_id`` (the audience), signed by a key ACS publishes.

        Args:
            resource_id: The Communication Services resource's immutable id.
            jwks_url: Where the signing keys are published (None: the ``jwks_uri`` of
                ``openid_config_url``, read on the first socket).
            openid_config_url: ACS's OpenID configuration (ACS's by default).
            issuer: The expected ``iss``.
            fallback: Decides a socket with no ``Authorization`` header (None: refused).
            ssl_context: For the https fetches (None: the system's trust store).
        """
        if not resource_id:
            raise ValueError("resource_id is empty: give your ACS resource's immutable id")
        self.resource_id = resource_id
        self.issuer = issuer
        self.fallback = fallback
        self.openid_config_url = openid_config_url
        self._ssl = ssl_context
        self._lock = threading.Lock()
        self._keys: Any = None if jwks_url is None else self._key_client(jwks_url)

    def _key_client(self, jwks_url: str) -> Any:
        from jwt import PyJWKClient

        return PyJWKClient(jwks_url, cache_keys=True, timeout=10, ssl_context=self._ssl)

    def _signing_keys(self) -> Any:
        """The key client, built from the OpenID configuration's ``jwks_uri`` the first time."""
        with self._lock:
            if self._keys is None:
                with urllib.request.urlopen(
                    self.openid_config_url, timeout=10, context=self._ssl
                ) as response:
                    config = json.load(response)
                jwks_uri = config.get("jwks_uri") if isinstance(config, dict) else None
                if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
                    raise ValueError(
                        f"{self.openid_config_url} has no https jwks_uri; give jwks_url= instead"
                    )
                self._keys = self._key_client(jwks_uri)
            return self._keys

    def _valid(self, token: str) -> bool:
        import jwt

        try:
            keys = self._signing_keys()
        except (OSError, ValueError) as exc:  # retried on the next socket
            log.warning("refused an ACS request: ACS's keys are unreachable (%s)", exc)
            return False
        try:
            key = keys.get_signing_key_from_jwt(token)
            jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.resource_id,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:  # the reason, never the token
            log.warning("refused an ACS request: invalid JWT (%s)", type(exc).__name__)
            return False
        return True

    async def check(self, call: CallInfo, request: web.Request) -> bool:
        """True for a valid ACS JWT; False for an invalid one; else the fallback decides."""
        if not request.headers.get("Authorization", ""):
            if self.fallback is None:
                return False
            allowed = self.fallback(call, request)
            return allowed if isinstance(allowed, bool) else await allowed
        return await self.verify(request)

    async def verify(self, request: web.Request) -> bool:
        """Whether ``request`` carries a valid ACS bearer JWT (no fallback: none is False).

        Call Automation signs its callbacks the same way (a 5-minute JWT per event).
        """
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return await asyncio.to_thread(self._valid, token.strip())  # the JWKS fetch blocks

    def __repr__(self) -> str:
        return f"AcsJwtCheck(resource_id={self.resource_id!r}, issuer={self.issuer!r})"
