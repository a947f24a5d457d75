"""Protocol facts come from ``voiceagent.protocol``: every output format, the 44.1 kHz input rate,
and an import rule that keeps the emulator off the client stack."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from azure.ai.voicelive.models import InputTextContentPart, UserMessageItem

from voiceagent.emulator import Emulator
from voiceagent.protocol.formats import OUTPUT_FORMATS

from .helpers import model_connection, recv_until, send_audio, silence, speech_pcm

EMULATOR_DIR = Path(__file__).resolve().parents[2] / "src" / "voiceagent" / "emulator"


def _dominant_hz(pcm: bytes, rate: int) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(x.size, 1.0 / rate)
    spectrum[freqs < 60] = 0
    return float(freqs[int(np.argmax(spectrum))])


@pytest.mark.parametrize(
    "fmt", ["pcm16_22050hz", "pcm16_24000hz", "pcm16_44100hz", "pcm16_48000hz"]
)
async def test_new_pcm_output_formats_echoed_and_spoken_at_their_rate(fmt: str) -> None:
    rate = OUTPUT_FORMATS[fmt][0]
    # The synthetic voice: its pitch is known exactly (espeak-ng's formats: test_speech.py).
    async with (
        Emulator(realtime=False, voice="synthetic") as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.session.update(session={"output_audio_format": fmt})
        updated = (await recv_until(conn, "session.updated"))[-1]
        assert updated.session["output_audio_format"] == fmt  # the exact string, echoed
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="a b c")])
        )
        await conn.response.create()
        events = await recv_until(conn, "response.done")
        deltas = [e.delta for e in events if e.type == "response.audio.delta"]
        audio = b"".join(deltas)
        assert max(len(d) for d in deltas) == rate // 10 * 2  # 100 ms of PCM16 at `rate`
        # "You said: a b c" lasts the same time at every rate.
        seconds = len(audio) / (rate * 2)
        assert 0.9 < seconds < 2.0
        # Played at `rate`, the voice sits where the synthesiser put it (~140 Hz harmonics);
        # audio rendered at another rate would shift every frequency by the rate ratio.
        assert 100 < _dominant_hz(audio, rate) < 200
        done = events[-1]
        assert done.response["output_audio_format"] == fmt


async def test_pcm16_input_at_44100_is_accepted_echoed_and_detected() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(
            session={"input_audio_format": "pcm16", "input_audio_sampling_rate": 44100}
        )
        events = await recv_until(conn, "session.updated")
        assert "error" not in [e.type for e in events]
        assert events[-1].session["input_audio_sampling_rate"] == 44100
        pcm = speech_pcm(rate=44100)
        await send_audio(conn, silence(400, 44100) + pcm + silence(800, 44100), block_bytes=3528)
        events = await recv_until(conn, "input_audio_buffer.speech_stopped")
        started = next(e for e in events if e.type == "input_audio_buffer.speech_started")
        stopped = events[-1]
        speech_ms = len(pcm) / 2 / 44.1
        assert 0 <= started.audio_start_ms <= 400
        # Audio time is measured at 44.1 kHz: read at another rate the times would be off.
        assert 400 + speech_ms <= stopped.audio_end_ms <= 400 + speech_ms + 800
        await recv_until(conn, "response.done")


def _voiceagent_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "voiceagent"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "voiceagent":
                found.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 1:
            found.append("." * node.level + (node.module or ""))  # climbs out of the package
    return found


def test_emulator_imports_only_protocol_from_voiceagent() -> None:
    files = sorted(EMULATOR_DIR.glob("*.py"))
    assert len(files) > 5
    bad = {
        f.name: [
            m
            for m in _voiceagent_imports(f)
            if not (m == "voiceagent.protocol" or m.startswith("voiceagent.protocol."))
        ]
        for f in files
    }
    assert {name: mods for name, mods in bad.items() if mods} == {}
