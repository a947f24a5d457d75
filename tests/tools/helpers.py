"""Helpers for tool tests: a model-mode session against the realistic emulator."""

from __future__ import annotations

import asyncio
from typing import Any

from azure.core.credentials import AzureKeyCredential

from voiceagent import SessionOptions, VoiceAgentSession
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import EmulatedSession, Emulator, Faults

KEY = "tools-test-key"
BUSY = "conversation_already_has_active_response"


def realistic_emulator(**kwargs: Any) -> Emulator:
    """The emulator as a cloud service behaves: think time, first-audio delay, jitter, and 30 ms
    of latency before every server event (so a reply to an event races the next one)."""
    return Emulator(
        api_key=KEY, timing="realistic", faults=Faults(delay_ms=30), speed=2.0, **kwargs
    )


def model_session(
    emu: Emulator, *, options: SessionOptions | None = None, **kwargs: Any
) -> tuple[VoiceAgentSession, MemoryAudio]:
    audio = MemoryAudio(speed=2.0)
    session = VoiceAgentSession(
        emu.endpoint,
        model="gpt-realtime",
        credential=AzureKeyCredential(KEY),
        audio=audio,
        options=options,
        **kwargs,
    )
    return session, audio


def future_of(session: VoiceAgentSession, event: str, predicate: Any = None) -> asyncio.Future[Any]:
    """A future resolved by the first ``event`` (matching ``predicate``) the session emits."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def resolve(e: Any) -> None:
        if not fut.done() and (predicate is None or predicate(e)):
            fut.set_result(e)

    session.on(event, resolve)
    return fut


def client_events(server: EmulatedSession, kind: str) -> list[dict[str, Any]]:
    return [e for e in server.received if e["type"] == kind]


def busy_errors(server: EmulatedSession) -> list[dict[str, Any]]:
    return [e for e in server.sent if e["type"] == "error" and e["error"].get("code") == BUSY]


def function_outputs(server: EmulatedSession) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in client_events(server, "conversation.item.create")
        if e["item"].get("type") == "function_call_output"
    ]


async def send_calls(server: EmulatedSession, calls: list[tuple[str, str, str]]) -> str:
    """Stream one response carrying several function calls ``(call_id, name, arguments)``, as
    the service does; returns its id. (The emulator's script makes one call per response.)"""
    response_id = "resp_twocalls"
    await server.send_event(
        {
            "type": "response.created",
            "response": {"id": response_id, "status": "in_progress", "output": []},
        }
    )
    output = []
    for index, (call_id, name, arguments) in enumerate(calls):
        item = {
            "id": f"item_{call_id}",
            "type": "function_call",
            "status": "completed",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        }
        server.conversation.insert(dict(item))
        output.append(item)
        added = {**item, "status": "in_progress", "arguments": ""}
        where = {"response_id": response_id, "output_index": index}
        await server.send_event({"type": "response.output_item.added", **where, "item": added})
        await server.send_event({"type": "conversation.item.created", "item": added})
        await server.send_event(
            {
                "type": "response.function_call_arguments.done",
                **where,
                "item_id": item["id"],
                "call_id": call_id,
                "name": name,
                "arguments": arguments,
            }
        )
        await server.send_event({"type": "response.output_item.done", **where, "item": item})
    await server.send_event(
        {
            "type": "response.done",
            "response": {"id": response_id, "status": "completed", "output": output},
        }
    )
    return response_id
