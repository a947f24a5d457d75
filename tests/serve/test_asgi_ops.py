"""ASGIVoiceApp's operator routes and drain, on uvicorn over a real socket, against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from session_helpers import user_speech
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import ASGIVoiceApp, SessionRegistry

from .helpers import LONG_REPLY, emulator_factory, until

uvicorn = pytest.importorskip("uvicorn", reason="uvicorn not installed: pip install -e '.[dev]'")
routing = pytest.importorskip("starlette.routing", reason="starlette not installed")
applications = pytest.importorskip("starlette.applications")

TOKEN = "asgi-operator-token-0123456789"
CHUNK = 4800


@contextlib.asynccontextmanager
async def on_uvicorn(app: Any, *, lifespan: str = "off") -> AsyncIterator[tuple[str, Any]]:
    """``app`` served by uvicorn on 127.0.0.1; yields ``host:port`` and the server."""
    config = uvicorn.Config(app, host="127.0.0.1", log_level="warning", lifespan=lifespan)
    server = uvicorn.Server(config)
    listening = socket.create_server(("127.0.0.1", 0))
    serving = asyncio.ensure_future(server.serve(sockets=[listening]))
    try:
        yield f"127.0.0.1:{listening.getsockname()[1]}", server
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 20)


async def open_tab(http: aiohttp.ClientSession, base: str) -> aiohttp.ClientWebSocketResponse:
    host = base.split("/")[2]
    ws = await http.ws_connect(base + "ws", headers={"Origin": f"http://{host}"})
    await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
    await until(ws, lambda m: m == {"type": "state", "state": "listening"})
    return ws


async def speak(emu: Emulator, ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
    emu.script.user_says(text)
    pcm = user_speech(text)
    for i in range(0, len(pcm), CHUNK):
        await ws.send_bytes(pcm[i : i + CHUNK])


async def status_of(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, str]:
    async with http.get(url, **kwargs) as resp:
        return resp.status, await resp.text()


async def test_mounted_the_probes_answer_anyone_and_the_operator_routes_need_the_token() -> None:
    async with Emulator(realtime=False, script=AgentScript(default=LONG_REPLY)) as emu:
        factory = emulator_factory(emu)
        voice = ASGIVoiceApp(factory, registry=SessionRegistry(1), operator_token=TOKEN)
        assert TOKEN not in repr(voice)
        app = applications.Starlette(routes=[routing.Mount("/voice", app=voice)])
        try:
            async with on_uvicorn(app) as (host, _), aiohttp.ClientSession() as http:
                base = f"http://{host}/voice/"
                async with http.get(base + "healthz") as resp:
                    assert resp.status == 200
                    assert set(await resp.json()) == {"status", "loop_lag_s"}
                assert await status_of(http, base + "readyz") == (200, '{"status": "ready"}')
                right = {"Authorization": f"Bearer {TOKEN}"}
                for path in ("sessions", "metrics"):
                    for headers in ({}, {"Authorization": "Bearer nope"}):
                        status, text = await status_of(http, base + path, headers=headers)
                        assert status == 401 and TOKEN not in text
                        assert "Authorization: Bearer" in text  # says how to get in
                    assert (await status_of(http, base + path, headers=right))[0] == 200
                tab = await open_tab(http, base)
                status, text = await status_of(http, base + "readyz")
                assert (status, json.loads(text)) == (503, {"status": "full"})
                async with http.get(base + "sessions", headers=right) as resp:
                    snapshot = await resp.json()
                assert snapshot["live"] == 1 and snapshot["by_channel"] == {"browser": 1}
                assert emu.sessions[0].session_id not in json.dumps(snapshot)
                _, text = await status_of(http, base + "metrics", headers=right)
                seen = {
                    (s.name, tuple(sorted(s.labels.items()))): s.value
                    for family in text_string_to_metric_families(text)
                    for s in family.samples
                }
                browser = (("channel", "browser"),)
                assert seen[("voiceagent_conversations_total", browser)] == 1
                assert seen[("voiceagent_sessions_live", browser)] == 1
                assert seen[("voiceagent_event_loop_lag_seconds_count", ())] >= 1
                await tab.close()
        finally:
            await voice.aclose()
            await factory.aclose()


async def test_drain_refuses_new_conversations_and_lets_the_live_one_finish() -> None:
    async with Emulator(realtime=False, script=AgentScript(default=LONG_REPLY)) as emu:
        factory = emulator_factory(emu)
        voice = ASGIVoiceApp(factory)
        try:
            async with on_uvicorn(voice) as (host, _), aiohttp.ClientSession() as http:
                base = f"http://{host}/"
                live = await open_tab(http, base)
                draining = asyncio.ensure_future(voice.drain(60))
                await asyncio.sleep(0)  # the drain's first step: readiness off at once
                status, text = await status_of(http, base + "readyz")
                assert (status, json.loads(text)) == (503, {"status": "draining"})
                assert (await status_of(http, base + "healthz"))[0] == 200  # alive meanwhile
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(base + "ws", headers={"Origin": f"http://{host}"})
                assert refused.value.status == 503 and len(emu.sessions) == 1
                await speak(emu, live, "hello")  # the live conversation goes on
                await until(live, lambda m: m["type"] == "caption" and m["role"] == "assistant")
                assert not draining.done()
                await live.close()  # it ends by itself: the drain is over
                assert await asyncio.wait_for(draining, 20) is True
                assert not voice.registry.live
        finally:
            await voice.aclose()
            await factory.aclose()


async def test_at_the_drain_timeout_the_live_one_is_closed_telling_the_service_what_was_heard() -> (
    None
):
    async with Emulator(realtime=False, script=AgentScript(default=LONG_REPLY)) as emu:
        factory = emulator_factory(emu)
        voice = ASGIVoiceApp(factory, drain_timeout_s=0.5)
        try:
            async with on_uvicorn(voice) as (host, _), aiohttp.ClientSession() as http:
                live = await open_tab(http, f"http://{host}/")
                await speak(emu, live, "hello")
                item = (await until(live, lambda m: m["type"] == "audio"))["item_id"]
                played = {"type": "played", "frames": {item: 12000}, "received": 12000}
                await live.send_str(json.dumps(played))  # the page played 500 ms of it
                await until(live, lambda m: m["type"] == "caption" and m["role"] == "assistant")
                assert await voice.drain() is False  # drain_timeout_s: closed, not finished
                closed = await until(live, lambda m: m["type"] == "closed")
                assert closed["reason"] == "the server is shutting down"
                truncate = await emu.sessions[0].wait_for_client_event(
                    "conversation.item.truncate", timeout=5
                )
                assert (truncate["item_id"], truncate["audio_end_ms"]) == (item, 500)
                assert not voice.registry.live
        finally:
            await voice.aclose()
            await factory.aclose()


async def test_lifespan_shutdown_drains_what_uvicorn_does_not_close() -> None:
    """uvicorn closes its WebSockets (1012) before ``lifespan.shutdown``; the drain then ends
    the conversations it cannot see, here a phone call admitted through the same registry."""
    async with Emulator(realtime=False, script=AgentScript(default=LONG_REPLY)) as emu:
        factory = emulator_factory(emu)
        registry = SessionRegistry(5)
        voice = ASGIVoiceApp(factory, registry=registry, drain_timeout_s=0.5)
        call = registry.admit("acs")
        assert call is not None
        phone = factory.create(audio=MemoryAudio())
        call.attach(phone)

        async def hold_call() -> None:
            async with phone:
                await phone.wait_closed()
            registry.release(call)

        holding = asyncio.ensure_future(hold_call())
        try:
            async with (
                on_uvicorn(voice, lifespan="on") as (host, server),
                aiohttp.ClientSession() as http,
            ):
                tab = await open_tab(http, f"http://{host}/")
                assert registry.count_by_channel() == {"acs": 1, "browser": 1}
                server.should_exit = True  # what uvicorn does on SIGTERM
                async with asyncio.timeout(20):
                    while (msg := await tab.receive()).type is not aiohttp.WSMsgType.CLOSE:
                        pass
                assert msg.data == 1012  # uvicorn's own "service restart", not a drain
            assert registry.draining and not registry.live  # lifespan.shutdown drained
            assert call.end_reason == "the server is shutting down"
            await asyncio.wait_for(holding, 5)
            assert phone.state.value == "closed"
        finally:
            holding.cancel()
            await registry.aclose()
            await factory.aclose()


def test_a_negative_drain_timeout_is_refused_saying_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="drain_timeout_s must be 0 or more seconds, got -1"):
        ASGIVoiceApp(emulator_factory, drain_timeout_s=-1)  # type: ignore[arg-type]
