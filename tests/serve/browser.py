"""Headless Chromium (Debian's) driven by Playwright, with a spoken WAV as its microphone."""

from __future__ import annotations

import contextlib
import shutil
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from voiceagent.emulator.voice import synthesize

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require_browser() -> None:
    """Skip (with the fix) when Chromium or Playwright's Python package is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed: run scripts/system-deps.sh (make install) as root")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright not installed: pip install -e '.[dev]'")


def speech_wav(path: Path, text: str, silence_s: float) -> Path:
    """``text`` spoken (espeak-ng when installed) then ``silence_s`` of silence, 24 kHz mono.

    Chromium loops the file: the speech comes again ``silence_s`` after it ended, over the
    agent's reply, which is how the tests interrupt it.
    """
    pcm = synthesize(text).audio + bytes(int(24000 * silence_s) * 2)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24000)
        out.writeframes(pcm)
    return path


@contextlib.asynccontextmanager
async def chromium(microphone: Path, *, allow_microphone: bool = True) -> AsyncIterator[Any]:
    """A headless Chromium whose microphone plays ``microphone`` (looped).

    ``allow_microphone=False``: no automatic yes to the permission prompt (Playwright denies it).
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *(["--use-fake-ui-for-media-stream"] if allow_microphone else []),
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={microphone}",
                "--autoplay-policy=no-user-gesture-required",
                "--no-sandbox",
            ],
        )
        try:
            yield browser
        finally:
            await browser.close()


def console_errors(page: Any) -> list[str]:
    """Collect the page's console errors and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors
