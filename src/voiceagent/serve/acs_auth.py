"""ACS media sockets authenticated by the JWT ACS sends: ``Authorization: Bearer <RS256 JWT>``.

Call Automation signs each connection with a token whose issuer is
``https://acscallautomation.communication.azure.com`` and whose audience is your Communication
Services resource's immutable id; the signing keys are published as a JWKS (PyJWT's
``PyJWKClient`` fetches and caches them). :meth:`AcsJwtCheck.check` accepts a socket whose JWT
is valid, refuses one whose JWT is not, and without any ``Authorization`` header falls back to
the one-time token minted into the transport URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..bridges.telephony.backend import CallInfo

__all__ = ["ACS_ISSUER", "ACS_JWKS_URL", "AcsJwtCheck"]

log = logging.getLogger("voiceagent.serve")

ACS_ISSUER = "https://acscallautomation.communication.azure.com"
ACS_JWKS_URL = "https://acscallautomation.communication.azure.com/calling/keys"
"""The ``jwks_uri`` of ACS's OpenID configuration (``.well-known/acsopenidconfiguration``)."""

Fallback = Callable[[CallInfo, web.Request], "bool | Awaitable[bool]"]


class AcsJwtCheck:
    """A ``check`` for ``hold_call(..., "acs")`` that validates ACS's bearer JWT."""

    def __init__(
        self,
        resource_id: str,
        *,
        jwks_url: str = ACS_JWKS_URL,
        issuer: str = ACS_ISSUER,
        fallback: Fallback | None = None,
    ) -> None:
        """Check tokens for ``resource_id`` (the audience), signed by a key from ``jwks_url``.

        Args:
            resource_id: The Communication Services resource's immutable id.
            jwks_url: Where the signing keys are published (ACS's by default).
            issuer: The expected ``iss``.
            fallback: Decides a socket with no ``Authorization`` header (None: refused).
        """
        from jwt import PyJWKClient

        if not resource_id:
            raise ValueError("resource_id is empty: give your ACS resource's immutable id")
        self.resource_id = resource_id
        self.issuer = issuer
        self.fallback = fallback
        self._keys = PyJWKClient(jwks_url, cache_keys=True, timeout=10)

    def _valid(self, token: str) -> bool:
        import jwt

        try:
            key = self._keys.get_signing_key_from_jwt(token)
            jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.resource_id,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:  # the reason, never the token
            log.warning("refused an ACS media socket: invalid JWT (%s)", type(exc).__name__)
            return False
        return True

    async def check(self, call: CallInfo, request: web.Request) -> bool:
        """True for a valid ACS JWT; False for an invalid one; else the fallback decides."""
        header = request.headers.get("Authorization", "")
        if not header:
            if self.fallback is None:
                return False
            allowed = self.fallback(call, request)
            return allowed if isinstance(allowed, bool) else await allowed
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return await asyncio.to_thread(self._valid, token.strip())  # the JWKS fetch blocks

    def __repr__(self) -> str:
        return f"AcsJwtCheck(resource_id={self.resource_id!r}, issuer={self.issuer!r})"
