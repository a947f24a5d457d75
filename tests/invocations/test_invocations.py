"""Invocations agents: the SSE handler, the manifest check, and a whole voiced turn offline."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from azure.core.credentials import AzureKeyCredential

from voiceagent import ConfigError, TurnLogged, VoiceAgentSession
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import Emulator
from voiceagent.emulator.invocations import read_events
from voiceagent.invocations import check_manifest, create_app

pytestmark = pytest.mark.usefixtures("clean_env")


async def weather(text: str) -> AsyncIterator[str | dict[str, Any]]:
    yield {"type": "agent.thinking", "about": text}
    for chunk in ("It is ", "sunny ", "in Zürich."):
        yield chunk


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/invocations"


async def test_reply_streams_as_sse_in_voice_lives_shape() -> None:
    runner, url = await serve(create_app(weather))
    try:
        payload = {"type": "input_audio.transcription", "input": "weather?"}
        events = [e async for e in read_events(url, payload)]
        async with aiohttp.ClientSession() as client:
            async with client.post(url, json=payload) as response:
                assert response.headers["Content-Type"].startswith("text/event-stream")
                raw = await response.text()
            async with client.post(url, json={"type": "other", "input": "x"}) as bad:
                assert bad.status == 400 and "input_audio.transcription" in await bad.text()
            async with client.post(url, data=b"not json") as bad:
                assert bad.status == 400
    finally:
        await runner.cleanup()
    assert events == [
        {"type": "agent.thinking", "about": "weather?"},
        {"type": "output_audio_transcription.delta", "delta": "It is "},
        {"type": "output_audio_transcription.delta", "delta": "sunny "},
        {"type": "output_audio_transcription.delta", "delta": "in Zürich."},
        {"type": "output_audio_transcription.done", "text": "It is sunny in Zürich."},
        {"type": "done"},
    ]
    assert raw.startswith('data: {"type":"agent.thinking"') and raw.endswith('{"type":"done"}\n\n')


async def test_a_failing_reply_is_reported_in_the_stream() -> None:
    async def broken(text: str) -> AsyncIterator[str]:
        yield "Partly "
        raise RuntimeError("model unavailable")

    runner, url = await serve(create_app(broken))
    try:
        payload = {"type": "input_audio.transcription", "input": "hi"}
        events = [e async for e in read_events(url, payload)]
    finally:
        await runner.cleanup()
    assert events[0] == {"type": "output_audio_transcription.delta", "delta": "Partly "}
    assert events[1] == {"type": "error", "error": {"message": "RuntimeError: model unavailable"}}
    assert events[-1] == {"type": "done"}


def test_manifest_must_declare_voice_live_compatible(tmp_path: Path) -> None:
    good = tmp_path / "agent.manifest.yaml"
    good.write_text('name: weather\nmetadata:\n  voiceLiveCompatible: "true"\n')
    assert check_manifest(tmp_path)["name"] == "weather"
    unquoted = tmp_path / "unquoted.yaml"
    unquoted.write_text("metadata:\n  voiceLiveCompatible: true\n")
    with pytest.raises(ConfigError, match="is True, not the string 'true'"):
        check_manifest(unquoted)
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: x\n")
    with pytest.raises(ConfigError, match='(?s)voiceLiveCompatible is missing.*"true"'):
        check_manifest(missing)
    with pytest.raises(ConfigError, match="cannot read"):
        check_manifest(tmp_path / "nope.yaml")


async def test_the_emulator_voices_an_invocations_agent_end_to_end() -> None:
    heard: list[str] = []

    async def reply(text: str) -> AsyncIterator[str | dict[str, Any]]:
        heard.append(text)
        async for item in weather(text):
            yield item

    runner, url = await serve(create_app(reply))
    try:
        async with Emulator(api_key="k", timing="realistic", invocations_url=url) as emu:
            session = VoiceAgentSession(
                emu.endpoint,
                model="gpt-realtime",
                credential=AzureKeyCredential("k"),
                audio=MemoryAudio(speed=4.0),
            )
            custom: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            session.once("response.invocation.delta", custom.set_result)
            spoken: asyncio.Future[TurnLogged] = asyncio.get_running_loop().create_future()
            session.on(
                "voiceagent.turn",
                lambda e: e.role == "assistant" and not spoken.done() and spoken.set_result(e),
            )
            async with session:
                server = await emu.wait_for_session()
                await session.send_text("what is the weather in Zürich")
                turn = await asyncio.wait_for(spoken, 15)
                delta = await asyncio.wait_for(custom, 5)
    finally:
        await runner.cleanup()
    assert heard == ["what is the weather in Zürich"]
    assert turn.text == "It is sunny in Zürich."
    assert dict(delta.delta) == {"type": "agent.thinking", "about": "what is the weather in Zürich"}
    audio_deltas = [e for e in server.sent if e["type"] == "response.audio.delta"]
    assert audio_deltas  # voiced, not only written
    sent = [e["type"] for e in server.sent]
    assert sent.index("response.created") < sent.index("response.invocation.delta")
    assert json.dumps(server.sent).count("agent.thinking") == 1


def test_the_emulator_command_line_takes_an_invocations_url() -> None:
    from voiceagent.emulator.cli import build_emulator, build_parser

    url = "http://127.0.0.1:8088/invocations"
    emulator = build_emulator(build_parser().parse_args(["--invocations-url", url]))
    assert emulator.settings.invocations_url == url
    assert build_emulator(build_parser().parse_args([])).settings.invocations_url is None
