"""Item 3: the energy VAD on audio time, input formats, thresholds (unit level and via the SDK)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from azure.ai.voicelive.aio import VoiceLiveConnection

from voiceagent.emulator import Emulator
from voiceagent.emulator.vad import EnergyVad, threshold_dbfs
from voiceagent.protocol.g711 import alaw_encode, ulaw_encode

from .helpers import (
    espeak_pcm,
    model_connection,
    noise,
    recv_until,
    send_audio,
    silence,
    speech_pcm,
    types_of,
)


def test_threshold_mapping() -> None:
    assert threshold_dbfs(0.5) == -40.0
    assert threshold_dbfs(0.0) == -70.0
    assert threshold_dbfs(1.0) == -10.0


def test_vad_uses_audio_time_not_wall_time() -> None:
    vad = EnergyVad(24000, prefix_padding_ms=300, silence_duration_ms=500)
    # 1 s silence, 1 s speech, 1 s silence, all fed at once (no wall time passes).
    audio = silence(1000) + noise(1000, -20) + silence(1000)
    events = vad.feed(audio)
    assert [e.kind for e in events] == ["started", "stopped"]
    assert events[0].ms == 1000 - 300  # onset minus prefix padding
    assert events[1].ms == 2000 + 500  # end of speech plus the silence that ended it


def test_vad_fed_in_odd_sized_pieces_gives_same_result() -> None:
    audio = silence(700) + noise(600, -25) + silence(900)
    whole = EnergyVad(16000).feed(audio[: len(audio)])
    vad = EnergyVad(16000)
    pieces = []
    for i in range(0, len(audio), 333):
        pieces += vad.feed(audio[i : i + 333])
    assert pieces == whole


def test_silence_and_quiet_noise_do_not_trigger() -> None:
    vad = EnergyVad(24000)
    assert vad.feed(silence(2000)) == []
    assert vad.feed(noise(3000, -60)) == []
    assert not vad.in_speech


def test_click_does_not_trigger() -> None:
    vad = EnergyVad(24000)
    assert vad.feed(silence(500) + noise(20, -10) + silence(500)) == []


def test_threshold_changes_sensitivity() -> None:
    quiet_speech = noise(800, -50)
    assert EnergyVad(24000, threshold=0.5).feed(quiet_speech) == []
    assert [e.kind for e in EnergyVad(24000, threshold=0.1).feed(quiet_speech)] == ["started"]


def test_silence_duration_is_honoured() -> None:
    audio = noise(500, -20) + silence(400) + noise(500, -20) + silence(1200)
    short = EnergyVad(24000, silence_duration_ms=300).feed(audio)
    long = EnergyVad(24000, silence_duration_ms=600).feed(audio)
    assert [e.kind for e in short] == ["started", "stopped", "started", "stopped"]
    assert [e.kind for e in long] == ["started", "stopped"]


def test_real_speech_triggers_at_default_threshold(tmp_path: Path) -> None:
    pcm = espeak_pcm(tmp_path, "Hello, I would like to know the weather in Paris.")
    events = EnergyVad(24000).feed(silence(300) + pcm + silence(1000))
    assert [e.kind for e in events][:1] == ["started"]
    assert events[-1].kind == "stopped"


async def _events_until_cleared(conn: VoiceLiveConnection) -> list[str]:
    await conn.input_audio_buffer.clear()
    return types_of(await recv_until(conn, "input_audio_buffer.cleared"))


async def test_sdk_turn_with_real_speech(tmp_path: Path) -> None:
    pcm = espeak_pcm(tmp_path, "What is the weather like in Paris today?")
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(session={"input_audio_transcription": {"model": "whisper-1"}})
        await recv_until(conn, "session.updated")
        emu.script.user_says("what is the weather like in Paris today")
        await send_audio(conn, silence(500) + pcm + silence(700))
        events = await recv_until(conn, "conversation.item.input_audio_transcription.completed")
        started = next(e for e in events if e.type == "input_audio_buffer.speech_started")
        stopped = next(e for e in events if e.type == "input_audio_buffer.speech_stopped")
        committed = next(e for e in events if e.type == "input_audio_buffer.committed")
        assert started.item_id == stopped.item_id == committed.item_id
        assert 0 <= started.audio_start_ms <= 500
        speech_ms = len(pcm) / 48
        assert 500 + speech_ms <= stopped.audio_end_ms <= 500 + speech_ms + 700


async def test_sdk_silence_and_noise_do_not_trigger() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await send_audio(conn, silence(1500) + noise(1500, -60))
        names = await _events_until_cleared(conn)
        assert "input_audio_buffer.speech_started" not in names


async def test_sdk_high_threshold_ignores_normal_speech() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(
            session={"turn_detection": {"type": "server_vad", "threshold": 0.95}}
        )
        await recv_until(conn, "session.updated")
        await send_audio(conn, speech_pcm() + silence(800))
        names = await _events_until_cleared(conn)
        assert "input_audio_buffer.speech_started" not in names


def _encode(pcm24: bytes, fmt: str, rate: int) -> bytes:
    x = np.frombuffer(pcm24, dtype="<i2").astype(np.float64)
    n = int(len(x) * rate / 24000)
    resampled = (
        np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype("<i2").tobytes()
    )
    if fmt == "g711_ulaw":
        return ulaw_encode(resampled)
    if fmt == "g711_alaw":
        return alaw_encode(resampled)
    return resampled


@pytest.mark.parametrize(
    ("fmt", "rate"),
    [("pcm16", 8000), ("pcm16", 16000), ("pcm16", 24000), ("g711_ulaw", 8000), ("g711_alaw", 8000)],
)
async def test_input_formats_and_rates(fmt: str, rate: int) -> None:
    audio = _encode(silence(400) + speech_pcm() + silence(800), fmt, rate)
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(
            session={"input_audio_format": fmt, "input_audio_sampling_rate": rate}
        )
        await recv_until(conn, "session.updated")
        await send_audio(conn, audio, block_bytes=rate // 50 * (2 if fmt == "pcm16" else 1))
        events = await recv_until(conn, "input_audio_buffer.speech_stopped")
        started = next(e for e in events if e.type == "input_audio_buffer.speech_started")
        stopped = events[-1]
        # Audio time follows the declared format: 400 ms of leading silence, ~2.4 s of speech.
        assert 100 <= started.audio_start_ms <= 400
        assert 2600 <= stopped.audio_end_ms <= 3600


async def test_manual_commit_without_vad() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(
            session={"turn_detection": None, "input_audio_transcription": {"model": "whisper-1"}}
        )
        await recv_until(conn, "session.updated")
        emu.script.user_says("book a table")
        await send_audio(conn, speech_pcm() + silence(800))
        await conn.input_audio_buffer.commit()
        events = await recv_until(conn, "conversation.item.input_audio_transcription.completed")
        names = types_of(events)
        assert names == [
            "input_audio_buffer.committed",
            "conversation.item.created",
            "conversation.item.input_audio_transcription.completed",
        ]
        assert events[-1].transcript == "book a table"
        await conn.response.create()
        done = (await recv_until(conn, "response.done"))[-1]
        assert done.response.status == "completed"
        assert done.response.output[0]["content"][0]["transcript"] == "You said: book a table"


async def test_commit_with_too_little_audio_is_an_error() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(session={"turn_detection": None})
        await recv_until(conn, "session.updated")
        await send_audio(conn, silence(40))
        await conn.input_audio_buffer.commit()
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.code == "input_audio_buffer_commit_empty"


async def test_unscripted_speech_has_default_transcript_when_not_listening() -> None:
    async with (
        Emulator(realtime=False, always_transcribe=True, listen=False) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        await send_audio(conn, speech_pcm() + silence(800))
        events = await recv_until(conn, "response.done")
        transcription = next(
            e for e in events if e.type == "conversation.item.input_audio_transcription.completed"
        )
        assert transcription.transcript == "(unscripted speech)"


async def test_bad_base64_audio_is_an_error() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.send({"type": "input_audio_buffer.append", "audio": "***not base64***"})
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.param == "audio"
        # The connection is still usable.
        await conn.session.update(session={"instructions": "still here"})
        updated = (await recv_until(conn, "session.updated"))[-1]
        assert updated.session["instructions"] == "still here"


async def test_create_response_false_commits_without_responding() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        td = {"type": "server_vad", "create_response": False}
        transcription = {"model": "whisper-1"}
        await conn.session.update(
            session={"turn_detection": td, "input_audio_transcription": transcription}
        )
        await recv_until(conn, "session.updated")
        await send_audio(conn, speech_pcm() + silence(800))
        events = await recv_until(conn, "conversation.item.input_audio_transcription.completed")
        assert "response.created" not in types_of(events)
        names = await _events_until_cleared(conn)
        assert "response.created" not in names
        assert emu.sessions[0].responses == []


@pytest.mark.parametrize("fmt", ["g711_ulaw", "g711_alaw"])
def test_g711_zero_bytes_are_silence_not_speech(fmt: str) -> None:
    from voiceagent.protocol.g711 import alaw_decode, ulaw_decode

    decode = ulaw_decode if fmt == "g711_ulaw" else alaw_decode
    dc = decode(bytes(8000 * 2))  # 2 s of 0x00: a constant level, far above -40 dBFS
    assert abs(int.from_bytes(dc[:2], "little", signed=True)) > 5000
    vad = EnergyVad(8000)
    assert vad.feed(dc) == []
    speech = decode(_encode(speech_pcm(), fmt, 8000))
    events = vad.feed(speech + dc)
    assert [e.kind for e in events] == ["started", "stopped"]


@pytest.mark.parametrize("fmt", ["g711_ulaw", "g711_alaw"])
async def test_sdk_g711_speech_then_zero_bytes_ends_the_turn(fmt: str) -> None:
    speech = _encode(speech_pcm(), fmt, 8000)
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(session={"input_audio_format": fmt})
        await recv_until(conn, "session.updated")
        await send_audio(conn, speech + bytes(16000), block_bytes=160)
        events = await recv_until(conn, "response.done")
        stopped = next(e for e in events if e.type == "input_audio_buffer.speech_stopped")
        speech_ms = len(speech) / 8
        assert speech_ms <= stopped.audio_end_ms <= speech_ms + 1000
        done = events[-1]
        assert done.response.status == "completed"
        assert done.response.output[0]["content"][0]["transcript"].startswith("You said:")
