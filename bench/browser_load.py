"""Many browser conversations on one ``voiceagent serve`` app: server CPU each, event-loop lag.

Method: ``--emulators`` emulator processes (``python -m voiceagent.emulator``, real-time reply
pacing, as ``bench/load.py`` runs them) stand in for Voice Live. This process runs the app of
``voiceagent serve`` (:func:`voiceagent.serve.create_app`, a :class:`~voiceagent.SessionFactory`
per emulator, round robin) on 127.0.0.1. The pages run in a *second* process (this script with
``--pages``), so their CPU is not the server's: N aiohttp WebSocket clients speaking the page's
protocol as ``assets/voiceagent.js`` and its worklets do: ``hello``, a binary PCM16 24 kHz
microphone frame every 20 ms (1.2 s of speech, 3.8 s of silence, repeated: a turn every 5 s),
and a player that starts an item once 60 ms are buffered, outputs 20 ms per tick, reports
``played`` every 50 ms of output and when its queue empties (``idle``), and answers ``clear``
with ``cleared``. For each N, after ``--warmup`` seconds, for ``--seconds``:

* **server CPU per conversation**: this process's CPU time / wall time / N (% of one core);
* **plain sessions** on the same audio, in the same run: N ``VoiceAgentSession`` objects on
  ``bench/load.py``'s paced memory device, same emulators, same measurement (``step`` of
  ``bench/load.py``): the difference is what the page socket, its framing and the web backend
  cost;
* **loop lag**: how late a 10 ms timer in this (the server's) process wakes up, p50 and p99.

Last line: ``browser_load conversations=<largest N> lag_p99_ms=.. cpu_per_conversation_pct=..
cpu_per_session_pct=.. key=value ...``.
Usage: python bench/browser_load.py [--conversations 20,50,100] [--seconds 15] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from azure.core.credentials import AzureKeyCredential

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import GC, cpu_of, loop_lag, mic_cycle, pct, start_emulator, step

from voiceagent import SessionFactory
from voiceagent.serve import ServeLimits, create_app

TICK_S, TICK_FRAMES = 0.02, 480
PREBUFFER, REPORT_EVERY = 1440, 1200  # as playback-worklet.js: 60 ms, a report every 50 ms


class PagePlayer:
    """The playback worklet's bookkeeping: a queue, per-item output counts, its reports."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, int]] = []  # (item, frames left)
        self.buffered = self.received = self.seq = self.since_report = 0
        self.played: dict[str, int] = {}
        self.started = False

    def push(self, item: str, frames: int) -> None:
        self.queue.append((item, frames))
        self.buffered += frames
        self.received += frames

    def clear(self, seq: int) -> str:
        self.queue, self.buffered, self.received, self.seq = [], 0, 0, seq
        self.started = False
        return json.dumps({"type": "cleared", "seq": seq, "frames": dict(self.played)})

    def tick(self) -> str | None:
        """Output 20 ms; the ``played`` report the page would send now, if any."""
        if not self.started and self.buffered >= PREBUFFER:
            self.started = True
        n = 0
        while self.started and n < TICK_FRAMES and self.queue:
            item, left = self.queue[0]
            take = min(TICK_FRAMES - n, left)
            self.played[item] = self.played.get(item, 0) + take
            n, self.buffered = n + take, self.buffered - take
            if take == left:
                self.queue.pop(0)
            else:
                self.queue[0] = (item, left - take)
        if n == 0:
            return None
        self.since_report += n
        idle = not self.queue
        if idle:
            self.started = False
        elif self.since_report < REPORT_EVERY:
            return None
        self.since_report = 0
        report = {"seq": self.seq, "frames": dict(self.played), "received": self.received}
        return json.dumps({"type": "played", **report, "idle": idle})


async def one_page(
    http: aiohttp.ClientSession, url: str, cycle: list[bytes], until: float
) -> tuple[int, int]:
    """One tab: talk and play until ``until``; (1 if the conversation failed, frames played)."""
    origin = url.split("/ws")[0]
    player, item = PagePlayer(), ""
    async with http.ws_connect(url, headers={"Origin": origin}, max_msg_size=0) as ws:
        await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))

        async def read() -> None:
            nonlocal item
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.BINARY:
                    if item:
                        player.push(item, len(msg.data) // 2)
                    continue
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                message = json.loads(msg.data)
                if message["type"] == "audio":
                    item = message["item_id"]
                elif message["type"] == "clear":
                    item = ""
                    await ws.send_str(player.clear(message["seq"]))

        reader = asyncio.create_task(read())
        loop = asyncio.get_running_loop()
        at, tick = loop.time() + random.random() * TICK_S, random.randrange(len(cycle))
        while loop.time() < until and not reader.done():
            await asyncio.sleep(max(0.0, at - loop.time()))
            at += TICK_S
            await ws.send_bytes(cycle[tick % len(cycle)])
            tick += 1
            report = player.tick()
            if report is not None:
                await ws.send_str(report)
        failed = reader.done()
        reader.cancel()
        return int(failed), sum(player.played.values())


async def pages_main(url: str, n: int, seconds: float) -> None:
    """The page process: N tabs ramped in over up to 3 s, all ending at the same time."""
    cycle = mic_cycle()
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    ramp = min(3.0, 0.02 * n)
    async with aiohttp.ClientSession() as http:

        async def later(i: int) -> tuple[int, int]:
            await asyncio.sleep(ramp * i / n)
            try:
                return await one_page(http, url, cycle, until)
            except Exception as exc:
                print(f"  page {i} failed: {exc}", file=sys.stderr)
                return 1, 0

        results = await asyncio.gather(*(later(i) for i in range(n)))
    played = sum(p for _, p in results)
    cpu = time.process_time() / seconds * 100  # the whole page process, start-up included
    failed = sum(f for f, _ in results)
    print(f"pages played_s={played / 24000:.0f} cpu_pct={cpu:.0f} failed={failed}", flush=True)


class RoundRobin:
    """A session maker over several factories (one per emulator process)."""

    def __init__(self, factories: list[SessionFactory]) -> None:
        self._factories, self._next = factories, 0
        self.sessions: list[Any] = []

    def create(self, **kwargs: Any) -> Any:
        self._next += 1
        session = self._factories[self._next % len(self._factories)].create(**kwargs)
        self.sessions.append(session)
        return session


async def browser_step(
    n: int, maker: RoundRobin, url: str, pids: list[int], args: argparse.Namespace
) -> dict[str, Any]:
    maker.sessions.clear()
    ramp = min(3.0, 0.02 * n)
    total = ramp + args.warmup + args.seconds + 1.0
    pages = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--pages", url, str(n), str(total), stdout=asyncio.subprocess.PIPE
    )
    await asyncio.sleep(ramp + args.warmup)
    lags: list[float] = []
    stop = asyncio.Event()
    GC.pauses.clear()
    GC.on = True
    cpu0, emu0, wall0 = time.process_time(), sum(cpu_of(p) for p in pids), time.monotonic()
    live = sum(1 for s in maker.sessions if s.state.value == "ready")
    monitor = asyncio.create_task(loop_lag(lags, stop))
    await asyncio.sleep(args.seconds)
    stop.set()
    await monitor
    wall = time.monotonic() - wall0
    cpu = time.process_time() - cpu0
    emu_cpu = sum(cpu_of(p) for p in pids) - emu0
    GC.on = False
    out, _ = await asyncio.wait_for(pages.communicate(), total + 30)
    report = dict(kv.split("=") for kv in out.decode().split()[1:])  # "pages played_s=.. failed=.."
    failed = int(report.get("failed", n)) + (n - live)
    result = {
        "n": n,
        "lag_p50": pct(lags, 50),
        "lag_p99": pct(lags, 99),
        "cpu_per_conversation_pct": cpu / wall / n * 100,
        "server_cpu_pct": cpu / wall * 100,
        "emulators_cpu_pct": emu_cpu / wall * 100,
        "failed": failed,
        "played_s": float(report.get("played_s", 0)),
        "pages_cpu_pct": float(report.get("cpu_pct", 0)),
        "gc_max_ms": max(GC.pauses, default=0.0),
    }
    print(
        f"  N={n:4d} browser: loop_lag p50={result['lag_p50']:.1f} p99={result['lag_p99']:.1f} "
        f"ms; cpu/conversation={result['cpu_per_conversation_pct']:.2f}% server="
        f"{result['server_cpu_pct']:.0f}% emulators={result['emulators_cpu_pct']:.0f}% "
        f"pages={result['pages_cpu_pct']:.0f}% live={live} failed={failed} "
        f"agent audio played by the pages={result['played_s']:.0f} s "
        f"gc_max={result['gc_max_ms']:.0f}ms",
        flush=True,
    )
    return result


async def main_async(args: argparse.Namespace) -> None:
    counts = [int(x) for x in args.conversations.split(",")]
    emulators = [await start_emulator("off", 1.5) for _ in range(args.emulators)]
    endpoints = [e for _, e in emulators]
    pids = [p.pid for p, _ in emulators]
    factories = [
        SessionFactory(e, model="gpt-realtime", credential=AzureKeyCredential("bench"))
        for e in endpoints
    ]
    limits = ServeLimits(max_conversations=max(counts) + 10)
    maker = RoundRobin(factories)
    app = create_app(maker, limits=limits)
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/ws"
    plain_args = argparse.Namespace(
        emulator_speed=1.5, send_batch_ms=0.0, gc_freeze=False, **vars(args)
    )
    rows = []
    try:
        for n in counts:
            browser = await browser_step(n, maker, url, pids, args)
            plain = await step(n, endpoints, pids, plain_args, mic_cycle())
            rows.append((browser, plain))
    finally:
        await runner.cleanup()
        for factory in factories:
            await factory.aclose()
        for proc, _ in emulators:
            proc.terminate()
            await proc.wait()
    for browser, plain in rows:
        print(
            f"  N={browser['n']:4d}: browser {browser['cpu_per_conversation_pct']:.2f}% vs "
            f"plain {plain['cpu_per_session_pct']:.2f}% of a core each; lag p99 browser "
            f"{browser['lag_p99']:.1f} ms, plain {plain['lag_p99']:.1f} ms"
        )
    browser, plain = rows[-1]
    print(
        f"browser_load conversations={browser['n']} lag_p99_ms={browser['lag_p99']:.1f} "
        f"lag_p50_ms={browser['lag_p50']:.1f} "
        f"cpu_per_conversation_pct={browser['cpu_per_conversation_pct']:.2f} "
        f"cpu_per_session_pct={plain['cpu_per_session_pct']:.2f} "
        f"plain_lag_p99_ms={plain['lag_p99']:.1f} failed={browser['failed']} "
        f"plain_failed={plain['failed']} played_s={browser['played_s']:.0f} "
        f"emulators={args.emulators} seconds={args.seconds:g} "
        f"cpus={os.cpu_count()}"
    )


def main() -> None:
    if sys.argv[1:2] == ["--pages"]:
        url, n, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        asyncio.run(pages_main(url, n, seconds))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", default="20,50,100", help="comma-separated Ns")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per N")
    parser.add_argument("--warmup", type=float, default=4.0, help="unmeasured seconds per N")
    parser.add_argument("--emulators", type=int, default=2, help="emulator processes")
    parser.add_argument("--quick", action="store_true", help="N=5,20 for 6 s each")
    args = parser.parse_args()
    if args.quick:
        args.conversations, args.seconds, args.warmup = "5,20", 6.0, 2.0
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
