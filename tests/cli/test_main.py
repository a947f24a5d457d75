"""``voiceagent`` itself: help, version, -v anywhere, emulator options passed on whole."""

from __future__ import annotations

import pytest

from voiceagent import __version__
from voiceagent.cli import main
from voiceagent.cli.main import _emulator_args, build_parser

from .helpers import voiceagent


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"voiceagent {__version__}"


@pytest.mark.parametrize("argv", [["-v", "run"], ["run", "-v"], ["-v", "run", "-vv"]])
def test_verbose_anywhere(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.verbose >= 1


def test_help_is_plain_text_not_rest(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["run", "--help"], ["demo", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert "``" not in out and ":class:" not in out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for flag in (
        "--endpoint",
        "--agent-name",
        "--project-name",
        "--agent-version",
        "--conversation-id",
        "--foundry-resource-override",
        "--agent-authentication-identity-client-id",
        "--voice",
        "--model",
        "--api-key",
        "--instructions",
        "--use-token-credential",
        "--verbose",
        "--emulator",
        "--greeting",
        "--input-device",
        "--output-device",
        "--input-wav",
        "--output-wav",
        "--text",
        "--log-dir",
    ):
        assert flag in out, flag
    for variable in ("VOICELIVE_ENDPOINT", "AGENT_NAME", "VOICE_NAME", "AZURE_VOICELIVE_API_KEY"):
        assert variable in out


def test_emulator_arguments_are_passed_on_whole() -> None:
    assert _emulator_args(["emulator", "--port", "8765", "--fast"]) == (
        0,
        ["--port", "8765", "--fast"],
    )
    assert _emulator_args(["-vv", "emulator", "--help"]) == (2, ["--help"])
    assert _emulator_args(["run", "emulator"]) is None


def test_the_readme_emulator_command_parses() -> None:
    """``voiceagent emulator --port 8765`` reaches the emulator's parser (its --help lists it)."""
    proc = voiceagent("emulator", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--port" in proc.stdout and "unrecognized" not in proc.stderr
    bad = voiceagent("emulator", "--port", "not-a-port")
    assert bad.returncode == 2 and "--port" in bad.stderr


def test_devices_prints_a_table_or_says_there_are_none() -> None:
    proc = voiceagent("devices")
    text = proc.stdout + proc.stderr
    assert "DeviceInfo(" not in text
    if proc.returncode == 0:
        assert "No audio devices found" in text or "index" in text
        if "No audio devices found" in text:
            assert "libportaudio2" in text and "--input-wav" in text
    else:
        assert proc.stderr.startswith("voiceagent devices: ")
