"""Pytest plugin (auto-loaded via the ``pytest11`` entry point): fixtures for users' own tests.

Also :class:`EmulatorCredential`, a stand-in for Entra ID (agent mode needs a token credential).

Fixtures:
    voicelive_emulator: A running :class:`voiceagent.emulator.Emulator` on a free loopback port,
        with fast audio (``realtime=False``), accepting any key or token. Point your app at
        ``voicelive_emulator.endpoint``; script the agent with ``voicelive_emulator.script``
        (rules, ``user_says(...)``) and inspect ``voicelive_emulator.sessions``. Function-scoped:
        every test gets a fresh emulator. Needs pytest-asyncio (or another plugin that runs
        async fixtures).

Example::

    async def test_greets(voicelive_emulator):
        async with connect(endpoint=voicelive_emulator.endpoint,
                           credential=AzureKeyCredential("any"), model="gpt-realtime") as conn:
            ...

This module imports nothing heavy at import time and never fails to import: the emulator is
imported when the fixture runs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken

    from voiceagent.emulator import Emulator

__all__ = ["EmulatorCredential", "voicelive_emulator"]


class EmulatorCredential:
    """A stand-in for Microsoft Entra ID when talking to the emulator.

    Agent mode accepts only Entra tokens (never an API key), so an app under test needs a token
    credential even offline. This one hands out a fixed token that the emulator accepts (the
    emulator's default accepts any token; pass ``token=`` to match ``Emulator(token=...)``).
    It implements ``azure.core.credentials_async.AsyncTokenCredential``.

    Args:
        token: The token to hand out.
    """

    def __init__(self, token: str = "emulator-token") -> None:
        self._token = token
        self.scopes: list[tuple[str, ...]] = []
        """The scopes each ``get_token`` call asked for (to check what your app requests)."""

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """A token valid for an hour."""
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self._token, int(time.time()) + 3600)

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> EmulatorCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return "EmulatorCredential(token=<redacted>)"


async def _voicelive_emulator() -> AsyncIterator[Emulator]:
    from voiceagent.emulator import Emulator

    async with Emulator(realtime=False) as emulator:
        yield emulator


def _as_fixture(fn: Any) -> Any:
    """Register ``fn`` as an async fixture with whatever fixture machinery is installed."""
    try:
        import pytest_asyncio

        return pytest_asyncio.fixture(fn, name="voicelive_emulator")
    except ImportError:
        pass
    try:
        import pytest

        return pytest.fixture(fn, name="voicelive_emulator")
    except ImportError:  # imported outside pytest: nothing to register
        return fn


voicelive_emulator = _as_fixture(_voicelive_emulator)
