"""Phone calls per core for ``voiceagent serve``, measured from outside: three processes.

Method: one emulator process (``python -m voiceagent.emulator``, replies paced 1.5 times real
time, as in ``bench/load.py``), one ``voiceagent serve`` process (the measured one, model mode
against that emulator, ``--public-url`` on loopback and a ``TWILIO_AUTH_TOKEN``, so its phone
routes are on), and this process, the callers: N fake Twilio calls (``bench/phone_callers.py``:
a signed webhook, then the media stream; a sentence every ``--every`` seconds). For each N,
once every call has heard its first reply and after ``--warmup`` seconds, for ``--seconds``:

* **loop lag** of the serve process, from its own ``/metrics``
  (``voiceagent_event_loop_lag_seconds``, a wake-up every 250 ms): the buckets' counts over the
  window; ``p99`` is the smallest bucket bound holding 99 % of the wake-ups (linear within the
  bucket for the printed figure); "p99 < 20 ms" means at least 99 % of them came <= 20 ms late;
* **audio lost**: microphone blocks the server dropped (its ``network too slow: dropped``
  warnings on stderr: a session logs one at its 1st, 100th and 1000th dropped block),
  agent-audio chunks the callers got late (the line ran dry mid-reply, ``phone_callers.audit``),
  calls the server dropped and calls that never heard a reply;
* **CPU** of the serve process (utime + stime from ``/proc/<pid>/stat`` over the window / wall
  time: cores used), of the callers (this process) and of the emulator;
* **memory per call**: the serve process's RSS (``/proc/<pid>/statm``) with the N calls up,
  minus its RSS before the first call, / N.

``--nice`` runs the callers and the emulator at nice 19, so that on a machine with too few
cores for the three processes the serve process is scheduled first (the callers' own lag check
still tells when they fall behind).

``calls_per_core`` = N / (serve CPU-seconds per wall-second) for the largest N that passes
(lag p99 < 20 ms, nothing lost, every call up, and the callers' own loop lag p99 < 20 ms:
else the load generator, not the server, is what was measured).
Last line: ``serve_load calls=<N> ... best_ok_calls=.. calls_per_core=.. key=value``.
Usage: python bench/serve_load.py [--calls 20,40,60] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import time
from typing import Any

import aiohttp
from load import cpu_of, loop_lag, start_emulator
from phone_callers import Audit, Caller, audit

from voiceagent.emulator.voice import synthesize

LAG_METRIC = "voiceagent_event_loop_lag_seconds_bucket"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


async def lag_buckets(http: aiohttp.ClientSession, base: str) -> dict[float, float]:
    """The serve process's loop-lag histogram: upper bound -> cumulative count."""
    async with http.get(base + "/metrics") as response:
        text = await response.text()
    buckets = {}
    for le, count in re.findall(LAG_METRIC + r'\{le="([^"]+)"\} (\S+)', text):
        buckets[float(le)] = float(count)
    if not buckets:
        raise RuntimeError("the serve process's /metrics has no loop-lag histogram")
    return buckets


def histogram_p99(before: dict[float, float], after: dict[float, float]) -> tuple[float, float]:
    """(p99 in ms, interpolated within its bucket; wake-ups) from two cumulative snapshots."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1]
    if total <= 0:
        return float("nan"), 0
    want = 0.99 * total
    lower, below = 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= want:
            if bound == float("inf"):
                return lower * 1000, total
            inside = cumulative - below
            return (lower + (bound - lower) * (want - below) / inside) * 1000, total
        lower, below = bound, cumulative
    return float("nan"), total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_serve(endpoint: str, auth_token: str, max_calls: int) -> tuple[Any, str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TWILIO_AUTH_TOKEN": auth_token}
    for name in ("VOICEAGENT_OPERATOR_TOKEN", "VOICEAGENT_PUBLIC_URL", "AGENT_NAME"):
        env.pop(name, None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--endpoint", endpoint,
        "--model", "gpt-realtime", "--api-key", "bench", "--port", str(port),
        "--public-url", base, "--max-sessions", str(max_calls), "--log-format", "json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if "open http" not in line:
            raise RuntimeError(f"voiceagent serve did not start: {line!r}")
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return proc, base


class Stderr:
    """Reads the serve process's stderr; counts dropped-microphone warnings."""

    def __init__(self, proc: Any) -> None:
        self.dropped_warnings = 0
        self.errors: list[str] = []
        self.slow: list[str] = []
        self._task = asyncio.create_task(self._read(proc.stderr))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            line = raw.decode(errors="replace")
            if "network too slow: dropped" in line:
                self.dropped_warnings += 1
            elif "Executing <" in line:  # PYTHONASYNCIODEBUG=1: a slow callback, for diagnosis
                self.slow.append(line.strip()[:400])
            elif '"ERROR"' in line or "Traceback" in line:
                self.errors.append(line.strip()[:300])


async def profile(pid: int, n: int, args: argparse.Namespace) -> Any:
    """``--profile DIR``: py-spy samples the serve process through the window (collapsed stacks)."""
    if args.profile is None:
        return None
    os.makedirs(args.profile, exist_ok=True)
    out = os.path.join(args.profile, f"serve-{n}.txt")
    return await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(pid), "--duration", str(int(args.seconds)),
        "--rate", "200", "--nonblocking", "--format", "raw", "--output", out,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def speech_pcm(wav: str | None) -> bytes:
    if wav is None:
        return synthesize("hello there how are you doing today my friend").audio[: 1200 * 48]
    import wave

    import numpy as np
    import soxr

    with wave.open(wav, "rb") as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    audio = np.frombuffer(frames, dtype="<i2")
    return np.asarray(soxr.resample(audio, rate, 24000), dtype="<i2").tobytes()


async def step(n: int, ctx: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    serve, emulator, base, http = ctx["serve"], ctx["emulator"], ctx["base"], ctx["http"]
    callers = [Caller(base, ctx["auth_token"], seed=ctx["seed"] + i) for i in range(n)]
    ctx["seed"] += n
    stop = asyncio.Event()
    talkers: list[asyncio.Task[None]] = []
    for caller in callers:
        await caller.dial(http)
        talkers.append(asyncio.create_task(caller.talk(ctx["speech"], args.every, stop)))
        await asyncio.sleep(min(0.05, 2.0 / n))  # a ramp, not a burst
    await asyncio.gather(  # every call has heard its first reply
        *(c.first_reply(args.every + 30) for c in callers), return_exceptions=True
    )
    await asyncio.sleep(args.warmup)
    rss = rss_mb(serve.pid)
    warnings0 = ctx["stderr"].dropped_warnings
    lags: list[float] = []
    lag_stop = asyncio.Event()
    buckets0 = await lag_buckets(http, base)
    cpu0 = (cpu_of(serve.pid), time.process_time(), cpu_of(emulator.pid))
    t0 = time.monotonic()
    monitor = asyncio.create_task(loop_lag(lags, lag_stop))
    spy = await profile(serve.pid, n, args)
    await asyncio.sleep(args.seconds)
    t1 = time.monotonic()
    cpu1 = (cpu_of(serve.pid), time.process_time(), cpu_of(emulator.pid))
    buckets1 = await lag_buckets(http, base)
    lag_stop.set()
    await monitor
    if spy is not None:
        await spy.wait()
    wall = t1 - t0
    serve_cores, callers_cores, emulator_cores = (
        (b - a) / wall for a, b in zip(cpu0, cpu1, strict=True)
    )
    heard = Audit()
    for caller in callers:
        audit(caller.log, t0, t1, heard)
    silent = sum(not c.log.times for c in callers)
    dropped_calls = sum(c.dropped_by_server for c in callers)
    stop.set()
    await asyncio.gather(*talkers, return_exceptions=True)
    await asyncio.gather(*(c.hang_up() for c in callers), return_exceptions=True)
    p99, wakeups = histogram_p99(buckets0, buckets1)
    mic_dropped = ctx["stderr"].dropped_warnings - warnings0
    result = {
        "n": n,
        "lag_p99": p99,
        "wakeups": wakeups,
        "lost": mic_dropped + heard.late_chunks + dropped_calls + silent,
        "serve_cores": serve_cores,
        "callers_cores": callers_cores,
        "emulator_cores": emulator_cores,
        "mb_per_call": (rss - ctx["rss0"]) / n,
        "callers_lag_p99": pct(lags, 99),
        "heard_s": heard.frames * 0.02,
        "load": os.getloadavg()[0],
    }
    # a late callers' loop stamps arrivals late and sends the microphone late: not the server's
    result["callers_ok"] = result["callers_lag_p99"] < 20
    print(
        f"  N={n:4d} serve lag p99={p99:.1f} ms ({wakeups:.0f} wake-ups); lost: mic drop warnings="
        f"{mic_dropped} late chunks={heard.late_chunks} ({heard.gap_ms:.0f} ms) calls dropped="
        f"{dropped_calls} silent={silent}; cpu serve={serve_cores * 100:.0f}% "
        f"({serve_cores / n * 100:.2f}%/call) callers={callers_cores * 100:.0f}% "
        f"(lag p99 {result['callers_lag_p99']:.1f} ms) emulator={emulator_cores * 100:.0f}%; "
        f"rss +{result['mb_per_call']:.2f} MB/call; heard {result['heard_s']:.0f} s in "
        f"{heard.replies} replies, {heard.clears} clears; load avg {result['load']:.1f}"
        + ("" if result["callers_ok"] else " [callers overloaded: not a server figure]"),
        flush=True,
    )
    await asyncio.sleep(2)  # the server releases the calls
    return result


async def main_async(args: argparse.Namespace) -> None:
    counts = [int(x) for x in args.calls.split(",")]
    procs: list[Any] = []
    results = []
    me = asyncio.current_task()
    assert me is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, me.cancel)  # still clean up
    try:
        emulator, endpoint = await start_emulator(args.emulator_speech, 1.5)
        procs.append(emulator)
        auth_token = secrets.token_hex(16)
        serve, base = await start_serve(endpoint, auth_token, max(counts))
        procs.append(serve)
        if args.nice:  # the load generator yields the cores to the measured process
            os.setpriority(os.PRIO_PROCESS, emulator.pid, 19)
            os.nice(19)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            await asyncio.sleep(1)
            ctx = {
                "serve": serve, "emulator": emulator, "base": base, "http": http,
                "auth_token": auth_token, "seed": 0, "speech": speech_pcm(args.wav),
                "stderr": Stderr(serve), "rss0": rss_mb(serve.pid),
            }  # fmt: skip
            for n in counts:
                results.append(await step(n, ctx, args))
            for line in ctx["stderr"].errors[:5]:
                print(f"  serve error: {line}", flush=True)
            for line in ctx["stderr"].slow[-10:]:
                print(f"  serve slow callback: {line}", flush=True)
    finally:
        for proc in reversed(procs):
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 15)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    good = [r for r in results if r["lag_p99"] < 20 and r["lost"] == 0 and r["callers_ok"]]
    best = max(good, key=lambda r: r["n"]) if good else None
    per_core = best["n"] / best["serve_cores"] if best and best["serve_cores"] else 0.0
    last = results[-1]
    print(
        f"serve_load calls={last['n']} p99_ms={last['lag_p99']:.1f} lost={last['lost']} "
        f"serve_cpu_per_call_pct={last['serve_cores'] / last['n'] * 100:.2f} "
        f"callers_cpu_pct={last['callers_cores'] * 100:.0f} "
        f"callers_lag_p99_ms={last['callers_lag_p99']:.1f} "
        f"emulator_cpu_pct={last['emulator_cores'] * 100:.0f} "
        f"mb_per_call={last['mb_per_call']:.2f} best_ok_calls={best['n'] if best else 0} "
        f"calls_per_core={per_core:.0f} seconds={args.seconds:g} nice={int(args.nice)} "
        f"cpus={os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="20,40,60", help="comma-separated Ns, ascending")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per N")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds per N")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between sentences")
    parser.add_argument("--wav", help="a 16-bit mono WAV the callers say (default: synthetic)")
    parser.add_argument(
        "--nice",
        action="store_true",
        help="run the callers and the emulator at nice 19 (too few cores for all three)",
    )
    parser.add_argument("--profile", metavar="DIR", help="py-spy the serve process into DIR")
    parser.add_argument("--emulator-speech", default="off", help="the emulator's --speech")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 300:
        sys.exit("--seconds must be between 1 and 300 (a bounded run)")
    if args.profile is not None and shutil.which("py-spy") is None:
        sys.exit("--profile samples with py-spy, which is not installed: pip install py-spy")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
