"""``/healthz``, ``/readyz`` and ``/sessions``: what probes and operators see."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from voiceagent.serve.health import LoopMonitor
from voiceagent.serve.registry import SessionRegistry

from .ops_helpers import open_tab, operated

TOKEN = "op-token-0123456789"


async def test_health_and_readiness_follow_the_registry() -> None:
    registry = SessionRegistry(1)
    async with operated(registry) as ops, aiohttp.ClientSession() as http:
        async with http.get(ops.url + "healthz") as resp:
            assert resp.status == 200
            body = await resp.json()  # a status word and the loop's lag: nothing else
            assert set(body) == {"status", "loop_lag_s"} and body["status"] == "ok"
        async with http.get(ops.url + "readyz") as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ready"}
        tab = await open_tab(ops, http)
        async with http.get(ops.url + "readyz") as resp:  # full
            assert resp.status == 503
            assert await resp.json() == {"status": "full"}
        await tab.close()
        assert await registry.wait_empty(10)
        async with http.get(ops.url + "readyz") as resp:
            assert resp.status == 200
        registry.start_drain()
        async with http.get(ops.url + "readyz") as resp:
            assert resp.status == 503
            assert (await resp.json())["status"] == "draining"
        async with http.get(ops.url + "healthz") as resp:  # draining is still alive
            assert resp.status == 200


async def test_sessions_snapshot_counts_by_channel_without_personal_data() -> None:
    async with operated(SessionRegistry(3)) as ops, aiohttp.ClientSession() as http:
        tabs = [await open_tab(ops, http) for _ in range(2)]
        async with http.get(ops.url + "sessions") as resp:
            snapshot = await resp.json()
        assert snapshot["live"] == 2 and snapshot["by_channel"] == {"browser": 2}
        assert snapshot["draining"] is False and snapshot["max_sessions"] == 3
        for entry in snapshot["conversations"]:
            assert set(entry) == {"id", "channel", "state", "age_s", "idle_s"}
            assert entry["state"] == "ready" and entry["age_s"] >= 0
        text = str(snapshot)
        for emulated in ops.emulator.sessions:  # not even the service's ids
            assert emulated.session_id not in text
        for tab in tabs:
            await tab.close()


async def test_the_operator_token_guards_sessions_and_metrics_but_not_the_probes() -> None:
    async with (
        operated(SessionRegistry(1), operator_token=TOKEN) as ops,
        aiohttp.ClientSession() as http,
    ):
        for path in ("sessions", "metrics"):
            async with http.get(ops.url + path) as resp:
                assert resp.status == 401
                assert TOKEN not in await resp.text()
            wrong = {"Authorization": "Bearer nope"}
            async with http.get(ops.url + path, headers=wrong) as resp:
                assert resp.status == 401
            right = {"Authorization": f"Bearer {TOKEN}"}
            async with http.get(ops.url + path, headers=right) as resp:
                assert resp.status == 200
        for path in ("healthz", "readyz"):
            async with http.get(ops.url + path) as resp:
                assert resp.status == 200


async def test_the_loop_monitor_sees_a_blocked_loop_and_measures_its_lag() -> None:
    monitor = LoopMonitor(interval_s=0.01, unresponsive_after_s=0.05)
    lags: asyncio.Queue[float] = asyncio.Queue()
    monitor.listeners.append(lags.put_nowait)
    monitor.start()
    try:
        await asyncio.wait_for(lags.get(), 5)
        assert monitor.responsive()
        time.sleep(0.2)  # noqa: ASYNC251 - the blocked loop is what is tested
        assert not monitor.responsive()  # no wake-up for too long
        lag = await asyncio.wait_for(lags.get(), 5)  # the loop runs again: so does the monitor
        assert lag >= 0.1
        assert not monitor.responsive()  # the wake-up ran that late: still blocked, as seen
        while await asyncio.wait_for(lags.get(), 5) >= 0.05:
            pass
        assert monitor.responsive()  # a wake-up on time again
    finally:
        await monitor.stop()
