"""Phone calls per core for one serve app: N Twilio calls in this process, the emulator in another.

Method: one emulator process (``python -m voiceagent.emulator``, real-time reply pacing, as in
``bench/load.py``); in this process the serve app (``create_app`` plus the Twilio media route,
a shared ``SessionRegistry``) on 127.0.0.1, and N :class:`~voiceagent.testing.carriers.
FakeTwilioCall` callers against it (u-law 8 kHz frames every 20 ms, a carrier's playout clock),
each saying a sentence every ``--every`` seconds so the emulator answers in real time. The
callers run in this process too, so the figures are an upper bound on the server's cost. For
each N, after ``--warmup`` seconds, for ``--seconds``:

* **loop lag**: how late a 10 ms timer in this process wakes up (p50, p99);
* **audio lost**: microphone blocks the sessions dropped (send queue overflow);
* **CPU**: this process's CPU time / wall time (% of one core), and per call;
* **memory per call**: this process's RSS once the N calls are up, minus before, / N.

``calls_per_core`` is N / (CPU share) for the largest N whose loop-lag p99 < 20 ms and no
audio lost. Last line: ``serve_load calls=<N> p99_ms=.. lost=.. calls_per_core=.. key=value``.
Usage: python bench/serve_load.py [--calls 5,20,40] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from typing import Any

from aiohttp import web
from azure.core.credentials import AzureKeyCredential
from load import dropped_blocks, loop_lag, start_emulator

from voiceagent import SessionFactory
from voiceagent.emulator.voice import synthesize
from voiceagent.serve import ServeLimits, SessionRegistry, create_app
from voiceagent.serve.telephony import add_media_routes
from voiceagent.testing.carriers import FakeTwilioCall


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def rss_mb() -> float:
    """This process's resident set size in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def caller(call: FakeTwilioCall, speech: bytes, every: float, stop: asyncio.Event) -> None:
    """Say ``speech`` every ``every`` seconds until ``stop``."""
    while not stop.is_set():
        await call.speak(speech)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def step(
    n: int, url: str, registry: SessionRegistry, args: argparse.Namespace, rss_base: float
) -> dict[str, Any]:
    speech = synthesize("hello there how are you doing today my friend").audio[: 1200 * 48]
    attached = asyncio.Event()

    def on_registry(what: str, _conversation: Any, _channel: str) -> None:
        if what == "attached" and sum(c.session is not None for c in registry.live) >= n:
            attached.set()

    registry.listeners.append(on_registry)
    calls = [FakeTwilioCall(url, seed=i) for i in range(n)]
    stop = asyncio.Event()
    talkers: list[asyncio.Task[None]] = []
    for call in calls:
        await call.__aenter__()
        talkers.append(asyncio.create_task(caller(call, speech, args.every, stop)))
        await asyncio.sleep(min(0.05, 2.0 / n))  # a ramp, not a burst
    await asyncio.wait_for(attached.wait(), 30)  # every call has its Voice Live session
    registry.listeners.remove(on_registry)
    await asyncio.sleep(args.warmup)
    sessions = [c.session for c in registry.live if c.session is not None]
    rss1 = rss_mb()
    lags: list[float] = []
    lag_stop = asyncio.Event()
    dropped0 = sum(dropped_blocks(s) for s in sessions)
    played0 = sum(len(c.played) for c in calls)
    cpu0, wall0 = time.process_time(), time.monotonic()
    monitor = asyncio.create_task(loop_lag(lags, lag_stop))
    await asyncio.sleep(args.seconds)
    lag_stop.set()
    await monitor
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    dropped = sum(dropped_blocks(s) for s in sessions) - dropped0
    heard_s = (sum(len(c.played) for c in calls) - played0) / 8000
    stop.set()
    await asyncio.gather(*talkers, return_exceptions=True)
    await asyncio.gather(*(c.hang_up() for c in calls), return_exceptions=True)
    await registry.wait_empty(30)
    share = cpu / wall
    result = {
        "n": n,
        "lag_p50": pct(lags, 50),
        "lag_p99": pct(lags, 99),
        "lost": dropped,
        "cpu_pct": share * 100,
        "cpu_per_call_pct": share / n * 100,
        "mb_per_call": (rss1 - rss_base) / n,  # from before the first call: freed pages are reused
        "heard_s": heard_s,
    }
    print(
        f"  N={n:4d} loop_lag p50={result['lag_p50']:.1f} p99={result['lag_p99']:.1f} ms; "
        f"lost={dropped}; cpu={result['cpu_pct']:.0f}% ({result['cpu_per_call_pct']:.2f}%/call); "
        f"rss +{result['mb_per_call']:.2f} MB/call; agent audio heard {heard_s:.0f} s",
        flush=True,
    )
    return result


async def main_async(args: argparse.Namespace) -> None:
    counts = [int(x) for x in args.calls.split(",")]
    emulator, endpoint = await start_emulator(args.emulator_speech, 1.5)
    factory = SessionFactory(endpoint, model="gpt-realtime", credential=AzureKeyCredential("bench"))
    registry = SessionRegistry(max(counts), max_duration_s=None)
    app = create_app(factory, limits=ServeLimits(max_conversations=max(counts)), registry=registry)
    add_media_routes(app, factory)
    runner = web.AppRunner(app, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    results = []
    rss_base = rss_mb()
    try:
        for n in counts:
            results.append(
                await step(n, f"ws://127.0.0.1:{port}/media/twilio", registry, args, rss_base)
            )
    finally:
        await runner.cleanup()
        await factory.aclose()
        emulator.terminate()
        await emulator.wait()
    good = [r for r in results if r["lag_p99"] < 20 and r["lost"] == 0]
    best = max(good, key=lambda r: r["n"]) if good else results[0]
    per_core = best["n"] / (best["cpu_pct"] / 100) if good and best["cpu_pct"] else 0.0
    last = results[-1]
    print(
        f"serve_load calls={last['n']} p99_ms={last['lag_p99']:.1f} lost={last['lost']} "
        f"cpu_per_call_pct={last['cpu_per_call_pct']:.2f} mb_per_call={last['mb_per_call']:.2f} "
        f"best_ok_calls={best['n'] if good else 0} calls_per_core={per_core:.0f} "
        f"seconds={args.seconds:g} cpus={os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="5,20,40", help="comma-separated Ns")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per N")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds per N")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between sentences")
    parser.add_argument("--emulator-speech", default="off", help="the emulator's --speech")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 120:
        sys.exit("--seconds must be between 1 and 120 (a bounded run)")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
