"""Scripting: extendable rules, filler words, interim responses; through the real SDK."""

from __future__ import annotations

import re
from typing import Any

import pytest
from azure.ai.voicelive.models import (
    InputTextContentPart,
    LlmInterimResponseConfig,
    RequestSession,
    ServerVad,
    StaticInterimResponseConfig,
    UserMessageItem,
)

from voiceagent.emulator import (
    AgentScript,
    Emulator,
    FunctionCall,
    Reply,
    Timing,
    is_filler_only,
)
from voiceagent.emulator.interim import LLM_INTERIM_TEXTS

from .helpers import model_connection, recv_until, send_audio, silence, speech_pcm, types_of


async def _ask(conn: Any, text: str) -> list[Any]:
    await conn.conversation.item.create(
        item=UserMessageItem(content=[InputTextContentPart(text=text)])
    )
    await conn.response.create()
    return await recv_until(conn, "response.done")


def _transcripts(events: list[Any]) -> list[str]:
    return [e.transcript for e in events if e.type == "response.audio_transcript.done"]


# -- rules ---------------------------------------------------------------------------------


def test_rules_are_a_list_and_add_rule_chains() -> None:
    script = AgentScript(rules=(("a", "first"),))
    assert isinstance(script.rules, list)
    script.rules.append(("b", "appended"))
    assert script.add_rule("c", "added").add_rule(re.compile("^z"), "front", first=True) is script
    assert [reply for _, reply in script.rules] == ["front", "first", "appended", "added"]


async def test_rules_added_while_running_answer_the_next_turn() -> None:
    async with (
        Emulator(realtime=False, voice="synthetic") as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        assert _transcripts(await _ask(conn, "book a table")) == ["You said: book a table"]
        emu.script.add_rule("table", "Booked for two.")
        emu.script.rules.append((lambda text: text.endswith("?"), "A question!"))
        assert _transcripts(await _ask(conn, "book a table")) == ["Booked for two."]
        assert _transcripts(await _ask(conn, "why?")) == ["A question!"]


# -- filler words --------------------------------------------------------------------------


def test_filler_only_detection() -> None:
    assert is_filler_only("Um, uh... hmm")
    assert not is_filler_only("um, book a table")
    assert not is_filler_only("")


async def _two_utterances(remove_filler_words: bool) -> tuple[list[Any], Emulator]:
    emu = Emulator(realtime=False, voice="synthetic", listen=False, always_transcribe=True)
    async with emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        vad = ServerVad()
        vad["remove_filler_words"] = remove_filler_words
        await conn.session.update(session=RequestSession(turn_detection=vad))
        await recv_until(conn, "session.updated")
        emu.script.user_says("umm, uh", "um, book a table")
        await send_audio(conn, speech_pcm("uh hmm") + silence(800))
        await send_audio(conn, speech_pcm("book a table please") + silence(800))
        events = await recv_until(conn, "response.done")
        if not remove_filler_words:
            events += await recv_until(conn, "response.done")
    return events, emu


async def test_remove_filler_words_makes_filler_no_turn() -> None:
    events, emu = await _two_utterances(remove_filler_words=True)
    types = types_of(events)
    # The filler utterance sent nothing at all: one speech turn, one user item, one response.
    assert types.count("input_audio_buffer.speech_started") == 1
    assert types.count("input_audio_buffer.committed") == 1
    transcript = next(
        e for e in events if e.type == "conversation.item.input_audio_transcription.completed"
    ).transcript
    assert transcript == "book a table"  # fillers removed from real turns too
    assert emu.script.pending_user_turns == 0


async def test_without_remove_filler_words_filler_is_a_turn() -> None:
    events, _ = await _two_utterances(remove_filler_words=False)
    assert types_of(events).count("input_audio_buffer.committed") == 2
    heard = [
        e.transcript
        for e in events
        if e.type == "conversation.item.input_audio_transcription.completed"
    ]
    assert heard == ["umm, uh", "um, book a table"]


# -- interim responses ---------------------------------------------------------------------


async def test_static_interim_response_on_latency() -> None:
    timing = Timing(think_ms=(250.0, 250.0))
    async with (
        Emulator(realtime=False, voice="synthetic", timing=timing) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        interim = StaticInterimResponseConfig(
            triggers=["latency"], latency_threshold_ms=100, texts=["Hang on."]
        )
        await conn.session.update(session=RequestSession(interim_response=interim))
        await recv_until(conn, "session.updated")
        events = await _ask(conn, "hello")
        assert _transcripts(events) == ["Hang on.", "You said: hello"]
        done = events[-1].response
        assert [item["content"][0]["transcript"] for item in done["output"]] == [
            "Hang on.",
            "You said: hello",
        ]
        assert emu.sessions[0].responses[0].interim == ["Hang on."]
        # Under the threshold: no interim response.
        await conn.session.update(
            session=RequestSession(
                interim_response=StaticInterimResponseConfig(
                    triggers=["latency"], latency_threshold_ms=1000, texts=["Hang on."]
                )
            )
        )
        await recv_until(conn, "session.updated")
        assert _transcripts(await _ask(conn, "again")) == ["You said: again"]


@pytest.mark.parametrize("scripted", [False, True])
async def test_llm_interim_response_on_tool_call(scripted: bool) -> None:
    script = AgentScript(
        rules=[("weather", Reply(function_call=FunctionCall("get_weather", {"city": "Paris"})))],
        interim=(lambda trigger, text: f"Checking {trigger} for: {text}") if scripted else None,
    )
    async with (
        Emulator(realtime=False, voice="synthetic", script=script) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.session.update(
            session=RequestSession(interim_response=LlmInterimResponseConfig(triggers=["tool"]))
        )
        await recv_until(conn, "session.updated")
        events = await _ask(conn, "weather in Paris")
        expected = "Checking tool for: weather in Paris" if scripted else LLM_INTERIM_TEXTS["tool"]
        outputs = events[-1].response["output"]
        assert [o["type"] for o in outputs] == ["function_call", "message"]
        assert _transcripts(events) == [expected]
        # A reply without a tool call has no interim response with the "tool" trigger.
        assert len(_transcripts(await _ask(conn, "hi"))) == 1
        assert emu.sessions[0].responses[1].interim == []
