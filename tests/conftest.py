"""Shared fixtures. The emulator fixture users get comes from voiceagent.testing (pytest11)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No Voice Live variables from the developer's shell leak into a test."""
    import os

    for name in list(os.environ):
        if name.startswith(
            ("VOICELIVE_", "AZURE_VOICELIVE_", "AGENT_", "PROJECT_NAME")
        ) or name in (
            "CONVERSATION_ID",
            "FOUNDRY_RESOURCE_OVERRIDE",
        ):
            monkeypatch.delenv(name)
    yield
