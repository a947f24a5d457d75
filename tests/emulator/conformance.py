"""The conformance scenario: drive every event type the emulator emits, check it with the SDK.

``drive`` runs the scenario over a raw WebSocket (the frames are kept as sent);
``missing_required`` walks an event as the Python SDK parsed it and lists every field its
generated models mark required (not ``Optional``) that is absent or null.
"""

from __future__ import annotations

import base64
import json
import typing
from typing import Any

import aiohttp
from azure.ai.voicelive import _unions, models
from azure.ai.voicelive.models import ServerEvent, _models
from azure.ai.voicelive.models._models import _Model  # the generated models' base

from voiceagent.emulator import AgentScript, FunctionCall, Reply

from .helpers import silence, speech_pcm

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}

# What the scenario must make the emulator send (a type dropped by a change fails the test).
EXPECTED_TYPES = {
    "session.created",
    "session.updated",
    "conversation.item.created",
    "conversation.item.retrieved",
    "conversation.item.truncated",
    "conversation.item.deleted",
    "conversation.item.input_audio_transcription.completed",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "input_audio_buffer.cleared",
    "output_audio_buffer.cleared",
    "response.created",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.audio.delta",
    "response.audio.done",
    "response.audio_transcript.delta",
    "response.audio_transcript.done",
    "response.audio_timestamp.delta",
    "response.audio_timestamp.done",
    "response.animation_viseme.delta",
    "response.animation_viseme.done",
    "response.text.delta",
    "response.text.done",
    "response.done",
    "error",
}
MODEL_ONLY_TYPES = {
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
}


def scenario_script(mode: str) -> AgentScript:
    """The emulator's script: in model mode "weather" makes a function call."""
    script = AgentScript(default="Hello from the emulator.", after_function="It is sunny.")
    if mode == "model":
        call = FunctionCall("get_weather", {"city": "Oslo"})
        script.add_rule("weather", Reply("Checking.", call))
    script.add_rule("story", LONG_STORY)
    script.user_says("hello there")
    return script


# Long enough to be cancelled while it streams, even paced at SPEED times real time.
LONG_STORY = " ".join(["Once upon a time there was a very long story about the sea."] * 6)
SPEED = 10.0
"""The conformance emulator's pacing (``realtime=True``): fast, yet a story can be cancelled."""


def turn_audio() -> bytes:
    """A spoken turn: silence, the emulator's own speech, silence (PCM16 24 kHz)."""
    return silence(200) + speech_pcm() + silence(900)


async def drive(ws: aiohttp.ClientWebSocketResponse, mode: str) -> list[dict[str, Any]]:
    """Run the scenario on an open connection; return every frame received, parsed."""
    events: list[dict[str, Any]] = []

    async def until(*types: str) -> dict[str, Any]:
        while True:
            message = await ws.receive(timeout=10)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            event = dict(json.loads(message.data))
            events.append(event)
            if event["type"] in types:
                return event

    async def send(event: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(event))

    await until("session.created")
    session: dict[str, Any] = {
        "input_audio_transcription": {"model": "whisper-1"},
        "output_audio_timestamp_types": ["word"],
        "animation": {"outputs": ["viseme_id"]},
    }
    if mode == "model":
        session["tools"] = [WEATHER_TOOL]
    await send({"type": "session.update", "session": session})
    await until("session.updated")
    text = {"type": "input_text", "text": "what's the weather"}
    item = {"type": "message", "role": "user", "content": [text]}
    await send({"type": "conversation.item.create", "item": item})
    user = (await until("conversation.item.created"))["item"]
    await send({"type": "response.create"})
    done = await until("response.done")
    calls = [o for o in done["response"]["output"] if o["type"] == "function_call"]
    if calls:
        output = {"type": "function_call_output", "call_id": calls[0]["call_id"], "output": "{}"}
        await send({"type": "conversation.item.create", "item": output})
        await until("conversation.item.created")
        await send({"type": "response.create"})
        await until("response.done")
    await send({"type": "response.create", "response": {"modalities": ["text"]}})
    await until("response.done")
    pcm = turn_audio()
    for i in range(0, len(pcm), 9600):
        chunk = base64.b64encode(pcm[i : i + 9600]).decode()
        await send({"type": "input_audio_buffer.append", "audio": chunk})
    spoken = await until("response.done")
    assistant = next(o for o in spoken["response"]["output"] if o["type"] == "message")
    await send({"type": "conversation.item.retrieve", "item_id": user["id"]})
    await until("conversation.item.retrieved")
    truncate = {"item_id": assistant["id"], "content_index": 0, "audio_end_ms": 100}
    await send({"type": "conversation.item.truncate", **truncate})
    await until("conversation.item.truncated")
    await send({"type": "conversation.item.delete", "item_id": user["id"]})
    await until("conversation.item.deleted")
    await send({"type": "input_audio_buffer.clear"})
    await until("input_audio_buffer.cleared")
    await send({"type": "output_audio_buffer.clear"})
    await until("output_audio_buffer.cleared")
    await send({"type": "response.cancel"})
    await until("error")
    story = {"type": "input_text", "text": "tell me a story"}
    item = {"type": "message", "role": "user", "content": [story]}
    await send({"type": "conversation.item.create", "item": item})
    await until("conversation.item.created")
    await send({"type": "response.create"})
    await until("response.created")
    await send({"type": "response.cancel"})
    cancelled = await until("response.done")
    assert cancelled["response"]["status"] == "cancelled", cancelled["response"]["status"]
    if "conversation.item.input_audio_transcription.completed" not in {e["type"] for e in events}:
        await until("conversation.item.input_audio_transcription.completed")
    return events


def _namespace() -> dict[str, Any]:
    return {**vars(_models), "_models": models, "_unions": _unions}


def _is_optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def missing_required(value: Any, path: str) -> list[str]:
    """Paths of the required fields absent (or null) in ``value``, as the SDK parsed it."""
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in missing_required(v, f"{path}[{i}]")]
    if not isinstance(value, _Model):
        return []
    hints = typing.get_type_hints(type(value), _namespace())
    found: list[str] = []
    for attr, field in value._attr_to_rest_field.items():
        rest = field._rest_name
        hint = hints.get(attr)
        required = hint is not None and not _is_optional(hint)
        if rest not in value or value[rest] is None:
            if required:
                found.append(f"{path}.{rest}")
            continue
        found.extend(missing_required(getattr(value, attr), f"{path}.{rest}"))
    return found


def check_with_python_sdk(event: dict[str, Any]) -> list[str]:
    """Problems the Python SDK's models find in one raw event ("" if none)."""
    parsed = ServerEvent._deserialize(event, [])
    if type(parsed) is ServerEvent:
        return [f"{event['type']}: not a type the SDK knows"]
    return [f"{event['type']}: missing {m}" for m in missing_required(parsed, "")]
