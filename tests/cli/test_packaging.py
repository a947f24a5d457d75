"""Packaging facts a user sees: the license file exists and the metadata names it (SPDX)."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_license_is_an_spdx_expression_with_its_file() -> None:
    """``license = {text = ...}`` makes setuptools >= 77 print a deprecation banner per build."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    requires = project["build-system"]["requires"]
    assert any(r.replace(" ", "").startswith("setuptools>=7") for r in requires)


def test_the_console_script_points_at_the_cli_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"voiceagent": "voiceagent.cli:main"}
    from voiceagent.cli import main

    assert callable(main)
