"""The SDK contract the library leans on: typed server events from parsed frames.

``InboundEvent.typed()`` calls the SDK's ``ServerEvent._deserialize(data, [])``, the call the
SDK's own ``recv()`` makes for every frame. It is private: azure-ai-voicelive has no public way
to build a typed event from a frame already parsed (1.0.0 had ``ServerEvent.deserialize``; it is
gone in 1.2.0, 1.3.0 and 1.3.1, the releases on PyPI checked; the constructor of ``ServerEvent``
does not pick the subclass). The declared range is ``>=1.3.1,<2``. These tests pin what we
rely on, so an SDK release that changes it fails here, not in a user's handler: every server
event type maps to its own class, and the fields the library and its handlers read come out
with the right types and values. The supported range is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import requires, version
from typing import Any

import pytest
from azure.ai.voicelive.models import ServerEvent, ServerEventType
from azure.core.credentials import AzureKeyCredential
from packaging.requirements import Requirement

from voiceagent import VoiceAgentSession
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator, FunctionCall, Reply
from voiceagent.protocol.names import SERVER_EVENT_TYPES
from voiceagent.voicelive.wire import InboundEvent

pytestmark = pytest.mark.usefixtures("clean_env")


def typed(data: dict[str, Any]) -> Any:
    return InboundEvent(data["type"], data).typed()


def test_the_installed_sdk_is_in_the_declared_range() -> None:
    deps = [Requirement(r) for r in requires("voiceagent") or []]  # from pyproject.toml
    (sdk,) = [r for r in deps if r.name == "azure-ai-voicelive"]
    assert str(sdk.specifier) and sdk.specifier.contains(version("azure-ai-voicelive"))


@pytest.mark.parametrize("event_type", sorted(SERVER_EVENT_TYPES))
def test_every_server_event_type_has_its_own_class(event_type: str) -> None:
    event = typed({"type": event_type, "event_id": "evt_1"})
    assert type(event) is not ServerEvent and isinstance(event, ServerEvent)
    assert event.type == event_type and event.event_id == "evt_1"


def test_the_library_knows_every_type_the_sdk_models() -> None:
    assert {t.value for t in ServerEventType} == set(SERVER_EVENT_TYPES)


# Each frame as the service sends it, the SDK class it must become, and the fields read from
# it (by the receive path, the tools, the metrics, the console, or in the docs' examples).
FRAMES: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
    (
        {
            "type": "response.audio.delta",
            "event_id": "e",
            "response_id": "resp_1",
            "item_id": "item_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "AAAA",
        },
        "ServerEventResponseAudioDelta",
        {"item_id": "item_1", "response_id": "resp_1", "delta": b"\x00\x00\x00"},
    ),
    (
        {
            "type": "response.audio_transcript.delta",
            "event_id": "e",
            "response_id": "resp_1",
            "item_id": "item_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
        },
        "ServerEventResponseAudioTranscriptDelta",
        {"item_id": "item_1", "delta": "Hel"},
    ),
    (
        {
            "type": "response.function_call_arguments.done",
            "event_id": "e",
            "response_id": "resp_1",
            "item_id": "item_2",
            "output_index": 1,
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        "ServerEventResponseFunctionCallArgumentsDone",
        {
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
            "response_id": "resp_1",
        },
    ),
    (
        {
            "type": "input_audio_buffer.speech_started",
            "event_id": "e",
            "audio_start_ms": 120,
            "item_id": "item_u",
        },
        "ServerEventInputAudioBufferSpeechStarted",
        {"audio_start_ms": 120, "item_id": "item_u"},
    ),
    (
        {
            "type": "input_audio_buffer.speech_stopped",
            "event_id": "e",
            "audio_end_ms": 900,
            "item_id": "item_u",
        },
        "ServerEventInputAudioBufferSpeechStopped",
        {"audio_end_ms": 900, "item_id": "item_u"},
    ),
    (
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "event_id": "e",
            "item_id": "item_u",
            "content_index": 0,
            "transcript": "hello",
        },
        "ServerEventConversationItemInputAudioTranscriptionCompleted",
        {"item_id": "item_u", "transcript": "hello"},
    ),
    (
        {
            "type": "error",
            "event_id": "e",
            "error": {
                "type": "invalid_request_error",
                "code": "conversation_already_has_active_response",
                "message": "busy",
                "event_id": "evt_va1",
            },
        },
        "ServerEventError",
        {
            "error.code": "conversation_already_has_active_response",
            "error.event_id": "evt_va1",
            "error.message": "busy",
        },
    ),
]
_RESPONSE = {
    "id": "resp_1",
    "object": "realtime.response",
    "status": "completed",
    "conversation_id": "conv_1",
    "output": [
        {
            "id": "item_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "audio", "transcript": "Let me check."}],
        },
        {
            "id": "item_2",
            "type": "function_call",
            "status": "completed",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": "{}",
        },
    ],
}
FRAMES += [
    (
        {"type": "response.created", "event_id": "e",
         "response": {**_RESPONSE, "status": "in_progress", "output": []}},
        "ServerEventResponseCreated",
        {"response.id": "resp_1", "response.status": "in_progress"},
    ),
    (
        {"type": "response.done", "event_id": "e", "response": _RESPONSE},
        "ServerEventResponseDone",
        {"response.id": "resp_1", "response.status": "completed",
         "response.conversation_id": "conv_1", "response.output.0.type": "message",
         "response.output.1.type": "function_call", "response.output.1.call_id": "call_1",
         "response.output.1.name": "get_weather"},
    ),
    (
        {"type": "conversation.item.created", "event_id": "e", "previous_item_id": None,
         "item": {"id": "item_va1", "type": "message", "role": "user", "status": "completed",
                  "content": [{"type": "input_text", "text": "hi"}]}},
        "ServerEventConversationItemCreated",
        {"item.id": "item_va1", "item.role": "user", "item.content.0.text": "hi"},
    ),
    (
        {"type": "session.updated", "event_id": "e",
         "session": {"id": "sess_1", "voice": {"name": "en-US-AvaNeural", "type": "azure-standard"},
                     "turn_detection": {"type": "server_vad", "interrupt_response": True}}},
        "ServerEventSessionUpdated",
        {"session.id": "sess_1", "session.voice.name": "en-US-AvaNeural",
         "session.turn_detection.type": "server_vad"},
    ),
]  # fmt: skip


def read(obj: Any, path: str) -> Any:
    """``a.b.0.c``: attributes, and list indexes."""
    for part in path.split("."):
        if part.isdigit():
            obj = obj[int(part)]
        else:  # attributes on the SDK's models (as handlers read them); a union left a dict
            obj = obj[part] if type(obj) is dict else getattr(obj, part)
    return obj


@pytest.mark.parametrize(("frame", "cls", "fields"), FRAMES, ids=[f[1] for f in FRAMES])
def test_the_fields_the_library_reads(
    frame: dict[str, Any], cls: str, fields: dict[str, Any]
) -> None:
    event = typed(frame)
    assert type(event).__name__ == cls
    for path, expected in fields.items():
        assert read(event, path) == expected, path


async def test_every_frame_of_a_real_conversation_is_typed() -> None:
    """What the emulator sends in a conversation with a tool call: each frame, typed."""
    script = AgentScript(
        rules=[("weather", Reply("Let me check.", FunctionCall("get_weather", {"city": "X"})))]
    )
    async with Emulator(api_key="k", script=script) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential("k"),
            audio=MemoryAudio(speed=4.0),
        )

        @session.tool
        def get_weather(city: str) -> str:
            """The weather."""
            return "sunny"

        async with session:
            server = await emu.wait_for_session()
            await session.send_text("what is the weather")
            await asyncio.wait_for(session.wait_for_reply(2), 20)
    kinds = set()
    for frame in server.sent:
        event = typed(frame)
        assert type(event) is not ServerEvent and event.type == frame["type"], frame["type"]
        kinds.add(frame["type"])
    assert {"response.done", "response.function_call_arguments.done", "session.updated"} <= kinds
