"""The documented uvicorn recipe (docs/deploy.md): SIGTERM drains ASGIVoiceApp before uvicorn
stops, so a live conversation finishes; a second signal closes it now. A real process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from session_helpers import user_speech

from .helpers import until

pytest.importorskip("uvicorn", reason="uvicorn not installed: pip install -e '.[dev]'")

CHUNK = 4800
ROOT = Path(__file__).resolve().parent.parent.parent

# The recipe as docs/deploy.md shows it, around an emulator instead of Azure.
SCRIPT = """
import asyncio, contextlib, signal, socket
import uvicorn
from voiceagent import AgentConfig, InputTranscription, SessionFactory, SessionOptions
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import ASGIVoiceApp
from voiceagent.testing import EmulatorCredential


class DrainFirst(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # SIGTERM and SIGINT are handled below, not by uvicorn
        yield


async def serve(voice, config):
    server = DrainFirst(config)
    stopping = set()

    async def drain_then_stop():
        await voice.drain()  # readiness off, new ones refused; live ones finish (or time out)
        server.should_exit = True

    def on_signal():
        if voice.registry.draining:  # a second signal: uvicorn closes the sockets now
            server.should_exit = True
        else:
            task = asyncio.ensure_future(drain_then_stop())
            stopping.add(task)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    await server.serve(sockets=config.sockets)


async def main():
    script = AgentScript(default="Sure, I can help with that request today. " * 6)
    async with Emulator(script=script, always_transcribe=True) as emu:
        factory = SessionFactory(
            emu.endpoint, AgentConfig(agent_name="concierge", project_name="emulator"),
            credential=EmulatorCredential(),
            options=SessionOptions(input_transcription=InputTranscription(model="azure-speech")),
        )
        voice = ASGIVoiceApp(factory, drain_timeout_s=60)
        listening = socket.create_server(("127.0.0.1", 0))
        config = uvicorn.Config(voice, log_level="warning", lifespan="on")
        config.sockets = [listening]
        print(f"open http://127.0.0.1:{listening.getsockname()[1]}/", flush=True)
        await serve(voice, config)
        await factory.aclose()


asyncio.run(main())
"""


@contextlib.asynccontextmanager
async def recipe(tmp_path: Path) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    path = tmp_path / "recipe.py"
    path.write_text(SCRIPT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(path), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        found = re.search(r"open (http://\S+/)", line)
        assert found, line + (await proc.stderr.read()).decode() if proc.stderr else line
        yield found.group(1), proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def tab(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
    await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
    await until(ws, lambda m: m == {"type": "state", "state": "listening"})
    return ws


async def draining(http: aiohttp.ClientSession, url: str) -> None:
    """Ask /readyz (another process: nothing to await) until it says draining, for up to 10 s."""
    for _ in range(1000):
        async with http.get(url + "readyz") as resp:
            if resp.status == 503 and (await resp.json()) == {"status": "draining"}:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("/readyz not draining 10 s after SIGTERM")


async def test_sigterm_drains_the_asgi_app_and_the_live_conversation_finishes(
    tmp_path: Path,
) -> None:
    async with recipe(tmp_path) as (url, proc), aiohttp.ClientSession() as http:
        live = await tab(http, url)
        proc.send_signal(signal.SIGTERM)
        await draining(http, url)  # uvicorn still serves while the app drains
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
        assert refused.value.status == 503
        pcm = user_speech("hello")
        for i in range(0, len(pcm), CHUNK):
            await live.send_bytes(pcm[i : i + CHUNK])
        await until(live, lambda m: m["type"] == "caption" and m["role"] == "assistant")
        assert proc.returncode is None
        await live.close()  # it ends: the drain is over, uvicorn stops
        assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_a_second_signal_closes_the_live_conversation_now(tmp_path: Path) -> None:
    async with recipe(tmp_path) as (url, proc), aiohttp.ClientSession() as http:
        live = await tab(http, url)
        proc.send_signal(signal.SIGTERM)
        await draining(http, url)
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            while (msg := await live.receive()).type is not aiohttp.WSMsgType.CLOSE:
                pass
        assert msg.data == 1012  # uvicorn's shutdown closes the socket at once
        assert await asyncio.wait_for(proc.wait(), 30) == 0
