"""Tracing: the library's spans (and the SDK's) captured with OpenTelemetry's in-memory exporter."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from session_helpers import user_speech
from voiceagent import InputTranscription, SessionOptions, VoiceAgentSession
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator, FunctionCall, Reply
from voiceagent.observe.tracing import trace_session

pytestmark = pytest.mark.usefixtures("clean_env")

KEY = "tracing-SECRET-key-1234567890"
STORY = "Let me tell you a rather long story about the weather in Paris and in London. " * 2


def provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider, exporter


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


async def run_conversation(record_text: bool) -> tuple[tuple[ReadableSpan, ...], str]:
    script = AgentScript(
        rules=[("weather", Reply(function_call=FunctionCall("get_weather", {"city": "Paris"})))],
        after_function=STORY,
    )
    tracer_provider, exporter = provider()
    async with Emulator(api_key=KEY, script=script, speed=2.0) as emu:
        emu.script.user_says("what is the weather in Paris", "stop")
        audio = MemoryAudio(speed=2.0)
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            audio=audio,
            options=SessionOptions(input_transcription=InputTranscription(model="whisper-1")),
        )

        @session.tool
        def get_weather(city: str) -> str:
            """The weather."""
            raise LookupError("no weather today")

        trace_session(session, tracer_provider=tracer_provider, record_text=record_text)
        barge: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        session.once("voiceagent.barge_in", barge.set_result)
        reconnected: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        session.once("voiceagent.reconnected", reconnected.set_result)
        async with session:
            server = await emu.wait_for_session()
            audio.feed(user_speech("what is the weather in Paris"))
            await audio.wait_heard(800, timeout=20)
            audio.feed(user_speech("stop"))
            await asyncio.wait_for(barge, 10)
            await server.drop(1011)
            await asyncio.wait_for(reconnected, 10)
    spans = exporter.get_finished_spans()
    dump = json.dumps([dict(s.attributes or {}) for s in spans], default=str)
    return spans, dump


async def test_spans_of_a_session_with_a_tool_a_barge_in_and_a_reconnect() -> None:
    spans, dump = await run_conversation(record_text=False)
    (session_span,) = by_name(spans, "voiceagent.session")
    attrs = dict(session_span.attributes or {})
    assert attrs["voiceagent.mode"] == "model"
    assert str(attrs["gen_ai.voice.session_id"]).startswith("sess_")
    assert attrs["voiceagent.session.barge_ins"] == 1
    assert attrs["voiceagent.session.reconnects"] == 1
    assert attrs["voiceagent.session.tool_calls"] == 1
    (tool,) = by_name(spans, "voiceagent.tool_call")
    tool_attrs = dict(tool.attributes or {})
    assert tool_attrs["gen_ai.tool.name"] == "get_weather"
    assert tool_attrs["voiceagent.tool.outcome"] == "error"
    assert tool.status.status_code.name == "ERROR"
    turns = by_name(spans, "voiceagent.turn")
    session_id = session_span.context.span_id
    assert turns and all(t.parent and t.parent.span_id == session_id for t in turns)
    assert tool.parent is not None and tool.parent.span_id in {t.context.span_id for t in turns}
    cut = [t for t in turns if (t.attributes or {}).get("voiceagent.turn.interrupted")]
    assert cut and (cut[0].attributes or {})["voiceagent.turn.first_audio_received_ms"] > 0
    (barge,) = by_name(spans, "voiceagent.barge_in")
    assert (barge.attributes or {})["voiceagent.barge_in.played_ms"] > 0
    (reconnect,) = by_name(spans, "voiceagent.reconnect")
    assert (reconnect.attributes or {})["voiceagent.reconnect.close_code"] == 1011
    # no secret, no transcript, no tool error text unless asked
    assert KEY not in dump
    for text in ("the weather in Paris", "long story", "no weather today"):
        assert text not in dump


async def test_transcripts_only_when_asked() -> None:
    spans, dump = await run_conversation(record_text=True)
    assert "what is the weather in Paris" in dump
    assert "no weather today" in dump
    assert KEY not in dump
    (barge,) = by_name(spans, "voiceagent.barge_in")
    assert STORY.startswith(str((barge.attributes or {})["voiceagent.barge_in.heard_text"]))


async def test_the_sdks_own_spans_when_switched_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry import trace

    from voiceagent.voicelive.telemetry import instrument_sdk, uninstrument_sdk

    tracer_provider, exporter = provider()
    trace.set_tracer_provider(tracer_provider)  # the SDK writes to the global provider
    if trace.get_tracer_provider() is not tracer_provider:
        pytest.skip("another test set the global tracer provider first")
    monkeypatch.delenv("AZURE_EXPERIMENTAL_ENABLE_GENAI_TRACING", raising=False)
    assert instrument_sdk() is False  # the SDK's own switch is off: nothing is patched
    monkeypatch.setenv("AZURE_EXPERIMENTAL_ENABLE_GENAI_TRACING", "true")
    assert instrument_sdk() is True
    try:
        async with Emulator(api_key=KEY) as emu:
            session = VoiceAgentSession(
                emu.endpoint,
                model="gpt-realtime",
                credential=AzureKeyCredential(KEY),
                audio=MemoryAudio(speed=4.0),
            )
            async with session:
                await session.send_text("hello")
    finally:
        uninstrument_sdk()
    names = [s.name for s in exporter.get_finished_spans()]
    assert any(n.startswith("connect") for n in names), names
    assert any(n.startswith("send") for n in names), names
    dump = json.dumps([dict(s.attributes or {}) for s in exporter.get_finished_spans()])
    assert KEY not in dump
