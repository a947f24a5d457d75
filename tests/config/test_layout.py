"""voiceagent.config stays pure: no SDK, no audio, small modules, one public surface."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import voiceagent.config

CONFIG_DIR = Path(voiceagent.config.__file__).parent
MODULES = sorted(CONFIG_DIR.glob("*.py"))

ALLOWED = ("voiceagent.errors", "voiceagent.redaction", "voiceagent.protocol", "voiceagent.config")
ALLOWED_OUTSIDE = ("pydantic",)


def imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth (lazy imports included), made absolute."""
    package = "voiceagent.config"
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.append(f"{base}.{node.module}" if node.module else base)
            else:
                names.append(node.module or "")
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_config_imports_only_pure_layers(path: Path) -> None:
    for name in imports(path):
        top = name.split(".")[0]
        if name.startswith("voiceagent."):
            ok = name.startswith(ALLOWED)
            assert ok, f"{path.name} imports {name}"
        else:
            assert (
                top in sys.stdlib_module_names or top in ALLOWED_OUTSIDE or top == "__future__"
            ), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_config_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 400


def test_no_class_lookup_through_globals() -> None:
    for path in MODULES:
        assert "globals()" not in path.read_text(), path.name


def test_public_names() -> None:
    names = voiceagent.config.__all__
    # Constants, then classes, then functions (ruff's RUF022 order), each alphabetical.
    assert names == sorted(names, key=lambda n: (not n.isupper(), n[0].islower(), n))
    for name in names:
        assert getattr(voiceagent.config, name) is not None
    # Every name the rest of the project imports from voiceagent.config (and today's __all__).
    used = {
        "AZURE_NEURAL_VOICE_PATTERN",
        "DEFAULT_API_VERSION",
        "OPENAI_VOICE_NAMES",
        "AgentConfig",
        "AzureCustomVoiceConfig",
        "AzurePersonalVoiceConfig",
        "AzureStandardVoiceConfig",
        "ClassicAgentConfig",
        "ConnectionConfig",
        "EndOfUtteranceDetection",
        "FunctionTool",
        "InputTranscription",
        "LlmInterimResponse",
        "OpenAIVoiceConfig",
        "ReconnectPolicy",
        "SessionOptions",
        "StaticInterimResponse",
        "TurnDetection",
        "TypedVoice",
        "VoiceConfig",
        "resolve_voice",
    }
    assert used <= set(names)
