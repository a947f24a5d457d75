"""``voiceagent run`` end to end on the embedded emulator: pipes, files, a pseudo-terminal."""

from __future__ import annotations

import json
import re
import signal
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pexpect
import pytest

from .helpers import CLEAN_ENV, speech_like, voiceagent, write_wav


def test_text_through_pipes_greets_answers_and_says_how_to_resume(tmp_path: Path) -> None:
    proc = voiceagent(
        "run",
        "--emulator",
        "--text",
        "--greeting",
        "llm",
        "--log-dir",
        str(tmp_path / "logs"),
        stdin="hello there\n\nwhat time is it\n",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "\x1b[" not in proc.stdout  # plain lines in a pipe
    assert lines.index("connecting…") < next(
        i for i, s in enumerate(lines) if s.startswith("connected")
    )
    talk = [line for line in lines if line.startswith(("user: ", "agent: "))]
    assert talk == [
        "agent: Hello! I'm concierge. How can I help you today?",
        "user: hello there",
        "agent: You said: hello there",
        "user: what time is it",
        "agent: You said: what time is it",
    ]
    conversation = next(s for s in lines if s.startswith("conversation: ")).split(": ")[1]
    resume = next(s for s in lines if s.startswith("resume it with: "))
    assert resume.endswith(f"--conversation-id {conversation}")
    assert "voiceagent run --emulator --text" in resume
    logs = list((tmp_path / "logs").glob("conversation-*.jsonl"))
    assert len(logs) == 1 and '"kind": "turn"' in logs[0].read_text()


def test_metrics_summary_at_exit(tmp_path: Path) -> None:
    proc = voiceagent(
        "run", "--emulator", "--text", "--metrics", stdin="hello there\n", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("turns: ") for line in lines), proc.stdout
    without = voiceagent("run", "--emulator", "--text", stdin="hello there\n", cwd=tmp_path)
    assert not any(line.startswith("turns: ") for line in without.stdout.splitlines())


def test_model_mode_with_instructions_on_the_emulator(tmp_path: Path) -> None:
    proc = voiceagent(
        "run",
        "--emulator",
        "--text",
        "--model",
        "gpt-realtime",
        "--voice",
        "alloy",
        "--instructions",
        "Be brief.",
        stdin="hi\n",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "agent: You said: hi" in proc.stdout.splitlines()
    assert "model gpt-realtime" in proc.stdout and "resume it with" not in proc.stdout


def test_spoken_wav_in_reply_wav_out_without_a_sound_card(tmp_path: Path) -> None:
    question = write_wav(tmp_path / "q.wav", speech_like(1.5))
    reply = tmp_path / "reply.wav"
    proc = voiceagent(
        "run", "--emulator", "--input-wav", str(question), "--output-wav", str(reply), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("user:") for line in lines)  # the emulator heard a turn...
    assert any(line.startswith("agent: You said:") for line in lines)  # ...and answered it
    with wave.open(str(reply)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert np.abs(audio).max() > 1000


def test_output_wav_alone_is_a_usage_error(tmp_path: Path) -> None:
    proc = voiceagent("run", "--emulator", "--output-wav", str(tmp_path / "x.wav"))
    assert proc.returncode == 2 and "--output-wav needs --input-wav or --text" in proc.stderr


def _spawn(args: list[str], cwd: Path) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "voiceagent", *args],
        cwd=str(cwd),
        env={**CLEAN_ENV, "TERM": "xterm-256color"},
        timeout=30,
        dimensions=(40, 120),
        encoding="utf-8",
    )


def test_live_view_on_a_terminal(tmp_path: Path) -> None:
    question = write_wav(tmp_path / "q.wav", speech_like(1.5))
    child = _spawn(
        [
            "run",
            "--emulator",
            "--input-wav",
            str(question),
            "--output-wav",
            str(tmp_path / "r.wav"),
        ],
        tmp_path,
    )
    child.expect(pexpect.EOF)
    child.close()
    screen = child.before
    assert child.exitstatus == 0, screen
    assert "\x1b[" in screen  # drawn, not printed line by line
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    for shown in ("mic ", "turn latency", "You said:", "● closed"):
        assert shown in screen, shown
    assert "resume it with: voiceagent run --emulator" in screen


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_closes_within_a_second(tmp_path: Path, sig: signal.Signals) -> None:
    silence = write_wav(tmp_path / "silence.wav", np.zeros(24000 * 30))
    child = _spawn(
        ["run", "--emulator", "--input-wav", str(silence), "--greeting", "Hello! " * 30],
        tmp_path,
    )
    child.expect("agent speaking|listening")
    started = time.monotonic()
    child.kill(sig)
    child.expect(pexpect.EOF)
    elapsed = time.monotonic() - started
    child.close()
    assert elapsed < 1.0, elapsed
    assert child.exitstatus == 0
    assert f"stopped ({sig.name})" in child.before
    assert "resume it with: voiceagent run" in child.before


def test_conversation_log_is_json_lines(tmp_path: Path) -> None:
    proc = voiceagent(
        "run", "--emulator", "--text", "--log-dir", str(tmp_path), stdin="hi\n", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    (log,) = tmp_path.glob("conversation-*.jsonl")
    kinds = [json.loads(line)["kind"] for line in log.read_text().splitlines()]
    assert "turn" in kinds
    (debug,) = tmp_path.glob("voiceagent-*.log")
    assert "DEBUG" in debug.read_text()  # the whole story, whatever -v said
    assert "DEBUG" not in proc.stdout + proc.stderr


def test_typing_on_a_terminal(tmp_path: Path) -> None:
    child = _spawn(["run", "--emulator", "--text"], tmp_path)
    child.expect("connected: session")
    child.expect("type a message")
    child.sendline("hello from the keyboard")
    child.expect("agent: You said: hello from the keyboard")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    resume = "resume it with: voiceagent run --emulator --text --conversation-id conv_"
    assert resume in child.before
