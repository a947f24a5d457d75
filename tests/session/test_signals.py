"""Ctrl+C and SIGTERM mid-reply: ``run()`` closes cleanly and the log keeps what was heard.

A child process holds a real-time conversation with an in-process emulator through ``run()``;
once part of the reply has been played, the test signals it. The child must exit on its own,
and its log file must record the reply as interrupted, with the heard text.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from voiceagent import AgentConfig, MemoryAudio, VoiceAgentSession
    from voiceagent.emulator import AgentScript, Emulator
    from voiceagent.testing import EmulatorCredential

    REPLY = "Let me tell you a rather long story about the weather in Paris and London. " * 3

    async def main(log_path: str) -> None:
        async with Emulator(realtime=True, script=AgentScript(default=REPLY)) as emu:
            audio = MemoryAudio(speed=1.0)
            session = VoiceAgentSession(
                emu.endpoint,
                AgentConfig(agent_name="concierge", project_name="contoso"),
                credential=EmulatorCredential(),
                audio=audio,
                greeting=REPLY,
                log_path=log_path,
            )

            async def announce(event) -> None:
                await audio.wait_heard(800, timeout=20)
                print("PLAYING", flush=True)

            session.once("response.audio.delta", lambda e: session.create_task(announce(e)))
            await session.run()
            print("CLOSED", flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_reply_logs_the_reply_as_interrupted(sig: int, tmp_path: Path) -> None:
    log_path = tmp_path / "conversation.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(log_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "PLAYING", child.stderr.read() if child.stderr else line
        os.kill(child.pid, sig)
        out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "CLOSED" in out
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    [turn] = [r for r in records if r["kind"] == "turn" and r["role"] == "assistant"]
    assert turn["interrupted"] is True
    reply = "Let me tell you a rather long story about the weather in Paris and London. " * 3
    assert turn["text"] and reply.startswith(turn["text"])
    assert len(turn["text"]) < len(reply.strip())  # the part heard, not the whole reply
