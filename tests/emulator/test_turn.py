"""A full voice turn through the real SDK: VAD, transcription, response events and audio."""

from __future__ import annotations

import base64

from voiceagent.emulator import Emulator

from .helpers import (
    model_connection,
    pcm_rms_dbfs,
    recv_until,
    send_audio,
    silence,
    speech_pcm,
    types_of,
)

RESPONSE_ORDER = [
    "response.created",
    "response.output_item.added",
    "conversation.item.created",
    "response.content_part.added",
    "response.audio.done",
    "response.audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
]


async def test_voice_turn_event_order_and_audio() -> None:
    async with Emulator(realtime=False) as emu:
        emu.script.user_says("what's the weather")
        async with model_connection(emu.endpoint) as conn:
            first = await conn.recv()
            assert first.type == "session.created"
            await conn.session.update(session={"input_audio_transcription": {"model": "whisper-1"}})
            await recv_until(conn, "session.updated")
            await send_audio(conn, silence(200) + speech_pcm() + silence(800))
            events = await recv_until(conn, "response.done")
        names = types_of(events)
        head = [n for n in names if n.startswith("input_audio_buffer.")][:3]
        assert head == [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
        ]
        user_created = events[names.index("input_audio_buffer.committed") + 1]
        assert user_created.type == "conversation.item.created"
        assert user_created.item.role == "user"
        assert user_created["item"]["content"][0]["transcript"] is None
        # The documented response order, ignoring deltas and the asynchronous transcription.
        response_part = names[names.index("response.created") :]
        skeleton = [
            n
            for n in response_part
            if not n.endswith(".delta") and "input_audio_transcription" not in n
        ]
        assert skeleton == RESPONSE_ORDER
        transcription = next(
            e for e in events if e.type == "conversation.item.input_audio_transcription.completed"
        )
        assert transcription.transcript == "what's the weather"
        assert transcription.item_id == user_created.item.id
        # Deltas are interleaved: transcript deltas are not all before or after the audio.
        first_audio = response_part.index("response.audio.delta")
        last_audio = len(response_part) - 1 - response_part[::-1].index("response.audio.delta")
        inner = response_part[first_audio:last_audio]
        assert "response.audio_transcript.delta" in inner
        audio = b"".join(e.delta for e in events if e.type == "response.audio.delta")
        assert pcm_rms_dbfs(audio) > -30  # speech-like, not silence
        done = events[-1]
        assert done.response.status == "completed"
        assert done.response.id.startswith("resp_")
        assert done.response["conversation_id"] == emu.sessions[0].conversation_id
        assert done.response["usage"]["total_tokens"] > 0
        transcript_done = next(e for e in events if e.type == "response.audio_transcript.done")
        deltas = "".join(e.delta for e in events if e.type == "response.audio_transcript.delta")
        assert transcript_done.transcript == deltas == "You said: what's the weather"
        # ~65 ms per character: 28 characters last well over a second of 24 kHz PCM16.
        assert len(audio) / 48000 > 1.5
        for e in events:
            if e.type == "response.audio.delta":
                assert len(base64.b64decode(e["delta"])) <= 4800  # deltas of at most 100 ms
