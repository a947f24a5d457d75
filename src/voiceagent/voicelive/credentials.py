"""Credentials at the SDK edge: wrapping them so tokens are redacted and sync ones never block.

Also the one rule for "is this endpoint local?" (a local emulator needs a stand-in, not the
``DefaultAzureCredential`` chain).
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.credentials_async import AsyncTokenCredential

from ..redaction import register_secret

__all__ = [
    "RecordingCredential",
    "close_credential",
    "fetch_token",
    "is_loopback",
    "is_token_credential",
]


class RecordingCredential:
    """An async token credential that registers each token it hands out for log redaction.

    It wraps the user's sync or async credential (sync calls run in a thread so the event loop
    is not blocked by a token request). It never closes the wrapped credential.
    """

    def __init__(self, inner: AsyncTokenCredential | TokenCredential, tokens: list[str]) -> None:
        self._inner = inner
        self._tokens = tokens

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """A token from the wrapped credential, registered for redaction."""
        token = await fetch_token(
            self._inner, scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, **kwargs
        )
        register_secret(token.token)
        self._tokens.append(token.token)
        return token

    async def close(self) -> None:
        """Nothing: the wrapped credential stays its owner's to close."""
        return None

    async def __aenter__(self) -> RecordingCredential:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        return None


async def fetch_token(
    credential: AsyncTokenCredential | TokenCredential, scopes: tuple[str, ...], **kwargs: Any
) -> AccessToken:
    """A token from a sync or async credential; a sync one runs in a worker thread."""
    result: object
    if inspect.iscoroutinefunction(credential.get_token) or isinstance(
        credential, AsyncTokenCredential
    ):
        result = credential.get_token(*scopes, **kwargs)
    else:
        # A sync credential may do network I/O: keep it off the event loop.
        result = await asyncio.to_thread(credential.get_token, *scopes, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return cast(AccessToken, result)


def is_loopback(endpoint: str) -> bool:
    """Whether ``endpoint``'s host is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_token_credential(credential: object) -> bool:
    """Whether ``credential`` has a ``get_token`` (sync or async token credential)."""
    return callable(getattr(credential, "get_token", None))


async def close_credential(credential: object) -> None:
    """Close a credential we built, sync or async; one without ``close`` needs nothing."""
    close = getattr(credential, "close", None)
    if close is not None:
        result = close()
        if inspect.isawaitable(result):
            await result
