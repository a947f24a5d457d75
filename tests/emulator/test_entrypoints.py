"""The three ways to start the emulator: in-process (everywhere else), pytest fixture, CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from azure.core.credentials import AzureKeyCredential

from voiceagent.emulator import Emulator, main

from .helpers import model_connection, recv_until


async def test_pytest_fixture(voicelive_emulator: Emulator) -> None:
    assert isinstance(voicelive_emulator, Emulator)
    assert voicelive_emulator.settings.realtime is False
    voicelive_emulator.script.user_says("hi")
    async with model_connection(voicelive_emulator.endpoint) as conn:
        assert (await conn.recv()).type == "session.created"
    assert len(voicelive_emulator.sessions) == 1


def test_testing_module_imports_cheaply() -> None:
    # The plugin loads in every pytest run of anyone who installs voiceagent: it must not
    # import the emulator (the package root's own imports are not this module's business).
    code = (
        "import sys, voiceagent.testing; "
        "print(any(m.startswith('voiceagent.emulator') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_main_help() -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0


async def test_cli_serves_until_sigterm() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voiceagent.emulator",
        "--port",
        "0",
        "--fast",
        "--api-key",
        "cli-key",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert "listening on http://127.0.0.1:" in line
        endpoint = line.strip().rsplit(" ", 1)[-1]
        async with model_connection(endpoint, credential=AzureKeyCredential("cli-key")) as conn:
            await conn.recv()
            await conn.response.create()
            done = (await recv_until(conn, "response.done"))[-1]
            assert done.response.status == "completed"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 10)
    assert code == 0


def test_emulator_never_imports_the_client_side() -> None:
    # Dependency rule: the emulator is a separate server that only knows protocol facts.
    import ast
    from pathlib import Path

    import voiceagent.emulator as package

    forbidden = ("voiceagent.session", "voiceagent.config", "voiceagent.connection")
    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(forbidden), (path.name, node.module)
                assert not (node.level >= 2), (path.name, "relative import out of the package")
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(forbidden), (path.name, alias.name)
