from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from audio_device import VirtualCard, reinit_portaudio

SPEECH_TEXT = "Hello, what is the weather like today?"


class Recorder:
    """An AudioListener that records what a backend reports and lets tests await it."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.idle = 0
        self.closed: str | None = None
        self.error: BaseException | None = None
        self._changed = asyncio.Event()

    def on_input(self, pcm: bytes) -> None:
        self.blocks.append(pcm)
        self._changed.set()

    def on_playback_idle(self) -> None:
        self.idle += 1
        self._changed.set()

    def on_closed(self, reason: str) -> None:
        self.closed = reason
        self._changed.set()

    def on_error(self, exc: BaseException) -> None:
        self.error = exc
        self._changed.set()

    def mic(self) -> npt.NDArray[np.int16]:
        return np.frombuffer(b"".join(self.blocks), dtype="<i2").astype(np.int16)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait for a condition re-checked on every report (and every 50 ms), or fail."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.05)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def virtual_card(tmp_path: Path) -> Iterator[VirtualCard]:
    card = VirtualCard(tmp_path).start()
    try:
        yield card
    finally:
        card.close()


@pytest.fixture
def virtual_card_48k(tmp_path: Path) -> Iterator[VirtualCard]:
    """A card pinned at 48 kHz without rate converter: it refuses 24 kHz."""
    card = VirtualCard(tmp_path, pinned_rate=48000).start()
    try:
        yield card
    finally:
        card.close()


NO_INPUT_CARD = "pcm.!default {\n    type asym\n    playback.pcm { type null }\n}\n"
"""An ALSA configuration whose only device is a speaker (PortAudio: 0 in, 128 out)."""
NO_DEVICE_CARD = "pcm.!default {\n    type asym\n}\n"
"""An ALSA configuration with a default PCM that opens in neither direction: no devices."""


@pytest.fixture
def alsa_config(tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """Point ALSA (and a re-initialised PortAudio) at a configuration text for this test.

    For device-selection errors only: no streams are meant to open on these configurations.
    """
    saved = os.environ.get("ALSA_CONFIG_PATH")

    def use(text: str) -> None:
        path = tmp_path / "asound-test.conf"
        path.write_text(text)
        os.environ["ALSA_CONFIG_PATH"] = str(path)
        reinit_portaudio()

    try:
        yield use
    finally:
        if saved is None:
            os.environ.pop("ALSA_CONFIG_PATH", None)
        else:
            os.environ["ALSA_CONFIG_PATH"] = saved
        reinit_portaudio()


def tone(
    freq: float, seconds: float, rate: int = 24000, amp: float = 8000.0
) -> npt.NDArray[np.int16]:
    # Phase offset so that the first sample is not zero (locating it by content is then exact).
    t = np.arange(int(seconds * rate)) / rate
    return np.round(amp * np.sin(2 * np.pi * freq * t + 0.5)).astype(np.int16)


def find(haystack: npt.NDArray[np.int16], needle: npt.NDArray[np.int16]) -> int:
    """Index of the first occurrence of ``needle`` (-1 if absent)."""
    head = needle[:64]
    candidates = np.flatnonzero(haystack[: len(haystack) - len(head) + 1] == head[0])
    for i in candidates:
        if np.array_equal(haystack[i : i + len(needle)], needle):
            return int(i)
    return -1


@pytest.fixture(scope="session")
def speech_wav(request: pytest.FixtureRequest) -> Path:
    """A spoken sentence, 24 kHz PCM16 mono with 0.5 s of digital silence around it (cached)."""
    cache = Path(request.config.cache.mkdir("voiceagent-audio"))
    out = cache / "speech24.wav"
    if out.exists():
        return out
    for tool, package in (("espeak-ng", "espeak-ng"), ("sox", "sox")):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: sudo apt-get install {package} (or: make system-deps)")
    raw = cache / "speech_raw.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), SPEECH_TEXT], check=True
    )
    tmp = cache / "speech24.tmp.wav"
    subprocess.run(
        [
            "sox",
            "-D",
            str(raw),
            "-r",
            "24000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(tmp),
            "pad",
            "0.5",
            "0.5",
        ],
        check=True,
    )
    tmp.replace(out)
    return out


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(
            np.int16
        ), w.getframerate()
