"""Running ``voiceagent`` as a user does: a subprocess, through pipes or a pseudo-terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("VOICELIVE_", "AZURE_VOICELIVE_", "AGENT_", "PROJECT_NAME"))
    and k not in ("CONVERSATION_ID", "FOUNDRY_RESOURCE_OVERRIDE", "VOICE_NAME")
}


def voiceagent(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiceagent", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
        env={**CLEAN_ENV, **(env or {})},
    )


def write_wav(path: Path, pcm: np.ndarray, rate: int = 24000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())
    return path


def speech_like(seconds: float, rate: int = 24000) -> np.ndarray:
    """Syllable-like voiced bursts the emulator's VAD takes for speech, then 1 s of silence."""
    t = np.arange(int(0.2 * rate)) / rate
    syllable = 9000 * np.sin(2 * np.pi * 150 * t) * np.sin(np.pi * t / t[-1])
    gap = np.zeros(int(0.05 * rate))
    count = max(1, int(seconds / 0.25))
    return np.concatenate([*([syllable, gap] * count), np.zeros(rate)])
