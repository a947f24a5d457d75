"""``/healthz`` over HTTP says 503 once the server's event loop has been blocked, 200 after.

The server runs in a thread on its own loop; a test-only route blocks that loop with a
synchronous sleep, and a probe sent meanwhile (on a connection opened before) is answered when
the loop is free again. Both apps: ``create_app`` on aiohttp, ``ASGIVoiceApp`` on uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from voiceagent.serve import ASGIVoiceApp, create_app
from voiceagent.serve.health import UNRESPONSIVE_AFTER_S

uvicorn = pytest.importorskip("uvicorn", reason="uvicorn not installed: pip install -e '.[dev]'")

STALL_S = UNRESPONSIVE_AFTER_S + 0.7


class NoSessions:
    """The probes never build a session."""

    def create(self, **_kwargs: Any) -> Any:
        raise AssertionError("no conversation is opened in this test")


def _blocking_stall(stalling: threading.Event) -> None:
    stalling.set()
    time.sleep(STALL_S)  # the server's loop does nothing else meanwhile


@contextlib.contextmanager
def aiohttp_in_thread(stalling: threading.Event) -> Iterator[int]:
    app = create_app(NoSessions())

    async def stall(_request: web.Request) -> web.Response:
        _blocking_stall(stalling)
        return web.Response(text="stalled\n")

    app.router.add_get("/stall", stall)
    ready, port = threading.Event(), [0]
    stop: list[Callable[[], None]] = []

    async def main() -> None:
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port[0] = runner.addresses[0][1]
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        stop.append(lambda: loop.call_soon_threadsafe(done.set))
        ready.set()
        await done.wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(20)
    try:
        yield port[0]
    finally:
        stop[0]()
        thread.join(20)


@contextlib.contextmanager
def uvicorn_in_thread(stalling: threading.Event) -> Iterator[int]:
    voice = ASGIVoiceApp(NoSessions())

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/stall":
            _blocking_stall(stalling)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"stalled\n"})
            return
        await voice(scope, receive, send)

    listening = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=60)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=asyncio.run, args=(server.serve(sockets=[listening]),), daemon=True
    )
    thread.start()
    try:
        yield listening.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(20)


class Probe:
    """One kept-alive HTTP/1.1 connection, opened before the loop is blocked."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def send(self, path: str) -> None:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())

    async def answer(self) -> tuple[int, dict[str, Any]]:
        async with asyncio.timeout(30):
            status = int((await self.reader.readline()).split()[1])
            length = 0
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            return status, json.loads(await self.reader.readexactly(length))

    async def get(self, path: str) -> tuple[int, dict[str, Any]]:
        self.send(path)
        return await self.answer()


@contextlib.asynccontextmanager
async def probe(port: int) -> AsyncIterator[Probe]:
    async with asyncio.timeout(20):
        while True:  # the thread's server may still be starting
            with contextlib.suppress(ConnectionRefusedError):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            await asyncio.sleep(0.05)
    try:
        yield Probe(reader, writer)
    finally:
        writer.close()


@pytest.mark.parametrize("serve", [aiohttp_in_thread, uvicorn_in_thread], ids=["aiohttp", "asgi"])
async def test_healthz_is_503_while_the_loop_is_blocked_and_200_again_after(serve: Any) -> None:
    stalling = threading.Event()
    with serve(stalling) as port:
        async with probe(port) as health, aiohttp.ClientSession() as http:
            assert (await health.get("/healthz"))[0] == 200
            stalled = asyncio.ensure_future(http.get(f"http://127.0.0.1:{port}/stall"))
            assert await asyncio.to_thread(stalling.wait, 20)
            health.send("/healthz")  # waits in the socket until the loop is free
            status, body = await health.answer()
            assert (status, body) == (503, {"status": "event loop unresponsive"})
            (await stalled).close()
            for _ in range(200):  # the monitor's next wake-up on time: healthy again
                status, body = await health.get("/healthz")
                if status == 200:
                    break
                await asyncio.sleep(0.05)
            assert status == 200 and set(body) == {"status", "loop_lag_s"}
