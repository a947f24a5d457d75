"""User transcripts only when ``input_audio_transcription`` is configured (or forced)."""

from __future__ import annotations

from typing import Any

import pytest
from azure.ai.voicelive.models import AudioInputTranscriptionOptions, RequestSession

from voiceagent.emulator import Emulator

from .helpers import model_connection, recv_until, send_audio, silence, speech_pcm, types_of

TRANSCRIPTION = "conversation.item.input_audio_transcription.completed"


async def _voice_turn(emu: Emulator, session: RequestSession | None) -> list[Any]:
    emu.script.user_says("book a table")
    async with model_connection(emu.endpoint) as conn:
        await conn.recv()
        if session is not None:
            await conn.session.update(session=session)
            await recv_until(conn, "session.updated")
        await send_audio(conn, speech_pcm() + silence(800))
        events = await recv_until(conn, "response.done")
        # The transcription may come after response.done: a later round trip flushes it.
        await conn.input_audio_buffer.clear()
        return events + await recv_until(conn, "input_audio_buffer.cleared")


async def test_no_transcripts_without_input_audio_transcription() -> None:
    async with Emulator(realtime=False) as emu:
        events = await _voice_turn(emu, None)
    assert TRANSCRIPTION not in types_of(events)
    # The scripted agent still understood the turn.
    done = next(e for e in events if e.type == "response.done")
    assert done.response.output[0]["content"][0]["transcript"] == "You said: book a table"


@pytest.mark.parametrize("model", ["whisper-1", "azure-speech"])
async def test_transcripts_when_configured(model: str) -> None:
    session = RequestSession(input_audio_transcription=AudioInputTranscriptionOptions(model=model))
    async with Emulator(realtime=False) as emu:
        events = await _voice_turn(emu, session)
    transcripts = [e for e in events if e.type == TRANSCRIPTION]
    assert [t.transcript for t in transcripts] == ["book a table"]
    committed = next(e for e in events if e.type == "input_audio_buffer.committed")
    assert transcripts[0].item_id == committed.item_id


async def test_always_transcribe_sends_them_anyway() -> None:
    async with Emulator(realtime=False, always_transcribe=True) as emu:
        events = await _voice_turn(emu, None)
    assert [e.transcript for e in events if e.type == TRANSCRIPTION] == ["book a table"]
