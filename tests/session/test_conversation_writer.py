"""The conversation log is written off the event loop and stays durable (SIGKILL, close)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from voiceagent.conversation import ConversationLog, Turn
from voiceagent.conversation.writer import WRITER_THREAD_NAME

_opened: list[tuple[str, str]] = []  # (path, thread name) of every open() the audit hook saw
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and isinstance(args[0], (str, os.PathLike)):
        path = os.fspath(args[0])
        if isinstance(path, str) and path.endswith("writer-test.jsonl"):
            _opened.append((path, threading.current_thread().name))


def test_lines_are_written_by_the_writer_thread_in_order_and_none_lost_on_close(
    tmp_path: Path,
) -> None:
    global _hooked
    if not _hooked:
        sys.addaudithook(_audit)  # audit hooks cannot be removed: it filters on the file name
        _hooked = True
    _opened.clear()
    path = tmp_path / "new" / "writer-test.jsonl"
    log = ConversationLog(path)
    for i in range(500):
        log.add_turn(Turn(role="user", text=f"line {i}"))
    log.close()  # returns once every queued line is on disk
    opened = list(_opened)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["text"] for r in records] == [f"line {i}" for i in range(500)]
    # the file was opened once, by the writer thread: adding a turn does no file I/O
    assert opened == [(str(path), WRITER_THREAD_NAME)]
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    log.add_turn(Turn(role="user", text="after close"))  # a later turn reopens the file
    log.close()
    assert path.read_text().splitlines()[-1].find("after close") > 0


def test_an_unwritable_log_keeps_turns_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "log.jsonl"
    log = ConversationLog(path)
    path.mkdir()  # now a directory: the writer's open fails
    log.add_turn(Turn(role="user", text="hello"))
    log.add_turn(Turn(role="user", text="again"))
    log.close()
    assert [t.text for t in log.turns] == ["hello", "again"]
    errors = [r for r in caplog.records if "could not write the conversation log" in r.message]
    assert len(errors) == 1


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from voiceagent import AgentConfig, MemoryAudio, VoiceAgentSession
    from voiceagent.emulator import Emulator
    from voiceagent.testing import EmulatorCredential

    async def main(log_path: str) -> None:
        async with Emulator(realtime=False) as emu:
            session = VoiceAgentSession(
                emu.endpoint,
                AgentConfig(agent_name="concierge", project_name="contoso"),
                credential=EmulatorCredential(),
                audio=MemoryAudio(),
                log_path=log_path,
            )
            # voiceagent.turn comes right after the turn went to the log
            session.on(
                "voiceagent.turn",
                lambda e: e.role == "user" and print("USER", e.text, flush=True),
            )
            async with session:
                for i in range(100000):
                    await session.send_text(f"message {i}", respond=False)
                    await asyncio.sleep(0.002)

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.parametrize("trial", range(5))
def test_sigkill_mid_conversation_loses_no_logged_user_message(trial: int, tmp_path: Path) -> None:
    log_path = tmp_path / "conversation.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(log_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        assert child.stdout is not None
        wanted = random.randint(3, 30)
        while len(seen) < wanted:
            line = child.stdout.readline()
            assert line.startswith("USER "), child.stderr.read() if child.stderr else line
            seen.append(line[5:].strip())
        os.kill(child.pid, signal.SIGKILL)  # mid-conversation, no chance to clean up
        child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    logged = {
        r["text"]
        for r in map(json.loads, log_path.read_text().splitlines())
        if r["kind"] == "turn" and r["role"] == "user"
    }
    assert set(seen) <= logged, sorted(set(seen) - logged)
