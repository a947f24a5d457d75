"""Item 6: barge-in cancels, response.cancel, truncation, auto_truncate."""

from __future__ import annotations

from typing import Any

from azure.ai.voicelive.models import InputTextContentPart, UserMessageItem

from voiceagent.emulator import Emulator

from .helpers import model_connection, recv_until, send_audio, silence, speech_pcm, types_of

LONG = "This is a rather long answer that keeps on going for several seconds of audio."
CLOSING = [
    "response.audio.done",
    "response.audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
]


async def _say(conn: Any, text: str) -> None:
    await conn.conversation.item.create(
        item=UserMessageItem(content=[InputTextContentPart(text=text)])
    )
    await recv_until(conn, "conversation.item.created")


def _sent_audio_ms(session: Any, response_id: str) -> float:
    import base64

    return sum(
        len(base64.b64decode(e["delta"])) / 48
        for e in session.sent
        if e["type"] == "response.audio.delta" and e["response_id"] == response_id
    )


async def test_speech_during_response_cancels_it() -> None:
    async with (
        Emulator(realtime=True, script=lambda t: LONG) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        s = await emu.wait_for_session()
        await _say(conn, "talk")
        await conn.response.create()
        await recv_until(conn, "response.audio.delta")
        await send_audio(conn, speech_pcm("stop please"))
        events = await recv_until(conn, "response.done")
        done = events[-1]
        assert done.response.status == "cancelled"
        assert done.response.status_details["reason"] == "turn_detected"
        assert done.response.status_details["type"] == "cancelled"
        # Server side: speech_started, then no more deltas, then the closing events.
        names = [e["type"] for e in s.sent]
        started = names.index("input_audio_buffer.speech_started")
        after = [n for n in names[started + 1 :] if n.startswith("response.")]
        assert after == CLOSING
        assert _sent_audio_ms(s, done.response.id) < 2500  # far less than the full answer
        item = done.response.output[0]
        assert item["status"] == "incomplete"
        assert LONG.startswith(item["content"][0]["transcript"])
        assert len(item["content"][0]["transcript"]) < len(LONG)
        assert s.responses[0].status == "cancelled"
        assert s.responses[0].cancel_reason == "turn_detected"


async def test_no_interrupt_when_interrupt_response_false() -> None:
    async with (
        Emulator(
            realtime=True, speed=3.0, script=lambda t: "Short but not instant reply here."
        ) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await conn.session.update(
            session={"turn_detection": {"type": "server_vad", "interrupt_response": False}}
        )
        await recv_until(conn, "session.updated")
        await _say(conn, "talk")
        await conn.response.create()
        await recv_until(conn, "response.audio.delta")
        await send_audio(conn, speech_pcm("hi") + silence(700))
        first_done = (await recv_until(conn, "response.done"))[-1]
        assert first_done.response.status == "completed"
        # The user's turn still gets its own response afterwards.
        second_done = (await recv_until(conn, "response.done"))[-1]
        assert second_done.response.status == "completed"
        assert second_done.response.id != first_done.response.id


async def test_client_cancel() -> None:
    async with (
        Emulator(realtime=True, script=lambda t: LONG) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await _say(conn, "talk")
        await conn.response.create()
        await recv_until(conn, "response.audio.delta")
        await conn.response.cancel()
        events = await recv_until(conn, "response.done")
        assert [n for n in types_of(events) if not n.endswith(".delta")] == CLOSING
        assert events[-1].response.status == "cancelled"
        assert events[-1].response.status_details["reason"] == "client_cancelled"


async def test_cancel_with_nothing_active_is_an_error() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.response.cancel()
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.type == "invalid_request_error"
        assert error.error.code == "response_cancel_not_active"
        assert error.error.message == "Cancellation failed: no active response found"


async def test_truncate_cuts_stored_transcript_to_heard_words() -> None:
    reply = "You said: hello world again"
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await _say(conn, "hello world again")
        await conn.response.create()
        events = await recv_until(conn, "response.done")
        item_id = events[-1].response.output[0]["id"]
        assert events[-1].response.output[0]["content"][0]["transcript"] == reply
        # 65 ms per character after a 20 ms lead, 150 ms after "said:": "hello" starts at
        # 820 ms and "world" at 1210 ms.
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=1000)
        truncated = (await recv_until(conn, "conversation.item.truncated"))[-1]
        assert (truncated.item_id, truncated.content_index, truncated.audio_end_ms) == (
            item_id,
            0,
            1000,
        )
        conversation = emu.conversations[emu.sessions[0].conversation_id]
        assert conversation.find(item_id)["content"][0]["transcript"] == "You said: hello"
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=0)
        await recv_until(conn, "conversation.item.truncated")
        assert conversation.find(item_id)["content"][0]["transcript"] == ""


async def test_truncate_errors() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await _say(conn, "x")
        await conn.response.create()
        events = await recv_until(conn, "response.done")
        item_id = events[-1].response.output[0]["id"]
        audio_ms = len(b"".join(e.delta for e in events if e.type == "response.audio.delta")) // 48
        await conn.conversation.item.truncate(
            item_id=item_id, content_index=0, audio_end_ms=audio_ms + 500
        )
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.param == "audio_end_ms"
        await conn.conversation.item.truncate(item_id="item_nope", content_index=0, audio_end_ms=10)
        assert (await recv_until(conn, "error"))[-1].error.code == "item_not_found"
        user_item = emu.conversations[emu.sessions[0].conversation_id].items[0]["id"]
        await conn.conversation.item.truncate(item_id=user_item, content_index=0, audio_end_ms=10)
        assert (await recv_until(conn, "error"))[-1].error.param == "item_id"
        # Truncating to exactly the audio length is fine.
        await conn.conversation.item.truncate(
            item_id=item_id, content_index=0, audio_end_ms=audio_ms
        )
        assert (await recv_until(conn, "conversation.item.truncated"))[-1].audio_end_ms == audio_ms


async def test_truncate_beyond_audio_sent_so_far_during_cancelled_response() -> None:
    async with (
        Emulator(realtime=True, script=lambda t: LONG) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await _say(conn, "talk")
        await conn.response.create()
        await recv_until(conn, "response.audio.delta")
        await conn.response.cancel()
        done = (await recv_until(conn, "response.done"))[-1]
        item_id = done.response.output[0]["id"]
        # The full answer would be ~5 s, but only a fraction was sent before the cancel.
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=4000)
        assert (await recv_until(conn, "error"))[-1].error.param == "audio_end_ms"


async def test_auto_truncate_on_barge_in() -> None:
    async with (
        Emulator(realtime=True, script=lambda t: LONG) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        s = await emu.wait_for_session()
        await conn.session.update(
            session={"turn_detection": {"type": "server_vad", "auto_truncate": True}}
        )
        await recv_until(conn, "session.updated")
        await _say(conn, "talk")
        await conn.response.create()
        await recv_until(conn, "response.audio.delta")
        await recv_until(conn, "response.audio.delta")
        await send_audio(conn, speech_pcm("stop"))
        events = await recv_until(conn, "conversation.item.truncated")
        done = next(e for e in events if e.type == "response.done")
        truncated = events[-1]
        item_id = done.response.output[0]["id"]
        assert truncated.item_id == item_id
        assert truncated.content_index == 0
        sent_ms = _sent_audio_ms(s, done.response.id)
        assert abs(truncated.audio_end_ms - sent_ms) <= 1
        stored = emu.conversations[s.conversation_id].find(item_id)["content"][0]["transcript"]
        assert LONG.startswith(stored) and len(stored) < len(LONG)
