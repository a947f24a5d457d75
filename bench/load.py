"""Many full-duplex real-time 24 kHz sessions in one process: event-loop lag, delivery, audio lost.

Method: ``--emulators`` emulator processes (``python -m voiceagent.emulator``, real-time reply
pacing) run on this machine; this process runs N ``VoiceAgentSession`` objects against them
(round robin), each with a :class:`LoadDevice`, a virtual sound card on its own 20 ms clock
(random phase) that, like a device callback, hands one microphone block to the session and
takes one output block from a :class:`~voiceagent.audio.clock.PacedOutput` per tick. The
microphone plays 1.2 s of speech and 3.8 s of silence, repeated, so the emulator's VAD ends a
turn every 5 s and streams a reply in real time while the input keeps flowing. For each N, after
``--warmup`` seconds, for ``--seconds``:

* **loop lag**: how late a 10 ms timer in this process wakes up (p50, p99);
* **delivery delay**: lateness of each assistant audio delta handed to the backend against the
  emulator's schedule for its item (first delta + audio before it / ``--emulator-speed``; the
  emulators send reply audio 1.5 times faster than real time, as the service sends it ahead),
  p50 and p99;
* **audio lost**: microphone blocks the sessions dropped (their send queue overflowed) plus
  assistant frames the jitter buffers dropped; **underruns** (playback ran dry mid-item) are
  counted separately;
* **CPU per session**: this process's CPU time / wall time / N (% of one core); the emulators'
  total CPU is printed too;
* **GC**: the longest garbage-collector pause in the window (a full collection with 200
  sessions' objects takes ~100 ms: ``--gc-freeze`` calls ``gc.freeze()`` once the sessions are
  up, as a server would after start-up).

Last line: ``load sessions=<largest N> p99_ms=.. lost=.. key=value ...``.
Usage: python bench/load.py [--sessions 10,50,100,200] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from azure.core.credentials import AzureKeyCredential

from voiceagent import VoiceAgentSession
from voiceagent.audio import AudioFormat, AudioListener
from voiceagent.audio.clock import BlockClock, PacedOutput
from voiceagent.emulator.voice import synthesize

RATE = 24000
BLOCK = 480  # 20 ms
SPEECH_MS, CYCLE_MS = 1200, 5000


def mic_cycle() -> list[bytes]:
    """One 5 s cycle of 20 ms microphone blocks: speech, then silence (shared by all)."""
    speech = synthesize("hello there how are you doing today my friend").audio
    speech = speech[: SPEECH_MS * 48]
    pcm = speech + bytes(CYCLE_MS * 48 - len(speech))
    return [pcm[i : i + BLOCK * 2] for i in range(0, len(pcm), BLOCK * 2)]


@dataclass
class Totals:
    """What every device of one step recorded."""

    delivery_ms: list[float] = field(default_factory=list)
    measuring: bool = False
    speed: float = 1.0


class LoadDevice:
    """A virtual full-duplex card on its own real-time clock (see the module docstring)."""

    def __init__(self, cycle: list[bytes], totals: Totals) -> None:
        self._cycle = cycle
        self._totals = totals
        self._fmt = AudioFormat(RATE, BLOCK)
        self._output = PacedOutput(self._fmt, prebuffer_ms=40, max_frames=RATE * 300)
        self._listener: AudioListener | None = None
        self._task: asyncio.Task[None] | None = None
        self._tick_no = random.randrange(len(cycle))
        self._item: str | None = None
        self._item_t0 = 0.0
        self._item_frames = 0

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        self._listener = listener
        clock = BlockClock(BLOCK / RATE, max_catch_up=None)  # a device never skips
        clock.reset(random.random() * clock.period_s)  # random phase
        self._task = asyncio.create_task(clock.run(self._tick))

    def _tick(self) -> None:
        assert self._listener is not None
        self._listener.on_input(self._cycle[self._tick_no % len(self._cycle)])
        self._tick_no += 1
        if self._output.tick().drained:
            self._listener.on_playback_idle()

    def play(self, item_id: str, pcm: bytes) -> None:
        now = time.monotonic()
        if item_id != self._item:
            self._item, self._item_t0, self._item_frames = item_id, now, 0
        elif self._totals.measuring:
            due = self._item_t0 + self._item_frames / RATE / self._totals.speed
            self._totals.delivery_ms.append(max(0.0, now - due) * 1000)
        self._item_frames += len(pcm) // 2
        self._output.push(item_id, pcm)

    def flush(self) -> None:
        self._output.flush()
        self._item = None

    def played_frames(self, item_id: str) -> int:
        return self._output.played_frames(item_id)

    @property
    def is_playing(self) -> bool:
        return self._output.is_playing

    @property
    def underruns(self) -> int:
        return self._output.stats().underruns

    @property
    def overrun_frames(self) -> int:
        return self._output.stats().overrun_frames

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class GcPauses:
    """Records garbage-collector pauses (ms) while ``on`` is set."""

    def __init__(self) -> None:
        self.on = False
        self.pauses: list[float] = []
        self._t = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        elif self.on:
            self.pauses.append((time.perf_counter() - self._t) * 1000)


GC = GcPauses()


async def loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.01)
        samples.append(max(0.0, loop.time() - t - 0.01) * 1000)


def cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_emulator(speech: str, speed: float) -> tuple[asyncio.subprocess.Process, str]:
    extra = ["--speed", str(speed)] + ([] if speech == "default" else ["--speech", speech])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voiceagent.emulator",
        "--port",
        "0",
        "--log-level",
        "WARNING",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,  # its errors about clients closing are not ours
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
    if not match:
        raise RuntimeError(f"emulator did not start: {line!r}")
    return proc, match.group(1)


def dropped_blocks(session: VoiceAgentSession) -> int:
    """Microphone blocks the session dropped (a private counter: bench-only, two layouts)."""
    mic = getattr(session, "_microphone", None)
    if mic is not None and hasattr(mic, "dropped_blocks"):
        return int(mic.dropped_blocks)
    return int(getattr(session, "_dropped_mic_blocks", 0))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def step(
    n: int, endpoints: list[str], pids: list[int], args: argparse.Namespace, cycle: list[bytes]
) -> dict[str, Any]:
    totals = Totals(speed=args.emulator_speed)
    devices = [LoadDevice(cycle, totals) for _ in range(n)]
    extra: dict[str, Any] = {}
    if args.send_batch_ms:
        extra["send_batch_ms"] = args.send_batch_ms  # the session's server-side batching
    sessions = [
        VoiceAgentSession(
            endpoints[i % len(endpoints)],
            model="gpt-realtime",
            credential=AzureKeyCredential("bench"),
            audio=devices[i],
            **extra,
        )
        for i in range(n)
    ]
    ramp = min(3.0, 0.02 * n)
    failures = 0

    async def open_one(i: int, session: VoiceAgentSession) -> None:
        nonlocal failures
        await asyncio.sleep(ramp * i / n)
        try:
            await session.start()
        except Exception as exc:
            failures += 1
            print(f"  session {i} failed to start: {exc}", file=sys.stderr)

    await asyncio.gather(*(open_one(i, s) for i, s in enumerate(sessions)))
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    await asyncio.sleep(args.warmup)
    GC.pauses.clear()
    GC.on = True
    lags: list[float] = []
    stop = asyncio.Event()
    dropped0 = sum(dropped_blocks(s) for s in sessions)
    under0 = sum(d.underruns for d in devices)
    over0 = sum(d.overrun_frames for d in devices)
    cpu0, emu0, wall0 = time.process_time(), sum(cpu_of(p) for p in pids), time.monotonic()
    totals.measuring = True
    monitor = asyncio.create_task(loop_lag(lags, stop))
    await asyncio.sleep(args.seconds)
    stop.set()
    await monitor
    totals.measuring = False
    GC.on = False
    wall = time.monotonic() - wall0
    cpu = time.process_time() - cpu0
    emu_cpu = sum(cpu_of(p) for p in pids) - emu0
    dropped = sum(dropped_blocks(s) for s in sessions) - dropped0
    underruns = sum(d.underruns for d in devices) - under0
    overrun = sum(d.overrun_frames for d in devices) - over0
    failed = sum(1 for s in sessions if s.state.value != "ready") + failures
    await asyncio.gather(*(s.aclose() for s in sessions), return_exceptions=True)
    result = {
        "n": n,
        "lag_p50": pct(lags, 50),
        "lag_p99": pct(lags, 99),
        "delivery_p50": pct(totals.delivery_ms, 50),
        "delivery_p99": pct(totals.delivery_ms, 99),
        "deltas": len(totals.delivery_ms),
        "lost": dropped + overrun,
        "dropped_blocks": dropped,
        "overrun_frames": overrun,
        "underruns": underruns,
        "cpu_per_session_pct": cpu / wall / n * 100,
        "client_cpu_pct": cpu / wall * 100,
        "emulators_cpu_pct": emu_cpu / wall * 100,
        "failed": failed,
        "gc_max_ms": max(GC.pauses, default=0.0),
    }
    print(
        f"  N={n:4d} loop_lag p50={result['lag_p50']:.1f} p99={result['lag_p99']:.1f} ms; "
        f"delivery p50={result['delivery_p50']:.1f} p99={result['delivery_p99']:.1f} ms "
        f"({result['deltas']} deltas); lost={result['lost']} (mic blocks {dropped}, "
        f"playback frames {overrun}); underruns={underruns}; cpu/session="
        f"{result['cpu_per_session_pct']:.2f}% client={result['client_cpu_pct']:.0f}% "
        f"emulators={result['emulators_cpu_pct']:.0f}% failed={failed} "
        f"gc_max={result['gc_max_ms']:.0f}ms",
        flush=True,
    )
    return result


async def main_async(args: argparse.Namespace) -> None:
    counts = [int(x) for x in args.sessions.split(",")]
    cycle = mic_cycle()
    emulators = [
        await start_emulator(args.emulator_speech, args.emulator_speed)
        for _ in range(args.emulators)
    ]
    endpoints = [e for _, e in emulators]
    pids = [p.pid for p, _ in emulators]
    results = []
    try:
        for n in counts:
            results.append(await step(n, endpoints, pids, args, cycle))
    finally:
        for proc, _ in emulators:
            proc.terminate()
            await proc.wait()
    last = results[-1]
    print(
        f"load sessions={last['n']} p99_ms={last['lag_p99']:.1f} lost={last['lost']} "
        f"p50_ms={last['lag_p50']:.1f} delivery_p99_ms={last['delivery_p99']:.1f} "
        f"underruns={last['underruns']} cpu_per_session_pct={last['cpu_per_session_pct']:.2f} "
        f"emulators={args.emulators} emulators_cpu_pct={last['emulators_cpu_pct']:.0f} "
        f"failed={last['failed']} gc_max_ms={last['gc_max_ms']:.0f} gc_freeze={args.gc_freeze} "
        f"seconds={args.seconds:g} send_batch_ms={args.send_batch_ms:g} "
        f"cpus={os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="10,50,100,200", help="comma-separated Ns")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per N")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds per N")
    parser.add_argument("--emulators", type=int, default=2, help="emulator processes")
    parser.add_argument("--emulator-speed", type=float, default=1.5, help="reply audio pace")
    parser.add_argument(
        "--emulator-speech",
        default="off",
        help="the emulators' --speech: off (synthetic voice, no recognition: the client is "
        "measured, not pocketsphinx), on, auto, or 'default' for an emulator without the option",
    )
    parser.add_argument(
        "--send-batch-ms",
        type=float,
        default=0.0,
        help="VoiceAgentSession(send_batch_ms=...): microphone audio per append (0: off)",
    )
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after start-up")
    parser.add_argument("--quick", action="store_true", help="N=10,200 for 8 s each")
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.seconds, args.warmup = "10,200", 8.0, 3.0
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
