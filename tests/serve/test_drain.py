"""``voiceagent serve`` drains on SIGTERM: readiness off, new ones refused, live ones go on."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from contextlib import AbstractAsyncContextManager

import aiohttp
import pytest

from session_helpers import user_speech

from .helpers import serve_process, until

CHUNK = 4800


def serving(*args: str) -> AbstractAsyncContextManager[tuple[str, asyncio.subprocess.Process]]:
    return serve_process(*args, env={"AZURE_VOICELIVE_API_KEY": "sk-drain-test"}, stop="kill")


async def tab(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
    await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
    await until(ws, lambda m: m == {"type": "state", "state": "listening"})
    return ws


async def hang_up(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read to the server's close frame (aiohttp answers it), as a page's socket does."""
    async with asyncio.timeout(10):
        while not ws.closed:
            await ws.receive()


async def readiness(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url + "readyz") as resp:
        return resp.status


async def not_ready(http: aiohttp.ClientSession, url: str) -> None:
    """Ask /readyz (another process: nothing to await) until it says 503, for up to 10 s."""
    for _ in range(1000):
        if await readiness(http, url) == 503:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("/readyz still 200 10 s after SIGTERM")


async def test_sigterm_drains_a_live_conversation_to_its_end_and_exits_0() -> None:
    async with serving() as (url, proc), aiohttp.ClientSession() as http:
        assert await readiness(http, url) == 200
        live = await tab(http, url)
        proc.send_signal(signal.SIGTERM)
        await not_ready(http, url)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
        assert refused.value.status == 503
        pcm = user_speech("hello")  # the live conversation goes on while draining
        for i in range(0, len(pcm), CHUNK):
            await live.send_bytes(pcm[i : i + CHUNK])
        await until(live, lambda m: m["type"] == "caption" and m["role"] == "assistant")
        assert proc.returncode is None
        await live.close()  # it ends: the server exits
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        assert proc.stderr is not None
        assert b"draining: 1 conversation(s) live" in await proc.stderr.read()


async def test_the_drain_timeout_closes_what_is_left_and_exits_0() -> None:
    async with serving("--drain-timeout", "0.5") as (url, proc), aiohttp.ClientSession() as http:
        live = await tab(http, url)
        proc.send_signal(signal.SIGTERM)
        closed = await until(live, lambda m: m["type"] == "closed")
        assert closed["reason"]
        await hang_up(live)
        assert await asyncio.wait_for(proc.wait(), 20) == 0


async def test_a_second_signal_closes_everything_at_once() -> None:
    async with serving() as (url, proc), aiohttp.ClientSession() as http:
        live = await tab(http, url)
        proc.send_signal(signal.SIGTERM)
        await not_ready(http, url)
        proc.send_signal(signal.SIGINT)
        await until(live, lambda m: m["type"] == "closed")
        await hang_up(live)
        assert await asyncio.wait_for(proc.wait(), 20) == 0


async def test_the_limit_comes_from_the_environment() -> None:
    os.environ["VOICEAGENT_MAX_SESSIONS"] = "1"
    try:
        async with serving() as (url, _proc), aiohttp.ClientSession() as http:
            first = await tab(http, url)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
            assert refused.value.status == 503
            async with http.get(url + "sessions") as resp:  # loopback: no token needed
                assert (await resp.json())["max_sessions"] == 1
            await first.close()
    finally:
        del os.environ["VOICEAGENT_MAX_SESSIONS"]


async def test_bad_operator_settings_are_refused_with_what_to_fix() -> None:
    env = {**os.environ, "AZURE_VOICELIVE_API_KEY": "sk-x", "VOICEAGENT_MAX_SESSIONS": "many"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--emulator",
        stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"VOICEAGENT_MAX_SESSIONS='many' is not a whole number" in err
