"""Shared helpers for the emulator tests: real-SDK connections, speech input, event collection."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential

from voiceagent.emulator.voice import synthesize
from voiceagent.testing import EmulatorCredential

KEY = "emulator-key"
TOKEN = "emulator-token"


FakeTokenCredential = EmulatorCredential  # Entra ID cannot exist here; the emulator sees the bearer


@asynccontextmanager
async def model_connection(endpoint: str, **kwargs: Any) -> AsyncIterator[VoiceLiveConnection]:
    kwargs.setdefault("model", "gpt-realtime")
    kwargs.setdefault("credential", AzureKeyCredential(KEY))
    async with connect(endpoint=endpoint, **kwargs) as conn:
        yield conn


def speech_pcm(text: str = "Hello there, how are you doing today", rate: int = 24000) -> bytes:
    """Speech-like PCM16 at ``rate`` (the emulator's own voice, which espeak-level VADs accept)."""
    fmt = {24000: "pcm16", 16000: "pcm16_16000hz", 8000: "pcm16_8000hz", 44100: "pcm16_44100hz"}[
        rate
    ]
    return synthesize(text, fmt).audio


def silence(ms: int, rate: int = 24000) -> bytes:
    return bytes(rate * ms // 1000 * 2)


def noise(ms: int, dbfs: float, rate: int = 24000, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(rate * ms // 1000)
    x *= (10 ** (dbfs / 20) * 32768) / np.sqrt(np.mean(x * x))
    return np.clip(x, -32768, 32767).astype("<i2").tobytes()


async def send_audio(conn: VoiceLiveConnection, pcm: bytes, block_bytes: int = 960 * 4) -> None:
    for i in range(0, len(pcm), block_bytes):
        await conn.input_audio_buffer.append(
            audio=base64.b64encode(pcm[i : i + block_bytes]).decode()
        )


async def recv_until(
    conn: VoiceLiveConnection, event_type: str, timeout: float = 10.0
) -> list[Any]:
    """Receive events until (and including) ``event_type``; return them all."""
    events: list[Any] = []

    async def loop() -> None:
        while True:
            ev = await conn.recv()
            events.append(ev)
            if ev.type == event_type:
                return

    await asyncio.wait_for(loop(), timeout)
    return events


def types_of(events: list[Any]) -> list[str]:
    return [str(e.type) for e in events]


def pcm_rms_dbfs(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(20 * np.log10(np.sqrt(np.mean(x * x)) / 32768 + 1e-12))


def espeak_pcm(tmp_dir: Any, text: str, rate: int = 24000, dbfs: float = -23.0) -> bytes:
    """Real synthesized speech (espeak-ng, resampled by sox) at ``dbfs`` RMS, or skip the test."""
    import shutil
    import subprocess
    import wave

    import pytest

    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox are needed for a real spoken sample")
    raw = f"{tmp_dir}/espeak.wav"
    out = f"{tmp_dir}/espeak_{rate}.wav"
    subprocess.run(["espeak-ng", "-w", raw, text], check=True, capture_output=True)
    subprocess.run(["sox", raw, "-r", str(rate), "-b", "16", out], check=True, capture_output=True)
    with wave.open(out, "rb") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    x *= (10 ** (dbfs / 20) * 32768) / np.sqrt(np.mean(x * x))
    return np.clip(x, -32768, 32767).astype("<i2").tobytes()
