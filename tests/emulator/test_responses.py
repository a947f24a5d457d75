"""Items 4-5: responses (order, formats, pacing, text), scripting, greetings, function calls."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from azure.ai.voicelive.aio import connect
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    FunctionCallOutputItem,
    InputTextContentPart,
    OutputTextContentPart,
    ResponseCreateParams,
    SystemMessageItem,
    UserMessageItem,
)

from voiceagent.emulator import AgentScript, Emulator, FunctionCall, Reply, ScriptContext

from .helpers import model_connection, recv_until, types_of


async def _say(conn: Any, text: str) -> None:
    await conn.conversation.item.create(
        item=UserMessageItem(content=[InputTextContentPart(text=text)])
    )
    await recv_until(conn, "conversation.item.created")


async def _respond(conn: Any, **kwargs: Any) -> list[Any]:
    await conn.response.create(**kwargs)
    return await recv_until(conn, "response.done")


def _transcript(events: list[Any]) -> str:
    return str(next(e for e in events if e.type == "response.audio_transcript.done").transcript)


def _audio(events: list[Any]) -> bytes:
    return b"".join(e.delta for e in events if e.type == "response.audio.delta")


async def test_script_rules_regex_callable_and_default() -> None:
    script = AgentScript(
        rules=[
            ("weather", "It is sunny."),
            (re.compile(r"\bbook\b.*\btable\b"), Reply("Booked for two.")),
            (lambda text: text.endswith("?"), lambda text: f"Good question: {text}"),
        ],
        default="Sorry, I did not get that.",
    )
    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        for said, expected in [
            ("How is the WEATHER", "It is sunny."),
            ("please book a table", "Booked for two."),
            ("are you real?", "Good question: are you real?"),
            ("blah", "Sorry, I did not get that."),
        ]:
            await _say(conn, said)
            assert _transcript(await _respond(conn)) == expected


async def test_plain_callable_script_and_default_echo() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await _say(conn, "hello")
        assert _transcript(await _respond(conn)) == "You said: hello"
        emu.script = lambda text: text.upper()
        await _say(conn, "shout")
        assert _transcript(await _respond(conn)) == "SHOUT"


async def test_greeting_and_pre_generated_message() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.conversation.item.create(
            item=SystemMessageItem(
                content=[InputTextContentPart(text="Say something to welcome the user.")]
            )
        )
        await recv_until(conn, "conversation.item.created")
        assert _transcript(await _respond(conn)) == "Hello! How can I help you today?"
        message = AssistantMessageItem(
            content=[OutputTextContentPart(text="Welcome to Contoso, how may I help?")]
        )
        events = await _respond(
            conn, response=ResponseCreateParams(pre_generated_assistant_message=message)
        )
        assert _transcript(events) == "Welcome to Contoso, how may I help?"
        items = emu.conversations[emu.sessions[0].conversation_id].items
        assert items[-1]["content"][0]["transcript"] == "Welcome to Contoso, how may I help?"


async def test_instructions_are_recorded_and_visible_to_script() -> None:
    seen: list[ScriptContext] = []

    def script(text: str, ctx: ScriptContext) -> str:
        seen.append(ctx)
        return "ok"

    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.session.update(session={"instructions": "You are a pirate."})
        await recv_until(conn, "session.updated")
        await _say(conn, "hi")
        await _respond(
            conn,
            response=ResponseCreateParams(instructions="Answer in French."),
            additional_instructions="Mention the time.",
        )
        record = emu.sessions[0].responses[-1]
        assert record.instructions == "Answer in French."
        assert record.additional_instructions == "Mention the time."
        assert seen[-1].instructions == "You are a pirate."
        assert seen[-1].response_instructions == "Answer in French."
        assert seen[-1].additional_instructions == "Mention the time."
        assert seen[-1].kind == "user" and seen[-1].user_text == "hi"


@pytest.mark.parametrize(
    ("fmt", "bytes_per_second"),
    [
        ("pcm16", 48000),
        ("pcm16_16000hz", 32000),
        ("pcm16_8000hz", 16000),
        ("g711_ulaw", 8000),
        ("g711_alaw", 8000),
    ],
)
async def test_output_formats(fmt: str, bytes_per_second: int) -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(session={"output_audio_format": fmt})
        await recv_until(conn, "session.updated")
        await _say(conn, "a b c")
        events = await _respond(conn)
        deltas = [e.delta for e in events if e.type == "response.audio.delta"]
        audio = b"".join(deltas)
        seconds = len(audio) / bytes_per_second
        # "You said: a b c" is 15 characters at 65 ms each, plus pauses.
        assert 0.9 < seconds < 2.0
        assert max(len(d) for d in deltas) == bytes_per_second // 10  # 100 ms deltas


async def test_text_only_modality() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(session={"modalities": ["text"]})
        await recv_until(conn, "session.updated")
        await _say(conn, "hi")
        events = await _respond(conn)
        names = types_of(events)
        assert "response.audio.delta" not in names
        assert next(e for e in events if e.type == "response.text.done").text == "You said: hi"


async def test_realtime_pacing() -> None:
    async with Emulator(realtime=True) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await _say(conn, "pace me")
        await conn.response.create()
        start = time.monotonic()
        arrivals: list[tuple[float, int]] = []
        total = 0
        while True:
            event = await asyncio.wait_for(conn.recv(), 10)
            if event.type == "response.audio.delta":
                total += len(event.delta)
                arrivals.append((time.monotonic() - start, total))
            if event.type == "response.done":
                break
        audio_seconds = total / 48000
        elapsed = arrivals[-1][0]
        # The last delta is sent one delta-length before the audio ends.
        # (Generous upper bound: other processes share this machine's two cores.)
        assert audio_seconds - 0.1 - 0.15 <= elapsed <= audio_seconds + 0.6
        # Never ahead of real time by more than one delta (plus scheduling slack).
        for t, sent in arrivals:
            assert sent / 48000 <= t + 0.1 + 0.05


async def test_speed_factor_paces_faster() -> None:
    async with Emulator(realtime=True, speed=4.0) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await _say(conn, "a somewhat longer sentence to speak")
        await conn.response.create()
        start = time.monotonic()
        events = await recv_until(conn, "response.done")
        elapsed = time.monotonic() - start
        seconds = len(_audio(events)) / 48000
        assert seconds > 2.0
        assert seconds / 4 - 0.2 <= elapsed <= seconds / 4 + 0.6


async def test_transcript_never_runs_ahead_of_audio() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await _say(conn, "one two three four five six seven eight nine ten")
        events = await _respond(conn)
        audio_ms = 0.0
        text = ""
        for e in events:
            if e.type == "response.audio.delta":
                audio_ms += len(e.delta) / 48
            elif e.type == "response.audio_transcript.delta":
                text += e.delta
                # Each word goes out just before the delta in which it starts: <= 65 ms per char.
                assert len(text.rstrip()) * 65 <= audio_ms + 100 + 65 * 12 + 450
        assert text == "You said: one two three four five six seven eight nine ten"


async def test_function_call_flow() -> None:
    script = AgentScript(
        rules=[("weather", Reply(function_call=FunctionCall("get_weather", {"city": "Paris"})))],
        after_function=lambda text, ctx: f"In Paris it is {ctx.function_outputs[0]['output']}.",
    )
    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await _say(conn, "what's the weather in Paris")
        events = await _respond(conn)
        names = [n for n in types_of(events) if n != "response.function_call_arguments.delta"]
        assert names == [
            "response.created",
            "response.output_item.added",
            "conversation.item.created",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.done",
        ]
        args = "".join(
            e.delta for e in events if e.type == "response.function_call_arguments.delta"
        )
        done = next(e for e in events if e.type == "response.function_call_arguments.done")
        assert done.name == "get_weather"
        assert done.arguments == args == '{"city":"Paris"}'
        assert done.call_id.startswith("call_")
        assert events[-1].response.output[0]["type"] == "function_call"
        await conn.conversation.item.create(
            item=FunctionCallOutputItem(call_id=done.call_id, output="sunny")
        )
        await recv_until(conn, "conversation.item.created")
        assert _transcript(await _respond(conn)) == "In Paris it is sunny."


async def test_default_after_function_uses_output() -> None:
    script = AgentScript(
        rules=[("time", Reply("Let me check.", FunctionCall("now", "{}", call_id="call_x")))]
    )
    async with (
        Emulator(realtime=False, script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await _say(conn, "what time is it")
        events = await _respond(conn)
        outputs = events[-1].response.output
        assert [o["type"] for o in outputs] == ["message", "function_call"]
        assert outputs[1]["call_id"] == "call_x"
        await conn.conversation.item.create(
            item=FunctionCallOutputItem(call_id="call_x", output="noon")
        )
        await recv_until(conn, "conversation.item.created")
        assert _transcript(await _respond(conn)) == "Here is what I found: noon"


async def test_response_create_while_active_is_an_error() -> None:
    async with Emulator(realtime=True) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await _say(conn, "a long enough sentence")
        await conn.response.create()
        await recv_until(conn, "response.audio.delta")
        await conn.response.create()
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.code == "conversation_already_has_active_response"
        await conn.response.cancel()
        done = (await recv_until(conn, "response.done"))[-1]
        assert done.response.status == "cancelled"


async def test_item_retrieve_and_delete() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="x")])
        )
        created = (await recv_until(conn, "conversation.item.created"))[-1]
        item_id = created.item.id
        await conn.conversation.item.retrieve(item_id=item_id)
        assert (await recv_until(conn, "conversation.item.retrieved"))[-1].item.id == item_id
        await conn.conversation.item.delete(item_id=item_id)
        assert (await recv_until(conn, "conversation.item.deleted"))[-1].item_id == item_id
        await conn.conversation.item.delete(item_id=item_id)
        assert (await recv_until(conn, "error"))[-1].error.code == "item_not_found"
        assert emu.conversations[emu.sessions[0].conversation_id].items == []


async def test_agent_mode_default_greeting_names_the_agent() -> None:
    from .helpers import FakeTokenCredential

    async with (
        Emulator(realtime=False) as emu,
        connect(
            endpoint=emu.endpoint,
            credential=FakeTokenCredential(),
            agent_name="concierge",
            project_name="contoso",
        ) as conn,
    ):
        await conn.recv()
        await conn.conversation.item.create(
            item=SystemMessageItem(content=[InputTextContentPart(text="Greet the user.")])
        )
        await recv_until(conn, "conversation.item.created")
        events = await _respond(conn)
        assert _transcript(events) == "Hello! I'm concierge. How can I help you today?"
