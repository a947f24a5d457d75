"""The README's main job: `voiceagent demo` on the embedded emulator."""

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np


def test_demo_holds_a_voice_conversation_and_writes_the_reply(tmp_path: Path) -> None:
    out = tmp_path / "reply.wav"
    log = tmp_path / "log.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "voiceagent", "demo", "--out", str(out), "--log", str(log)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "     user: What is the weather like in Paris today?" in lines
    assert any(line.startswith("assistant: It is sunny") for line in lines)
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float)
    assert len(audio) > 24000 * 2  # seconds of speech, not an empty file
    assert np.sqrt(np.mean(audio**2)) > 1000  # audible, not silence
    assert '"kind": "turn"' in log.read_text()


def test_bad_configuration_is_a_clear_error_not_a_traceback() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "AGENT_NAME": "concierge",
        "PROJECT_NAME": "contoso",
        "VOICELIVE_ENDPOINT": "not a url",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "voiceagent", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("voiceagent: ")
    assert "VOICELIVE_ENDPOINT" in proc.stderr  # names what to fix
    assert "Traceback" not in proc.stderr
