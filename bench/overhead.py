"""What the library costs on top of the raw SDK: inbound events, outbound microphone blocks, import.

Everything is measured side by side in one run, client CPU time only (``time.process_time()`` of
this process; the server is another process, ``bench/blaster.py``, on loopback):

* **inbound**: the server blasts ``--replies`` complete replies (per reply ~109 events: 50
  ``response.audio.delta`` of 100 ms, 50 transcript deltas, the lifecycle events). The raw SDK
  client is an ``async for event in connection`` loop that decodes every audio delta
  (``event.delta``) and reads each final transcript; the library client is a
  ``VoiceAgentSession`` with ``NullAudio`` (so every delta is decoded, tracked and handed to a
  backend) and a handler on ``response.audio_transcript.done``. Figure: CPU ms per 1,000 events.
* **outbound**: ``--sessions`` connections in this process, each fed one 20 ms block (960
  bytes) every 20 ms by one "device" thread through ``loop.call_soon_threadsafe``, for
  ``--seconds``. Raw SDK: the pattern of the SDK samples, a queue and a sender task calling
  ``connection.input_audio_buffer.append(audio=base64)`` per block (plus an idle receive
  loop). Library: a ``VoiceAgentSession`` whose backend hands the same blocks to its
  listener. Figure: client CPU us per block; the server's CPU per block is printed too.
* **import**: ``import voiceagent; from voiceagent import VoiceAgentSession`` against
  ``import azure.ai.voicelive.aio``, each in a fresh interpreter, wall time of the import
  statement, interleaved.

Each figure is the median over ``--rounds`` rounds, the two sides alternating in order; the
ratio is library / raw SDK (below 1: the library is cheaper).

Last line: ``overhead inbound_ratio=.. outbound_ratio=.. import_ratio=.. key=value ...``.
Usage: python bench/overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

from voiceagent import VoiceAgentSession
from voiceagent.audio import AudioFormat, AudioListener, NullAudio

HERE = Path(__file__).resolve().parent
BLOCK = bytes(range(256)) * 3 + bytes(192)  # 960 bytes: 20 ms at 24 kHz PCM16
KEY = AzureKeyCredential("bench")


# --- the server ---------------------------------------------------------------------------


class Server:
    """bench/blaster.py in its own process."""

    def __init__(self, replies: int, deltas: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "blaster.py"),
                f"--replies={replies}",
                f"--deltas={deltas}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if not match:
            self.close()
            raise RuntimeError(f"blaster did not start: {line!r}")
        self.endpoint = match.group(1)

    def cpu(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


# --- inbound ------------------------------------------------------------------------------


async def inbound_raw(endpoint: str) -> tuple[float, int]:
    """CPU seconds and events for one blast, read by a raw SDK loop that decodes audio."""
    events = audio_bytes = 0
    transcripts: list[str] = []
    async with connect(endpoint=endpoint, credential=KEY, model="gpt-realtime") as conn:
        await conn.recv()  # session.created
        t0 = time.process_time()
        await conn.send({"type": "response.create"})
        async for event in conn:
            events += 1
            kind = event.type
            if kind == "response.audio.delta":
                audio_bytes += len(event.delta)  # the SDK decodes base64 on access
            elif kind == "response.audio_transcript.done":
                transcripts.append(event.transcript)
            elif kind == "response.done" and event.response.id == "resp_end":
                break
        cpu = time.process_time() - t0
    assert audio_bytes and transcripts
    return cpu, events


async def inbound_session(endpoint: str) -> tuple[float, int]:
    """CPU seconds and events for one blast, through a VoiceAgentSession (NullAudio)."""
    audio = NullAudio()
    session = VoiceAgentSession(endpoint, model="gpt-realtime", credential=KEY, audio=audio)
    transcripts: list[str] = []
    done = asyncio.Event()
    counter = _Counter()

    @session.on("response.audio_transcript.done")
    def on_transcript(event: Any) -> None:
        transcripts.append(event.transcript)

    @session.on("response.done")
    def on_done(event: Any) -> None:
        if event.response.id == "resp_end":
            done.set()

    async with session:
        counter.attach(session)
        t0 = time.process_time()
        await session.create_response()
        await done.wait()
        cpu = time.process_time() - t0
    assert transcripts and audio.played_frames("item_0") > 0
    return cpu, counter.count


class _Counter:
    """Counts the frames the session's wire reads (without changing what it does)."""

    def __init__(self) -> None:
        self.count = 0

    def attach(self, session: VoiceAgentSession) -> None:
        wire = session._link.wire
        assert wire is not None
        recv = wire.recv

        async def counted() -> Any:
            frame = await recv()
            self.count += 1
            return frame

        wire.recv = counted  # type: ignore[method-assign]


# --- outbound -----------------------------------------------------------------------------


class Device(threading.Thread):
    """One 'sound card' thread: every 20 ms, one block to every sink, via the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sinks: list[Callable[[bytes], None]]):
        super().__init__(daemon=True)
        self.loop, self.sinks = loop, sinks
        self.ticks = 0
        self.running = True

    def run(self) -> None:
        start = time.monotonic()
        while self.running:
            for sink in self.sinks:
                self.loop.call_soon_threadsafe(sink, BLOCK)
            self.ticks += 1
            delay = start + self.ticks * 0.02 - time.monotonic()
            if delay > 0:
                time.sleep(delay)


class DeviceMic:
    """The library side's backend: hands the device thread's blocks to the session."""

    def __init__(self) -> None:
        self.listener: AudioListener | None = None

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        self.listener = listener

    def sink(self, pcm: bytes) -> None:
        assert self.listener is not None
        self.listener.on_input(pcm)

    def play(self, item_id: str, pcm: bytes) -> None:
        pass

    def flush(self) -> None:
        pass

    def played_frames(self, item_id: str) -> int:
        return 0

    @property
    def is_playing(self) -> bool:
        return False

    async def stop(self) -> None:
        pass


async def _drive(sinks: list[Callable[[bytes], None]], seconds: float) -> tuple[float, int]:
    device = Device(asyncio.get_running_loop(), sinks)
    t0 = time.process_time()
    device.start()
    await asyncio.sleep(seconds)
    device.running = False
    await asyncio.to_thread(device.join)
    await asyncio.sleep(0.1)  # the last blocks leave
    return time.process_time() - t0, device.ticks * len(sinks)


async def outbound_raw(endpoint: str, n: int, seconds: float) -> tuple[float, int]:
    async def open_one(stack: Any) -> Callable[[bytes], None]:
        conn = await stack.enter_async_context(
            connect(endpoint=endpoint, credential=KEY, model="gpt-realtime")
        )
        queue: asyncio.Queue[bytes] = asyncio.Queue()

        async def sender() -> None:
            while True:
                pcm = await queue.get()
                await conn.input_audio_buffer.append(audio=base64.b64encode(pcm).decode("ascii"))

        async def receiver() -> None:
            async for _ in conn:
                pass

        tasks.append(asyncio.ensure_future(sender()))
        tasks.append(asyncio.ensure_future(receiver()))
        return queue.put_nowait

    import contextlib

    tasks: list[asyncio.Future[None]] = []
    async with contextlib.AsyncExitStack() as stack:
        sinks = [await open_one(stack) for _ in range(n)]
        result = await _drive(sinks, seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return result


async def outbound_session(endpoint: str, n: int, seconds: float) -> tuple[float, int]:
    import contextlib

    mics = [DeviceMic() for _ in range(n)]
    async with contextlib.AsyncExitStack() as stack:
        for mic in mics:
            session = VoiceAgentSession(endpoint, model="gpt-realtime", credential=KEY, audio=mic)
            await stack.enter_async_context(session)
        return await _drive([m.sink for m in mics], seconds)


# --- import -------------------------------------------------------------------------------

IMPORTS = {
    "sdk": "import azure.ai.voicelive.aio",
    "voiceagent": "import voiceagent; from voiceagent import VoiceAgentSession",
}


def import_ms(stmt: str) -> float:
    code = f"import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout) * 1000


# --- main ---------------------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def run(args: argparse.Namespace) -> None:
    server = Server(args.replies, args.deltas)
    inbound: dict[str, list[float]] = {"raw": [], "session": []}
    outbound: dict[str, list[float]] = {"raw": [], "session": []}
    server_out: dict[str, list[float]] = {"raw": [], "session": []}
    try:
        for r in range(args.rounds):
            order = ("raw", "session") if r % 2 == 0 else ("session", "raw")
            for kind in order:
                fn = inbound_raw if kind == "raw" else inbound_session
                cpu, events = await fn(server.endpoint)
                inbound[kind].append(cpu / events * 1e6)  # ms per 1,000 events
            for kind in order:
                fn2 = outbound_raw if kind == "raw" else outbound_session
                s0 = server.cpu()
                cpu, blocks = await fn2(server.endpoint, args.sessions, args.seconds)
                outbound[kind].append(cpu / blocks * 1e6)  # us per block
                server_out[kind].append((server.cpu() - s0) / blocks * 1e6)
            print(
                f"round {r + 1}: inbound ms/1000 events raw={inbound['raw'][-1]:.1f} "
                f"session={inbound['session'][-1]:.1f}; outbound us/block "
                f"raw={outbound['raw'][-1]:.1f} session={outbound['session'][-1]:.1f} "
                f"(server raw={server_out['raw'][-1]:.1f} "
                f"session={server_out['session'][-1]:.1f})",
                flush=True,
            )
    finally:
        server.close()
    imports: dict[str, list[float]] = {"sdk": [], "voiceagent": []}
    for r in range(args.import_rounds):
        for kind in ("sdk", "voiceagent") if r % 2 == 0 else ("voiceagent", "sdk"):
            imports[kind].append(import_ms(IMPORTS[kind]))
    print(
        f"import ms: sdk={med(imports['sdk']):.0f} voiceagent={med(imports['voiceagent']):.0f}",
        flush=True,
    )
    in_ratio = med(inbound["session"]) / med(inbound["raw"])
    out_ratio = med(outbound["session"]) / med(outbound["raw"])
    srv_ratio = med(server_out["session"]) / med(server_out["raw"])
    imp_ratio = med(imports["voiceagent"]) / med(imports["sdk"])
    print(
        f"overhead inbound_ratio={in_ratio:.2f} outbound_ratio={out_ratio:.2f} "
        f"import_ratio={imp_ratio:.2f} "
        f"inbound_raw_ms_per_1000={med(inbound['raw']):.1f} "
        f"inbound_session_ms_per_1000={med(inbound['session']):.1f} "
        f"outbound_raw_us_per_block={med(outbound['raw']):.1f} "
        f"outbound_session_us_per_block={med(outbound['session']):.1f} "
        f"server_outbound_ratio={srv_ratio:.2f} "
        f"import_sdk_ms={med(imports['sdk']):.0f} "
        f"import_voiceagent_ms={med(imports['voiceagent']):.0f} "
        f"rounds={args.rounds} cpus={os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (~1 min)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--import-rounds", type=int, default=11)
    parser.add_argument("--replies", type=int, default=20, help="replies per inbound blast")
    parser.add_argument("--deltas", type=int, default=50, help="audio deltas per reply")
    parser.add_argument("--sessions", type=int, default=20, help="outbound connections")
    parser.add_argument("--seconds", type=float, default=6.0, help="outbound seconds per round")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.import_rounds, args.seconds = 3, 5, 3.0
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
