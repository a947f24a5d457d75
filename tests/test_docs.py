"""The documentation: the site builds strictly, its runnable code runs, its links stay home."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
RUNS = re.compile(r"<!-- test: runs -->\s*\n```python\n(.*?)\n```", re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _runnable() -> list[tuple[str, str]]:
    return [
        (f"{page.relative_to(ROOT)}#{i}", code)
        for page in PAGES
        for i, code in enumerate(RUNS.findall(page.read_text()))
    ]


def test_pages_claim_runnable_code() -> None:
    where = {name.split("#")[0] for name, _ in _runnable()}
    assert {"README.md", "docs/getting-started.md"} <= where


@pytest.mark.parametrize(("name", "code"), _runnable(), ids=lambda v: v if "#" in v else "")
def test_runnable_code_blocks_run_as_written(name: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(code)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.returncode == 0, f"{name}:\n{proc.stderr}"
    assert "assistant: " in proc.stdout


def test_links_stay_in_the_repository_or_go_to_public_pages() -> None:
    problems = []
    for page in PAGES:
        text = page.read_text()
        if "shared/docs" in text:
            problems.append(f"{page.name}: mentions shared/docs (not in the repository)")
        for target in LINK.findall(text):
            if target.startswith(("https://", "http://127.0.0.1", "#", "mailto:")):
                continue
            if target.startswith("http://"):
                problems.append(f"{page.name}: insecure link {target}")
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            home = ROOT if page.parent == ROOT else DOCS
            if not path.is_relative_to(home) or not path.exists():
                problems.append(f"{page.relative_to(ROOT)}: {target}")
    assert problems == []


@pytest.mark.skipif(
    shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None,
    reason="the docs extra is not installed: pip install -e '.[docs]'",
)
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "mkdocs"),
            "build",
            "--strict",
            "--site-dir",
            str(tmp_path / "site"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "send_function_result" in api  # the reference comes from the docstrings
