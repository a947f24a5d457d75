"""The house rules, read from the source: imports point one way, files stay small.

protocol <- config <- voicelive <- session <- {tools, observe, cli}; audio <- bridges; the
emulator imports protocol facts only; only voicelive/ imports the SDK. A new package must be
placed in ALLOWED before it can import anything of ours.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "voiceagent"
MAX_LINES = 500

BOTTOM = {"errors", "redaction", "protocol", "logcontext"}
ALLOWED: dict[str, set[str]] = {
    "protocol": {"protocol"},
    "errors": set(),
    "redaction": set(),
    "logcontext": set(),
    "events": {"protocol"},
    "dispatch": {"events"},
    "config": BOTTOM | {"config"},
    "conversation": BOTTOM | {"events", "conversation"},
    "audio": BOTTOM | {"audio"},
    "bridges": BOTTOM | {"audio", "bridges"},
    "voicelive": BOTTOM | {"config", "voicelive"},
    "session": BOTTOM
    | {
        "events",
        "dispatch",
        "config",
        "conversation",
        "audio",
        "voicelive",
        "session",
        "tools",
        "observe",
    },
    "tools": BOTTOM | {"events", "config", "tools"},
    "observe": BOTTOM | {"events", "conversation", "audio", "observe"},
    "invocations": BOTTOM | {"invocations"},
    # above the session, like cli: the page server drives sessions through bridges
    "serve": BOTTOM | {"events", "config", "audio", "bridges", "session", "serve"},
    "emulator": {"protocol", "emulator"},
    "testing": {"protocol", "emulator", "testing"},
}
"""Package (first part below ``voiceagent``) -> the packages it may import. ``__init__`` (the
public surface), ``__main__`` and ``cli`` (which uses only the public API) are exempt here.

``tools`` and ``observe`` sit *below* the session: ``VoiceAgentSession.tool()``,
``tools=`` and ``session.metrics`` are part of the session's contract, so the session builds
them; they use the session only through its public methods and name its type only under
``TYPE_CHECKING`` (annotations, not a runtime dependency: those imports are not counted)."""

EXEMPT = {"__init__", "__main__", "cli"}
SDK_OWNER = "voicelive"


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def imported(source: str, module: str, is_package: bool) -> list[str]:
    """Absolute names of everything ``source`` (module ``module``) imports, lazy ones included."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    tree = ast.parse(source)
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for inner in ast.walk(stmt)
    }
    names: list[str] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:
                names.extend(f"{prefix}.{alias.name}" for alias in node.names)
            else:
                names.append(prefix)
    return names


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """What ``source`` imports against the rules (empty when it keeps them)."""
    if "." not in module:
        return []  # voiceagent/__init__: the public surface imports from everywhere
    package = module.split(".")[1]
    if package in EXEMPT:
        return []
    if package not in ALLOWED:
        return [f"new package {package!r}: add its allowed imports to ALLOWED"]
    found = []
    for name in imported(source, module, is_package):
        if name.startswith("azure.ai.voicelive") and package != SDK_OWNER:
            found.append(f"{module} imports the SDK ({name}): only voicelive/ may")
        parts = name.split(".")
        if parts[0] != "voiceagent" or len(parts) < 2:
            continue
        if parts[1] not in ALLOWED[package] and parts[1] != package:
            found.append(
                f"{module} imports {name}: {package}/ may import only {sorted(ALLOWED[package])}"
            )
    return found


def module_name(path: Path) -> tuple[str, bool]:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_one_way(path: Path) -> None:
    module, is_package = module_name(path)
    assert violations(path.read_text(), module, is_package) == []


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_source_file_over_the_limit(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)} has {lines} lines: split it by job"


def test_importing_the_emulator_loads_no_client() -> None:
    code = (
        "import sys, voiceagent.emulator; "
        "print(sorted(m for m in ('soxr', 'sounddevice', 'voiceagent.session', "
        "'azure.ai.voicelive', 'voiceagent.config') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_importing_voiceagent_loads_neither_portaudio_nor_the_emulator() -> None:
    code = (
        "import sys, voiceagent; "
        "print(sorted(m for m in ('sounddevice', 'soxr', 'voiceagent.emulator', "
        "'voiceagent.session') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_rules_catch_wrong_imports() -> None:
    # The checker itself must fail on a violation, or the tests above prove nothing.
    assert violations("from ..session import VoiceAgentSession", "voiceagent.config.probe")
    assert violations("import azure.ai.voicelive.aio", "voiceagent.session.probe")
    assert violations("from voiceagent.session import x", "voiceagent.emulator.probe")
    assert violations("from .. import audio", "voiceagent.config.probe")
    assert violations("from ..audio.base import AudioBackend", "voiceagent.voicelive.probe")
    assert not violations("from ..config import SessionOptions", "voiceagent.voicelive.probe")
    assert not violations("from . import x", "voiceagent.session", is_package=True)
    assert violations("from ..session import VoiceAgentSession", "voiceagent.tools.probe")
    typed_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..session import S"
    assert not violations(typed_only, "voiceagent.tools.probe")


# --- private names stay in their package ----------------------------------------------------

PRIVATE_ALLOWED = {
    ("voicelive", "_deserialize"): "the SDK's ServerEvent._deserialize: no public way to build "
    "a typed event from a parsed frame; pinned by tests/voicelive/test_sdk_contract.py",
    ("emulator", "_server"): "aiohttp's TCPSite._server for the bound port (to do: the public "
    "AppRunner.addresses)",
    ("emulator", "_name"): "ctypes' CDLL._name, to tell which espeak-ng was loaded",
}
"""(package, private name) -> why that package may use another's private name."""

PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_make", "_exit", "_field_defaults"}
"""Names that start with ``_`` but are public API (namedtuple's, ``os._exit``)."""


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def private_definitions(source: str) -> set[str]:
    """The ``_names`` a module defines: functions, classes, assignments, ``self._x = ...``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[-1])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if _is_private(n)}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name != "_"


def private_uses(
    source: str, module: str, defined: dict[str, set[str]], is_package: bool = False
) -> list[str]:
    """Another package's private names that ``source`` reaches for (empty when it keeps out).

    ``obj._name`` on anything but ``self``/``cls`` is another package's private name when no
    module of this package defines ``_name`` (the AST has no types: a name this package defines
    counts as its own); ``from ..other import _name`` when ``other`` is another package.
    """
    package = package_of(module)
    own = defined.get(package, set())
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                continue
            name = node.attr
            if name in own or name in PUBLIC_UNDERSCORED or (package, name) in PRIVATE_ALLOWED:
                continue
            found.append(f"{module}:{node.lineno} uses {ast.unparse(node)}: not {package}/'s own")
        elif isinstance(node, ast.ImportFrom):
            base_parts = module.split(".") if is_package else module.split(".")[:-1]
            base = base_parts[: len(base_parts) - node.level + 1] if node.level else []
            source_module = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                target = source_module if node.module else f"{source_module}.{alias.name}"
                if (
                    _is_private(alias.name)
                    and target.startswith("voiceagent.")
                    and package_of(target) != package
                ):
                    found.append(f"{module}:{node.lineno} imports {alias.name} from {target}")
    return found


@functools.cache
def definitions_by_package() -> dict[str, set[str]]:
    defined: dict[str, set[str]] = {}
    for path in modules():
        module, _ = module_name(path)
        defined.setdefault(package_of(module), set()).update(private_definitions(path.read_text()))
    return defined


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_names_of_another_package(path: Path) -> None:
    module, is_package = module_name(path)
    assert private_uses(path.read_text(), module, definitions_by_package(), is_package) == []


def test_the_private_name_rule_catches_reaching_in() -> None:
    defined = {"session": {"_emit", "_sending"}, "tools": {"_session", "_run"}}
    bad = "def run(self):\n    self._session._emit(x)\n    with self._session._sending():\n"
    bad += "        pass\n"
    found = private_uses(bad, "voiceagent.tools.probe", defined)
    assert len(found) == 2 and "self._session._emit" in found[0]
    assert private_uses("from ..session.core import _Listener", "voiceagent.tools.probe", defined)
    assert private_uses("import x\nx._private()", "voiceagent.observe.probe", defined)
    # its own names and the public port are fine
    good = "def run(self):\n    self._run()\n    self._session.publish(x)\n    other._run()\n"
    assert private_uses(good, "voiceagent.tools.probe", defined) == []
    assert not private_uses("from .core import _Listener", "voiceagent.session.probe", defined)
    assert not private_uses("t._replace(a=1)", "voiceagent.tools.probe", defined)
    # the measured sources define their names: the session's engine is the session's own
    assert "_emit" not in definitions_by_package().get("tools", set())
