"""How long ``voiceagent run`` takes to exit after Ctrl+C, and after an unreachable endpoint.

    python bench/cli_exit.py [--runs 6]

Ctrl+C: ``voiceagent run --emulator`` on a pseudo-terminal, SIGINT while the agent speaks, time to
the end of the process (the README promises one second). Unreachable: ``start()`` against a
port where nothing listens (reported at once, not after the reconnect policy's retries).
Last line: ``ctrl_c_exit_median_s=... ctrl_c_exit_max_s=... refused_report_s=...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pexpect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "cli"))
from helpers import CLEAN_ENV, write_wav


def ctrl_c_exit(runs: int, silence: Path) -> list[float]:
    times = []
    for _ in range(runs):
        child = pexpect.spawn(
            sys.executable,
            [
                "-m",
                "voiceagent",
                "run",
                "--emulator",
                "--input-wav",
                str(silence),
                "--greeting",
                "Hello! " * 30,
            ],
            env={**CLEAN_ENV, "TERM": "xterm-256color"},
            timeout=30,
            dimensions=(40, 120),
            encoding="utf-8",
        )
        child.expect("agent speaking|listening")
        started = time.monotonic()
        child.kill(signal.SIGINT)
        child.expect(pexpect.EOF)
        times.append(time.monotonic() - started)
        child.close()
    return times


async def refused_report() -> float:
    from voiceagent import AgentConfig, ConnectError, MemoryAudio, VoiceAgentSession
    from voiceagent.testing import EmulatorCredential

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = VoiceAgentSession(
        f"http://127.0.0.1:{port}",
        AgentConfig(agent_name="a", project_name="p"),
        credential=EmulatorCredential(),
        audio=MemoryAudio(),
    )
    started = time.monotonic()
    with contextlib.suppress(ConnectError):
        await session.start()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    silence = write_wav(Path("/tmp/voiceagent-bench-silence.wav"), np.zeros(24000 * 30))
    times = ctrl_c_exit(args.runs, silence)
    refused = asyncio.run(refused_report())
    print("ctrl_c_exit_s", [round(t, 3) for t in times])
    print(
        f"ctrl_c_exit_median_s={statistics.median(times):.3f} "
        f"ctrl_c_exit_max_s={max(times):.3f} refused_report_s={refused:.3f}"
    )


if __name__ == "__main__":
    main()
