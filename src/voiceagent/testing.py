"""Pytest plugin (auto-loaded via the ``pytest11`` entry point): fixtures for users' own tests.

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

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiceagent.emulator import Emulator

__all__ = ["voicelive_emulator"]


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
