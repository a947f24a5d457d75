"""``voiceagent serve`` as a user runs it: a process, the page and a conversation on its socket."""

from __future__ import annotations

import asyncio
import json
import signal
from contextlib import AbstractAsyncContextManager

import aiohttp

from .helpers import serve_process

SECRET = "sk-serve-SECRET-0123456789abcdef"


def serve(*args: str) -> AbstractAsyncContextManager[tuple[str, asyncio.subprocess.Process]]:
    return serve_process(*args, env={"AZURE_VOICELIVE_API_KEY": SECRET})


async def test_serve_on_the_emulator_holds_a_conversation_and_stops_on_sigterm() -> None:
    async with serve() as (url, proc), aiohttp.ClientSession() as http:
        page = await (await http.get(url)).text()
        assert "Start" in page and SECRET not in page
        origin = url.rstrip("/")
        ws = await http.ws_connect(url + "ws", headers={"Origin": origin})
        seen = []
        async with asyncio.timeout(20):
            while not seen or seen[-1] != {"type": "state", "state": "listening"}:
                msg = await ws.receive()
                assert msg.type is aiohttp.WSMsgType.TEXT, msg
                assert SECRET not in msg.data
                seen.append(json.loads(msg.data))
        await ws.close()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        assert proc.stderr is not None
        assert b"WARNING" not in await proc.stderr.read()  # loopback: no quota warning


async def test_binding_beyond_loopback_warns_about_the_quota() -> None:
    async with serve("--host", "0.0.0.0") as (_url, proc):
        assert proc.stderr is not None
        warning = (await asyncio.wait_for(proc.stderr.readline(), 10)).decode()
        assert "WARNING" in warning and "quota" in warning
