"""Where ``voiceagent run`` finds each setting: flags > environment > .env; all gaps at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceagent.cli.main import build_parser
from voiceagent.cli.settings import MissingSettings, read_env, resolve

from .helpers import voiceagent


def _resolve(argv: list[str], env: dict[str, str]) -> object:
    args = build_parser().parse_args(["run", *argv])
    return resolve(args, env, {k: "environment" for k in env})


def test_flags_beat_environment_which_beats_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "VOICELIVE_ENDPOINT=https://dotenv.services.ai.azure.com\n"
        "AGENT_NAME=from-dotenv\nPROJECT_NAME=from-dotenv\nVOICE_NAME=alloy\n"
    )
    monkeypatch.setenv("PROJECT_NAME", "from-env")
    env, origin = read_env(tmp_path)
    args = build_parser().parse_args(["run", "--agent-name", "from-flag"])
    settings = resolve(args, env, origin)
    assert settings.mode == "agent"
    assert settings.get("agent_name") == "from-flag"
    assert settings.get("project_name") == "from-env"
    assert settings.get("endpoint") == "https://dotenv.services.ai.azure.com"
    assert settings.get("voice") == "alloy"
    assert settings.sources["voice"] == "VOICE_NAME (.env)"


def test_modes() -> None:
    base = {"VOICELIVE_ENDPOINT": "https://x.services.ai.azure.com"}
    agent = {**base, "AGENT_NAME": "a", "PROJECT_NAME": "p", "VOICELIVE_MODEL": "gpt-realtime"}
    assert _resolve([], agent).mode == "agent"  # type: ignore[attr-defined]
    assert _resolve([], agent).get("model") is None  # type: ignore[attr-defined]
    model = _resolve(["--model", "gpt-realtime", "--api-key", "k"], base)
    assert model.mode == "model"  # type: ignore[attr-defined]
    env_model = {**base, "VOICELIVE_MODEL": "gpt-realtime", "AZURE_VOICELIVE_API_KEY": "k"}
    assert _resolve([], env_model).mode == "model"  # type: ignore[attr-defined]
    classic = _resolve(["--agent-id", "asst_1", "--project-name", "p"], base)
    assert classic.mode == "classic"  # type: ignore[attr-defined]
    emulated = _resolve(["--emulator"], {})
    assert emulated.emulator and emulated.get("agent_name")  # type: ignore[attr-defined]


def test_every_missing_setting_is_listed_at_once() -> None:
    with pytest.raises(MissingSettings) as info:
        _resolve([], {})
    text = str(info.value)
    for where in ("--endpoint or VOICELIVE_ENDPOINT", "--agent-name or AGENT_NAME"):
        assert where in text
    assert "--project-name or PROJECT_NAME" in text and ".env" in text
    with pytest.raises(MissingSettings) as info:
        _resolve(["--model", "gpt-realtime"], {"VOICELIVE_ENDPOINT": "https://x.azure.com"})
    assert info.value.missing == [
        "credential for model mode: --api-key or AZURE_VOICELIVE_API_KEY, or "
        "--use-token-credential (Microsoft Entra ID, e.g. after az login)"
    ]


def test_missing_settings_exit_2_with_one_message(tmp_path: Path) -> None:
    proc = voiceagent("run", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("voiceagent run: missing settings") == 1
    assert "VOICELIVE_ENDPOINT" in proc.stderr and "AGENT_NAME" in proc.stderr
    assert "PROJECT_NAME" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""  # nothing claims to be talking


def test_dotenv_is_read_and_a_bad_value_names_its_source(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "VOICELIVE_ENDPOINT=not a url\nAGENT_NAME=concierge\nPROJECT_NAME=contoso\n"
    )
    proc = voiceagent("run", "--text", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("voiceagent run: ")
    assert "not a url" in proc.stderr and "VOICELIVE_ENDPOINT (.env)" in proc.stderr
    assert "Traceback" not in proc.stderr
