"""Browser barge-in benchmark: ``speech_started`` at the server -> the page's output silent.

Real parts only: the shipped page in headless Chromium (Debian's, driven by Playwright), its
microphone a looped spoken WAV, the aiohttp app of ``voiceagent serve`` and a session per tab on
the in-process emulator, over real WebSockets on loopback. Each loop of the WAV speaks over the
agent's long reply: one interruption.

Per interruption: from the moment the (emulated) Voice Live service sends
``input_audio_buffer.speech_started`` through the SDK, the session (which flushes the bridge),
the server's socket and the page, to the first block the page's playback worklet outputs after
it dropped its queue, read on the same wall clock
(``time.time()`` on the server, ``Date.now()`` in the page: 1 ms resolution). What the
browser adds after the worklet (its output buffer, ~10 ms at 24 kHz in Chromium) is not in it.
Also reported: ``clear`` received by the page -> silent block (in the page only).

    python bench/browser.py [--interruptions 20] [--tabs 1]

Last line: ``browser_bargein_p50_ms=... browser_bargein_p99_ms=... clear_to_silent_p99_ms=...
interruptions=N``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from serve.browser import chromium, speech_wav  # noqa: E402
from serve.helpers import served  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def main(interruptions: int, tabs: int) -> int:
    starts: dict[int, list[float]] = {}

    async def record_starts(server: Any, mine: list[float]) -> None:
        # woken as the emulator sends each speech_started: before the SDK, the session, the
        # bridge and the socket, all of which are in the figure
        while True:
            await server.wait_for_server_event("input_audio_buffer.speech_started", timeout=3600)
            mine.append(time.time() * 1000)

    with tempfile.TemporaryDirectory() as tmp:
        mic = speech_wav(Path(tmp) / "mic.wav", "excuse me, one question", 2.5)
        async with served() as box, chromium(mic) as browser:
            for _ in range(interruptions * 3 + 10):
                box.emulator.script.user_says("excuse me one question")
            pages, recorders = [], []
            for index in range(tabs):
                page = await (await browser.new_context()).new_page()  # each in its own window
                await page.goto(box.url)
                await page.get_by_role("button", name="Start").click()
                pages.append(page)
                while len(box.emulator.sessions) <= index:
                    await box.emulator.wait_for_session(timeout=10)
                mine = starts.setdefault(index, [])
                server = box.emulator.sessions[index]
                recorders.append(asyncio.ensure_future(record_starts(server, mine)))
            per_tab = -(-interruptions // tabs)
            for page in pages:
                await page.wait_for_function(
                    f"window.voiceagentStats.silentAtMs.length >= {per_tab}",
                    timeout=per_tab * 15_000,
                )
            stats = [await p.evaluate("window.voiceagentStats") for p in pages]
            for recorder in recorders:
                recorder.cancel()
    latencies, in_page, unpaired = [], [], 0
    for index, page_stats in enumerate(stats):
        for silent in page_stats["silentAtMs"]:
            before = [s for s in starts.get(index, []) if s <= silent]
            # a clear long after any speech_started was not a barge-in (the session's flush
            # when a reply is cancelled or the session closes): counted apart, not as latency
            if before and silent - before[-1] < 1000:
                latencies.append(silent - before[-1])
            else:
                unpaired += 1
        in_page.extend(page_stats["clearToSilentMs"])
    if not latencies:
        print("no interruption measured", file=sys.stderr)
        return 1
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    print(f"{len(latencies)} interruptions over {tabs} tab(s); {unpaired} clears unpaired")
    print(f"speech_started -> page silent: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"clear received -> silent block (in the page): p99 {percentile(in_page, 0.99):.1f} ms")
    print(
        f"browser_bargein_p50_ms={p50:.1f} browser_bargein_p99_ms={p99:.1f} "
        f"clear_to_silent_p99_ms={percentile(in_page, 0.99):.1f} interruptions={len(latencies)}"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interruptions", type=int, default=20)
    parser.add_argument("--tabs", type=int, default=1)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.interruptions, args.tabs)))
