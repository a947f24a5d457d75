"""CPU per Twilio call, voiceagent serve side by side with Pipecat, in one run (issue #18).

Both stacks do the same job in turn, in one run of this script, against the same emulator process,
with the same N fake Twilio callers (this process) saying the same WAV every ``--every`` seconds
and hearing the agent's replies:

* **voiceagent**: ``python -m voiceagent serve --public-url ...`` in its own process; each call
  is answered like Twilio does (a signed ``POST /twilio/voice``, then the media stream the TwiML
  names, with its minted ``<Parameter>``); u-law passes through to Voice Live untouched
  (``g711_ulaw`` in and out).
* **pipecat**: ``bench/pipecat_server.py`` under uvicorn in its own process: Pipecat's
  ``FastAPIWebsocketTransport`` + ``TwilioFrameSerializer`` (u-law 8 kHz decoded to PCM16 and
  back), a pipeline at 8 kHz, and ``bench/pipecat_voicelive.py`` (Pipecat has no Voice Live
  service: the minimal processor a user writes with ``azure-ai-voicelive``). Driven straight
  at its ``/ws`` with the ``connected``/``start`` messages Twilio sends.

Per stack, once every call has heard the agent, after ``--warmup`` seconds, for ``--seconds``:
the server process's CPU (``/proc/<pid>/stat`` utime + stime) per call per second
(``cpu_ms_per_call_s``: CPU milliseconds each call costs per second of wall time; 10 = 1 % of a
core), its event-loop lag (a 250 ms wake-up: voiceagent's own ``/metrics`` histogram, the same
probe and buckets in the Pipecat app), its RSS per call, the agent speech the callers heard and
their barge-ins (``clear``). Callers and emulator are other processes: their CPU is not counted.
``--rounds 2`` runs voiceagent, pipecat, pipecat, voiceagent (drift cancels); the last line has
each stack's median over its rounds (the loop lag: the worst round).

Needs the bench environment with Pipecat (``make bench-pipecat``; docs/performance.md).
Last line: ``pipecat_twilio voiceagent_cpu_ms_per_call_s=.. pipecat_cpu_ms_per_call_s=..
ratio=.. ...``. Usage: python bench/pipecat_twilio.py [--calls 20] [--seconds 30] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
from pipecat_stacks import (
    ServerProcess,
    cpu_seconds,
    start_emulator,
    start_pipecat,
    start_voiceagent,
)

from voiceagent.emulator.voice import synthesize
from voiceagent.testing.carriers import FakeTwilioCall

LAG_BOUNDS_MS = (1, 5, 10, 20, 50, 100, 250, 500, 1000, 5000)  # voiceagent serve's buckets
ULAW_SILENCE = (0xFF, 0x7F)


def write_wav(path: Path) -> None:
    """The caller's sentence: 1.2 s of synthetic speech, 24 kHz PCM16 mono."""
    speech = synthesize("hello there how are you doing today my friend").audio[: 1200 * 48]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(speech)


def speech_seconds(ulaw: bytes) -> float:
    """Seconds of 20 ms frames that are not u-law silence (Pipecat fills gaps with silence)."""
    frames = len(ulaw) // 160
    if not frames:
        return 0.0
    block = np.frombuffer(ulaw[: frames * 160], dtype=np.uint8).reshape(frames, 160)
    silent = np.isin(block, ULAW_SILENCE).all(axis=1)
    return float((~silent).sum()) * 0.02


def max_bound_ms(counts: list[int]) -> float:
    """The upper bound (ms) of the highest bucket with a wake-up in it."""
    bounds = LAG_BOUNDS_MS + (float("inf"),)
    return max((float(b) for b, c in zip(bounds, counts, strict=True) if c), default=0.0)


def p99_bound_ms(counts: list[int]) -> float:
    """The upper bound (ms) of the bucket holding the 99th percentile of per-bucket ``counts``."""
    total = sum(counts)
    if not total:
        return 0.0
    running = 0
    for bound, count in zip(LAG_BOUNDS_MS + (float("inf"),), counts, strict=True):
        running += count
        if running >= 0.99 * total:
            return float(bound)
    return float("inf")


async def talk(call: FakeTwilioCall, wav: Path, every: float, stop: asyncio.Event) -> None:
    """Say the WAV every ``every`` seconds (its start to the next start) until ``stop``."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        started = loop.time()
        await call.speak_wav(wav)
        remaining = every - (loop.time() - started)
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), remaining)


async def wait_heard(calls: list[FakeTwilioCall], timeout: float) -> None:
    """Return once every call has heard some agent speech (each call is up end to end)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while any(speech_seconds(bytes(c.played)) < 0.2 for c in calls):
        if loop.time() > deadline:
            deaf = sum(speech_seconds(bytes(c.played)) < 0.2 for c in calls)
            raise RuntimeError(f"{deaf} of {len(calls)} calls heard no agent speech in {timeout} s")
        await asyncio.sleep(0.2)


async def measure(
    stack: str, server: ServerProcess, emulator_pid: int, wav: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """N calls on ``server``; the steady window's figures."""
    n = args.calls
    rss_idle = server.rss_mb()
    calls = [await server.new_call(i) for i in range(n)]
    stop = asyncio.Event()
    talkers: list[asyncio.Task[None]] = []
    for call in calls:
        await call.__aenter__()
        talkers.append(asyncio.create_task(talk(call, wav, args.every, stop)))
        await asyncio.sleep(min(0.05, 2.0 / n))  # a ramp, not a burst
    try:
        await wait_heard(calls, 60)
        await asyncio.sleep(args.warmup)
        lag0 = await server.lag_counts()
        played0 = [len(c.played) for c in calls]
        clears0 = sum(len(c.clears) for c in calls)
        ticks0 = sum(c.ticks for c in calls)
        cpu0, wall0, mine0 = server.cpu_s(), time.monotonic(), time.process_time()
        emulator0 = cpu_seconds(emulator_pid)
        await asyncio.sleep(args.seconds)
        cpu1, wall1, mine1 = server.cpu_s(), time.monotonic(), time.process_time()
        emulator1 = cpu_seconds(emulator_pid)
        lag1 = await server.lag_counts()
        rss = server.rss_mb()
        heard = sum(
            speech_seconds(bytes(c.played[p:])) for c, p in zip(calls, played0, strict=True)
        )
        clears = sum(len(c.clears) for c in calls) - clears0
        ticks = sum(c.ticks for c in calls) - ticks0
    finally:
        stop.set()
        for talker in talkers:  # one mid-sentence on a call the server hung up would wait forever
            talker.cancel()
        await asyncio.gather(*talkers, return_exceptions=True)
        await asyncio.gather(*(c.hang_up() for c in calls), return_exceptions=True)
        await asyncio.sleep(1.0)  # the server closes the calls' Voice Live sessions
    wall = wall1 - wall0
    lag = [b - a for a, b in zip(lag0, lag1, strict=True)]
    result = {
        "stack": stack,
        "cpu_ms_per_call_s": (cpu1 - cpu0) * 1000 / n / wall,
        "cpu_pct": (cpu1 - cpu0) / wall * 100,
        "lag_p99_ms": p99_bound_ms(lag),
        "lag_max_ms": max_bound_ms(lag),
        "lag_samples": sum(lag),
        "mb_per_call": (rss - rss_idle) / n,
        "heard_s_per_call_min": heard / n / wall * 60,
        "clears": clears,
        "ticks_per_call_s": ticks / n / wall,
        "callers_cpu_pct": (mine1 - mine0) / wall * 100,
        "emulator_cpu_pct": (emulator1 - emulator0) / wall * 100,
    }
    print(
        f"  {stack:10s} N={n} cpu={result['cpu_pct']:.1f}% of a core "
        f"= {result['cpu_ms_per_call_s']:.2f} ms/call/s; loop lag p99 <= "
        f"{result['lag_p99_ms']:g} ms, max <= {result['lag_max_ms']:g} ms "
        f"({result['lag_samples']} wake-ups of {args.seconds / 0.25:.0f}); "
        f"rss +{result['mb_per_call']:.2f} MB/call; agent speech heard "
        f"{result['heard_s_per_call_min']:.1f} s/call/min; clears={clears}; "
        f"caller ticks {result['ticks_per_call_s']:.1f}/s (50 = on time); "
        f"callers' process {result['callers_cpu_pct']:.0f}%, "
        f"emulator {result['emulator_cpu_pct']:.0f}%",
        flush=True,
    )
    return result


async def main_async(args: argparse.Namespace, tmp: Path, wav: Path) -> None:
    order = ["voiceagent", "pipecat"]
    plan = [s for r in range(args.rounds) for s in (order if r % 2 == 0 else order[::-1])]
    results: dict[str, list[dict[str, Any]]] = {"voiceagent": [], "pipecat": []}
    emulator, endpoint = await start_emulator(args.emulator_speed)
    try:
        for stack in plan:
            start = start_voiceagent if stack == "voiceagent" else start_pipecat
            server = await start(endpoint, args, tmp)
            try:
                results[stack].append(await measure(stack, server, emulator.pid, wav, args))
            finally:
                await server.stop()
    finally:
        emulator.terminate()
        await emulator.wait()

    def median(stack: str, key: str) -> float:
        return statistics.median(r[key] for r in results[stack])

    def worst(stack: str, key: str) -> float:
        return max(r[key] for r in results[stack])

    va, pc = median("voiceagent", "cpu_ms_per_call_s"), median("pipecat", "cpu_ms_per_call_s")
    heard = [median(s, "heard_s_per_call_min") for s in results]
    if min(heard) < 0.9 * max(heard):  # the same job, or the ratio means nothing
        print(f"WARNING: the stacks' callers heard different amounts of speech: {heard}")
    ticks = min(r["ticks_per_call_s"] for rs in results.values() for r in rs)
    if ticks < 49:
        print(f"WARNING: the callers fell behind ({ticks:.1f} of 50 frames/s): too many calls")
    print(
        f"pipecat_twilio voiceagent_cpu_ms_per_call_s={va:.2f} pipecat_cpu_ms_per_call_s={pc:.2f} "
        f"ratio={va / pc:.2f} voiceagent_lag_p99_ms={worst('voiceagent', 'lag_p99_ms'):g} "
        f"pipecat_lag_p99_ms={worst('pipecat', 'lag_p99_ms'):g} "
        f"voiceagent_lag_max_ms={worst('voiceagent', 'lag_max_ms'):g} "
        f"pipecat_lag_max_ms={worst('pipecat', 'lag_max_ms'):g} "
        f"voiceagent_mb_per_call={median('voiceagent', 'mb_per_call'):.2f} "
        f"pipecat_mb_per_call={median('pipecat', 'mb_per_call'):.2f} "
        f"voiceagent_heard_s_per_min={median('voiceagent', 'heard_s_per_call_min'):.1f} "
        f"pipecat_heard_s_per_min={median('pipecat', 'heard_s_per_call_min'):.1f} "
        f"calls={args.calls} seconds={args.seconds:g} rounds={args.rounds} "
        f"pipecat_rate={args.pipecat_rate} "
        f"pipecat_auto_silence={int(not args.pipecat_no_auto_silence)} cpus={os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="calls at once, each stack (20)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds (30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds (5)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between sentences")
    parser.add_argument("--rounds", type=int, default=2, help="1: A B; 2: A B B A (2)")
    parser.add_argument("--pipecat-rate", type=int, default=8000, help="Pipecat pipeline rate")
    parser.add_argument(
        "--pipecat-no-auto-silence",
        action="store_true",
        help="Pipecat without its default silence frames between replies",
    )
    parser.add_argument("--emulator-speed", type=float, default=1.5, help="reply pacing (1.5)")
    parser.add_argument("--log-dir", default=None, help="keep the servers' logs here")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 300 or not 1 <= args.calls <= 200 or not 1 <= args.rounds <= 4:
        sys.exit("--seconds 1-300, --calls 1-200, --rounds 1-4 (a bounded run)")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(args.log_dir or scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        wav = tmp / "caller.wav"
        write_wav(wav)
        asyncio.run(main_async(args, tmp, wav))


if __name__ == "__main__":
    main()
