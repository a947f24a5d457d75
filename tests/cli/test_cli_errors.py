"""Mistakes on the command line get a clear message in the right terms, never a traceback."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from .helpers import voiceagent


def test_a_bad_emulator_port_is_a_usage_error_not_a_traceback() -> None:
    proc = voiceagent("emulator", "--port", "99999")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--port: 99999 is not a port number: use 1-65535, or 0 for any free port" in proc.stderr


def test_script_errors_name_the_script_and_the_cause(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("REPLY = 1 / 0\n")
    proc = voiceagent("emulator", "--script", f"{broken}:script")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"--script {broken}:script: running {broken} failed: ZeroDivisionError" in proc.stderr
    fine = tmp_path / "fine.py"
    fine.write_text("greeting = 'hi'\n")
    proc = voiceagent("emulator", "--script", f"{fine}:scirpt")
    assert proc.returncode == 2
    assert "has no 'scirpt' (it defines: greeting)" in proc.stderr


def test_an_unknown_run_flag_prints_the_run_usage() -> None:
    proc = voiceagent("run", "--bogus")
    assert proc.returncode == 2
    assert "usage: voiceagent run" in proc.stderr
    assert "voiceagent run: error: unrecognized arguments: --bogus" in proc.stderr


def test_an_api_key_in_agent_mode_is_an_error_not_ignored() -> None:
    proc = voiceagent(
        "run",
        "--endpoint",
        "https://contoso.services.ai.azure.com",
        "--agent-name",
        "concierge",
        "--project-name",
        "contoso",
        "--api-key",
        "not-used-SECRET",
    )
    assert proc.returncode == 2
    assert "--api-key is for model mode only" in proc.stderr
    assert "Microsoft Entra ID" in proc.stderr
    assert "not-used-SECRET" not in proc.stdout + proc.stderr


def _has_sound_devices() -> bool:
    try:
        import sounddevice

        return len(sounddevice.query_devices()) > 0
    except Exception:
        return False


@pytest.mark.skipif(_has_sound_devices(), reason="this machine has a sound card: no error to see")
def test_without_a_sound_card_the_hint_names_the_flags() -> None:
    proc = voiceagent("run", "--emulator")
    assert proc.returncode == 1
    assert "--input-wav" in proc.stderr and "--text" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_technical_log_is_private_like_the_conversation_log(tmp_path: Path) -> None:
    logs = tmp_path / "new" / "logs"
    proc = voiceagent("run", "--emulator", "--text", "--log-dir", str(logs), stdin="hi\n")
    assert proc.returncode == 0, proc.stderr
    (debug,) = logs.glob("voiceagent-*.log")
    (conversation,) = logs.glob("conversation-*.jsonl")
    assert stat.S_IMODE(debug.stat().st_mode) == 0o600
    assert stat.S_IMODE(conversation.stat().st_mode) == 0o600
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    text = debug.read_text()
    assert " va-" in text  # each record names its session (session_id)
