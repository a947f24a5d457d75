"""The scriptable standalone emulator: `voiceagent emulator`, `python -m voiceagent.emulator`."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from azure.ai.voicelive.models import InputTextContentPart, UserMessageItem

from voiceagent.emulator import AgentScript
from voiceagent.emulator.cli import build_emulator, build_parser, load_script, parse_rule

from .helpers import model_connection, recv_until, send_audio, silence, speech_pcm

SCRIPT_FILE = textwrap.dedent(
    """
    from voiceagent.emulator import AgentScript

    SCRIPT = AgentScript(rules=[("weather", "Sunny in the file.")], greeting="Hi from the file.")

    def make():
        return AgentScript(default="Made by a factory.")

    def echo(text):
        return "Echo: " + text

    def not_a_script():
        return 42
    """
)


@pytest.fixture
def script_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_script.py"
    path.write_text(SCRIPT_FILE)
    return path


def _emulator(*argv: str):  # type: ignore[no-untyped-def]
    return build_emulator(build_parser().parse_args(list(argv)))


def test_parse_rule() -> None:
    assert parse_rule("weather=It is sunny = warm.") == ("weather", "It is sunny = warm.")
    pattern, reply = parse_rule(r"re:\bbook\b.*table=Booked.")
    assert isinstance(pattern, re.Pattern) and pattern.search("Book a TABLE") and reply == "Booked."
    for bad in ("no equals sign", "=reply", "re:(=x"):
        with pytest.raises(ValueError):
            parse_rule(bad)


def test_load_script_forms(script_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_script(f"{script_file}:SCRIPT").greeting == "Hi from the file."
    assert load_script(f"{script_file}:make").default == "Made by a factory."
    assert load_script(f"{script_file}:echo").default is not None
    monkeypatch.syspath_prepend(str(script_file.parent))
    assert isinstance(load_script("my_script:SCRIPT"), AgentScript)
    bad_specs = ("my_script", "my_script:missing", "no_such_module:x", f"{script_file}:AgentScript")
    for bad in (*bad_specs, f"{script_file}:not_a_script"):
        with pytest.raises(ValueError):
            load_script(bad)


def test_options_build_the_emulator(script_file: Path) -> None:
    emu = _emulator(
        "--script", f"{script_file}:SCRIPT",
        "--rule", "table=Booked.", "--rule", "re:^bye=Goodbye.",
        "--default", "Pardon?", "--say", "book a table", "--say", "bye",
        "--timing", "realistic", "--speech", "off", "--interim", "Hold on.",
        "--keep-sessions", "3", "--max-conversations", "7", "--conversation-ttl", "60",
    )  # fmt: skip
    script = emu.script
    assert [reply for _, reply in script.rules] == ["Sunny in the file.", "Booked.", "Goodbye."]
    assert (script.default, script.greeting, script.interim) == ("Pardon?", "Hi from the file.", "Hold on.")  # fmt: skip  # noqa: E501
    assert script.pending_user_turns == 2
    assert emu.settings.timing.think_ms == (300.0, 700.0)
    assert (emu.settings.voice, emu.settings.listen) == ("synthetic", "off")
    assert emu.keep_sessions == 3
    assert _emulator("--voice", "synthetic", "--listen", "off").settings.voice == "synthetic"
    assert _emulator().settings.voice == "auto" and _emulator().settings.listen == "auto"


def test_missing_speech_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import voiceagent.emulator.server as server
    from voiceagent.emulator import main

    monkeypatch.setattr(server, "recognizer_available", lambda: False)
    assert main(["--speech", "on", "--port", "0"]) == 1
    assert "pocketsphinx" in capsys.readouterr().err


def test_bad_script_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from voiceagent.emulator import main

    with pytest.raises(SystemExit) as info:
        main(["--rule", "no-equals"])
    assert info.value.code == 2
    assert "PATTERN=REPLY" in capsys.readouterr().err


async def test_standalone_emulator_is_scripted_from_the_command_line(script_file: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent.emulator", "--port", "0", "--fast",
        "--script", f"{script_file}:SCRIPT", "--rule", "table=Booked for two.",
        "--say", "book a table", "--speech", "off",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        endpoint = line.strip().rsplit(" ", 1)[-1]
        async with model_connection(endpoint) as conn:
            await conn.recv()
            # A spoken turn: its transcript is the one queued with --say.
            await send_audio(conn, speech_pcm() + silence(800))
            events = await recv_until(conn, "response.done")
            said = [e.transcript for e in events if e.type == "response.audio_transcript.done"]
            assert said == ["Booked for two."]
            await conn.conversation.item.create(
                item=UserMessageItem(content=[InputTextContentPart(text="the weather?")])
            )
            await conn.response.create()
            events = await recv_until(conn, "response.done")
            said = [e.transcript for e in events if e.type == "response.audio_transcript.done"]
            assert said == ["Sunny in the file."]
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 10)
    assert code == 0


def test_module_and_package_entry_points_share_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "voiceagent.emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in ("--script", "--rule", "--say", "--timing", "--speech", "--voice", "--listen"):
        assert option in out
