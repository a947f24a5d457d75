"""The CLI is an application of the library: it imports public names only."""

from __future__ import annotations

import ast
from pathlib import Path

import voiceagent
import voiceagent.audio
import voiceagent.config
import voiceagent.emulator
import voiceagent.observe.chart
import voiceagent.serve
import voiceagent.testing

CLI = Path(voiceagent.__file__).resolve().parent / "cli"
PUBLIC = {
    "voiceagent": {*voiceagent.__all__, "__version__"},
    "voiceagent.audio": set(voiceagent.audio.__all__),
    "voiceagent.config": set(voiceagent.config.__all__),
    "voiceagent.emulator": set(voiceagent.emulator.__all__),
    "voiceagent.testing": set(voiceagent.testing.__all__),
    "voiceagent.observe.chart": set(voiceagent.observe.chart.__all__),
    "voiceagent.serve": set(voiceagent.serve.__all__),
}


def violations(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.ImportFrom):
            if node.level > 1 or (node.level == 0 and (node.module or "").startswith("voiceagent")):
                module = node.module or ""
                if node.level > 1 or module not in PUBLIC:
                    if not module.startswith("voiceagent.cli"):
                        found.append(f"{filename}:{node.lineno}: from {'.' * node.level}{module}")
                    continue
                for alias in node.names:
                    if alias.name not in PUBLIC[module]:
                        found.append(f"{filename}:{node.lineno}: {module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                if name.startswith("voiceagent.") and name not in PUBLIC:
                    found.append(f"{filename}:{node.lineno}: import {name}")
    return found


def test_the_cli_imports_only_public_names() -> None:
    files = sorted(CLI.glob("*.py"))
    assert len(files) >= 5
    problems = [v for f in files for v in violations(f.read_text(), f.name)]
    assert problems == []


def test_the_check_catches_private_imports() -> None:
    bad = (
        "from voiceagent.session.session import VoiceAgentSession\n"
        "from ..emulator.voice import synthesize\n"
        "import voiceagent.audio.devices\n"
        "from voiceagent import _WHERE\n"
        "from voiceagent.emulator import Emulator\n"
        "from .view import ConsoleView\n"
    )
    assert len(violations(bad, "bad.py")) == 4
