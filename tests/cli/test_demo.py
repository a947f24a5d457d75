"""The README's first command: ``voiceagent demo`` on the embedded emulator, with a barge-in."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from .helpers import voiceagent


def test_demo_holds_a_conversation_with_an_interruption(tmp_path: Path) -> None:
    out = tmp_path / "reply.wav"
    log = tmp_path / "log.jsonl"
    proc = voiceagent("demo", "--out", str(out), "--log", str(log), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no warnings, no banners
    lines = proc.stdout.splitlines()
    talk = [line.strip() for line in lines if line.strip().startswith(("user:", "assistant:"))]
    assert talk[0] == "user: What is the weather like in Paris today?"
    assert talk[1].startswith("assistant: It is sunny") and talk[1].endswith("[interrupted]")
    assert talk[2:] == [
        "user: Thanks, that is all I needed.",
        "assistant: You are welcome. Goodbye!",
    ]
    assert any("the user cut in after hearing" in line for line in lines)
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float)
    assert len(audio) > 24000  # seconds of speech, not an empty file
    assert np.sqrt(np.mean(audio**2)) > 1000  # audible, not silence
    assert '"interrupted": true' in log.read_text()
    # the latency figures and their chart (matplotlib is installed with the dev extra)
    assert any(line.startswith("speech end -> first audio played: p50") for line in lines)
    chart = out.with_name("reply-latency.png")
    assert f"latency chart: {chart}" in lines
    assert chart.read_bytes().startswith(b"\x89PNG")
