"""Time from SIGTERM to readiness off: ``voiceagent serve --emulator`` with live conversations.

Starts the server in a child process, opens ``--tabs`` conversations, sends SIGTERM and asks
``/readyz`` as fast as it can until it answers 503. The figure includes one HTTP round trip
(the resolution of the measurement). Last line: ``key=value`` pairs.

    .venv/bin/python bench/drain_readiness.py --runs 5 --tabs 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import sys
import time

import aiohttp


async def one_run(tabs: int) -> float:
    env = {**os.environ, "AZURE_VOICELIVE_API_KEY": "sk-bench"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--emulator", "--port", "0",
        "--drain-timeout", "2", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    found = re.search(r"open (http://\S+/)", line)
    assert found, line
    url = found.group(1)
    async with aiohttp.ClientSession() as http:
        sockets = []
        for _ in range(tabs):
            ws = await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
            await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
            while True:
                msg = await ws.receive()
                assert msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), msg
                listening = {"type": "state", "state": "listening"}
                if msg.type is aiohttp.WSMsgType.TEXT and json.loads(msg.data) == listening:
                    break
            sockets.append(ws)
        start = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        while True:
            async with http.get(url + "readyz") as resp:
                if resp.status == 503:
                    elapsed = time.perf_counter() - start
                    break
        for ws in sockets:
            await ws.close()
    await asyncio.wait_for(proc.wait(), 30)
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tabs", type=int, default=5)
    args = parser.parse_args()
    figures = [await one_run(args.tabs) for _ in range(args.runs)]
    ms = sorted(f * 1000 for f in figures)
    print(
        f"runs={args.runs} tabs={args.tabs} sigterm_to_not_ready_ms_median="
        f"{statistics.median(ms):.1f} sigterm_to_not_ready_ms_max={ms[-1]:.1f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
