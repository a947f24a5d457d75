"""How many concurrent 24 kHz full-duplex real-time sessions one emulator process sustains.

Method: the emulator runs alone in a subprocess (``python -m voiceagent.emulator``, real-time
pacing) on loopback. This process runs N sessions through the real SDK (``connect()``): each
sends 20 ms input blocks in real time without pause (1.2 s of speech-like audio, then 3.8 s of
silence, repeated), so the emulator's VAD ends a turn every 5 s and streams a ~2.5 s reply in
real time while the input keeps flowing. A step with N sessions runs for ``--step-seconds``
after a warm-up and passes when, over all sessions:

* reply audio is on time: p99 lateness of ``response.audio.delta`` k against
  ``first_delta + k * 100 ms`` is at most ``--max-late-ms`` (100 ms, one delta);
* input is processed in time: p99 of (``speech_stopped`` arrival - the moment the client sent
  the audio at ``audio_end_ms``) is at most ``--max-vad-lag-ms`` (200 ms);
* every turn got its response, and no connection failed.

N doubles until a step fails, then the gap is bisected, within ``--budget`` seconds in total.
The client side must keep its own schedule (p99 sender lag <= 20 ms); if it cannot, the figure
is bounded by this process and the output says ``limited_by=client``.

Last line: ``emulator_sessions max_realtime_sessions=N key=value ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

from voiceagent.emulator.voice import synthesize

BLOCK_MS = 20
BLOCK_BYTES = 24000 * BLOCK_MS // 1000 * 2
SPEECH_MS = 1200
CYCLE_MS = 5000
CHUNK_MS = 100


def _blocks() -> list[str]:
    """One 5 s cycle of base64 20 ms blocks: speech-like audio, then silence."""
    speech = synthesize("hello there how are you doing today my friend").audio
    speech = speech[: SPEECH_MS * 48]
    pcm = speech + bytes(CYCLE_MS * 48 - len(speech))
    return [
        base64.b64encode(pcm[i : i + BLOCK_BYTES]).decode("ascii")
        for i in range(0, len(pcm), BLOCK_BYTES)
    ]


@dataclass
class Stats:
    late_ms: list[float] = field(default_factory=list)
    vad_lag_ms: list[float] = field(default_factory=list)
    sender_lag_ms: list[float] = field(default_factory=list)
    turns: int = 0
    responses: int = 0
    failures: int = 0


async def _session(
    endpoint: str,
    blocks: list[str],
    start_at: float,
    measure_from: float,
    stop_at: float,
    stats: Stats,
) -> None:
    loop = asyncio.get_running_loop()
    try:
        async with connect(
            endpoint=endpoint, credential=AzureKeyCredential("bench"), model="gpt-realtime"
        ) as conn:
            await conn.recv()  # session.created
            sent_at: list[float] = []  # loop time each block was sent

            async def sender() -> None:
                await asyncio.sleep(max(0.0, start_at - loop.time()))
                t0 = loop.time()
                i = 0
                while loop.time() < stop_at:
                    due = t0 + i * BLOCK_MS / 1000
                    delay = due - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    now = loop.time()
                    if now >= measure_from:
                        stats.sender_lag_ms.append((now - due) * 1000)
                    await conn.send(
                        {"type": "input_audio_buffer.append", "audio": blocks[i % len(blocks)]}
                    )
                    sent_at.append(now)
                    i += 1

            async def receiver() -> None:
                first: float | None = None
                k = 0
                while True:
                    event = await conn.recv()
                    now = loop.time()
                    kind = event.type
                    if kind == "input_audio_buffer.speech_stopped":
                        block = int(event["audio_end_ms"]) // BLOCK_MS - 1
                        if now >= measure_from and 0 <= block < len(sent_at):
                            stats.turns += 1
                            stats.vad_lag_ms.append((now - sent_at[block]) * 1000)
                    elif kind == "response.created":
                        first, k = None, 0
                    elif kind == "response.audio.delta":
                        if first is None:
                            first = now
                        elif now >= measure_from:
                            stats.late_ms.append((now - (first + k * CHUNK_MS / 1000)) * 1000)
                        k += 1
                    elif kind == "response.done" and now >= measure_from:
                        stats.responses += 1
                    elif kind == "error":
                        stats.failures += 1

            send_task = asyncio.ensure_future(sender())
            recv_task = asyncio.ensure_future(receiver())
            await send_task
            await asyncio.sleep(1.0)  # let the last reply finish
            recv_task.cancel()
            await asyncio.gather(recv_task, return_exceptions=True)
    except Exception as exc:
        stats.failures += 1
        print(f"  session failed: {type(exc).__name__}: {exc}", file=sys.stderr)


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p99(values: list[float]) -> float:
    return float(np.percentile(values, 99)) if values else float("nan")


async def _step(
    endpoint: str, pid: int, n: int, args: argparse.Namespace, blocks: list[str]
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stats = Stats()
    now = loop.time()
    ramp = min(2.0, 0.02 * n)  # stagger connections and turn phases
    measure_from = now + ramp + args.warmup
    stop_at = measure_from + args.step_seconds
    cpu0, wall0 = _cpu_seconds(pid), time.monotonic()
    await asyncio.gather(
        *(
            _session(endpoint, blocks, now + ramp * i / n, measure_from, stop_at, stats)
            for i in range(n)
        )
    )
    cpu = (_cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0) * 100
    expected_turns = n * int(args.step_seconds * 1000 // CYCLE_MS)
    result = {
        "n": n,
        "late_p99_ms": _p99(stats.late_ms),
        "vad_lag_p99_ms": _p99(stats.vad_lag_ms),
        "sender_lag_p99_ms": _p99(stats.sender_lag_ms),
        "turns": stats.turns,
        "responses": stats.responses,
        "expected_turns": expected_turns,
        "failures": stats.failures,
        "server_cpu_pct": cpu,
    }
    result["client_ok"] = result["sender_lag_p99_ms"] <= 20
    result["ok"] = (
        stats.failures == 0
        and result["late_p99_ms"] <= args.max_late_ms
        and result["vad_lag_p99_ms"] <= args.max_vad_lag_ms
        and stats.turns >= 0.9 * expected_turns
        and stats.responses >= 0.9 * expected_turns
    )
    print(
        f"  N={n:4d} ok={result['ok']!s:5} late_p99={result['late_p99_ms']:.1f}ms "
        f"vad_lag_p99={result['vad_lag_p99_ms']:.1f}ms sender_lag_p99="
        f"{result['sender_lag_p99_ms']:.1f}ms turns={stats.turns}/{expected_turns} "
        f"responses={stats.responses} failures={stats.failures} server_cpu={cpu:.0f}%",
        flush=True,
    )
    return result


async def _main(args: argparse.Namespace) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voiceagent.emulator",
        "--port",
        "0",
        "--log-level",
        "WARNING",
        # Protocol capacity: no speech recognition (unscripted turns would otherwise each cost
        # about 0.36 CPU-seconds per second of speech; see docs/emulator.md, Speech).
        "--listen",
        "off",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
    if not match:
        print(f"emulator did not start: {line!r}", file=sys.stderr)
        return 1
    endpoint = match.group(1)
    blocks = _blocks()
    started = time.monotonic()
    best: dict[str, Any] | None = None
    failed_at: int | None = None
    limited_by = "server"
    n = args.start
    step_cost = args.warmup + args.step_seconds + 4
    try:
        while time.monotonic() - started + step_cost < args.budget:
            result = await _step(endpoint, proc.pid, n, args, blocks)
            if result["ok"]:
                best = result
            else:
                # The smallest failing step decides what limited the figure.
                if failed_at is None or n < failed_at:
                    failed_at = n
                    limited_by = "server" if result["client_ok"] else "client"
            if failed_at is None:
                n *= 2
            else:
                low = best["n"] if best else 0
                if failed_at - low <= max(2, low // 8):
                    break
                n = (low + failed_at) // 2
    finally:
        proc.terminate()
        await proc.wait()
    if failed_at is None:
        limited_by = "budget"
    best = best or {
        "n": 0,
        "late_p99_ms": float("nan"),
        "vad_lag_p99_ms": float("nan"),
        "server_cpu_pct": float("nan"),
    }
    print(
        f"emulator_sessions max_realtime_sessions={best['n']} "
        f"first_failure={failed_at if failed_at is not None else 'none'} "
        f"late_p99_ms={best['late_p99_ms']:.1f} vad_lag_p99_ms={best['vad_lag_p99_ms']:.1f} "
        f"server_cpu_pct={best['server_cpu_pct']:.0f} limited_by={limited_by} "
        f"cpus={os.cpu_count()} elapsed_s={time.monotonic() - started:.0f}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=10, help="sessions in the first step")
    parser.add_argument(
        "--step-seconds", type=float, default=12.0, help="measured seconds per step"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds per step")
    parser.add_argument("--budget", type=float, default=170.0, help="total seconds, at most")
    parser.add_argument("--max-late-ms", type=float, default=100.0)
    parser.add_argument("--max-vad-lag-ms", type=float, default=200.0)
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
