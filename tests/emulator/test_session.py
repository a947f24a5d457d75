"""Item 2: session.created and session.update -> session.updated with the effective config."""

from __future__ import annotations

from azure.ai.voicelive.models import AzureStandardVoice, RequestSession, ServerVad

from voiceagent.emulator import Emulator

from .helpers import model_connection


async def test_session_created_has_defaults() -> None:
    async with Emulator() as emu, model_connection(emu.endpoint) as conn:
        created = await conn.recv()
        session = created.session
        assert session.id.startswith("sess_")
        assert session.id == emu.sessions[0].session_id
        assert session["input_audio_format"] == "pcm16"
        assert session["output_audio_format"] == "pcm16"
        td = session["turn_detection"]
        assert td == {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 500,
            "create_response": True,
            "interrupt_response": True,
            "auto_truncate": False,
        }
        assert "agent" not in session


async def test_session_update_echoes_merged_config() -> None:
    async with Emulator() as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        await conn.session.update(
            session=RequestSession(
                instructions="Be brief.",
                voice=AzureStandardVoice(name="en-US-Ava:DragonHDLatestNeural"),
                input_audio_format="g711_ulaw",
                output_audio_format="pcm16_16000hz",
                turn_detection=ServerVad(threshold=0.3, silence_duration_ms=700),
            )
        )
        updated = await conn.recv()
        assert updated.type == "session.updated"
        session = updated.session
        assert session.id == emu.sessions[0].session_id
        assert session["instructions"] == "Be brief."
        assert session["voice"] == {
            "type": "azure-standard",
            "name": "en-US-Ava:DragonHDLatestNeural",
        }
        assert session["input_audio_format"] == "g711_ulaw"
        assert session["input_audio_sampling_rate"] == 8000
        assert session["output_audio_format"] == "pcm16_16000hz"
        td = session["turn_detection"]
        assert td["threshold"] == 0.3 and td["silence_duration_ms"] == 700
        assert td["prefix_padding_ms"] == 300 and td["interrupt_response"] is True
        s = emu.sessions[0]
        assert s.config["instructions"] == "Be brief."
        assert s.config["turn_detection"] == td
        # A later update keeps what it does not mention.
        await conn.session.update(session={"turn_detection": None})
        again = (await conn.recv()).session
        assert again["turn_detection"] is None
        assert again["instructions"] == "Be brief."


async def test_invalid_config_gives_error_and_keeps_connection() -> None:
    async with Emulator() as emu, model_connection(emu.endpoint) as conn:
        await conn.recv()
        for bad in (
            {"input_audio_format": "mp3"},
            {"input_audio_sampling_rate": 22050},
            {"input_audio_format": "g711_alaw", "input_audio_sampling_rate": 16000},
            {"output_audio_format": "flac"},
            {"turn_detection": {"type": "server_vad", "threshold": 7}},
            {"voice": 42},
        ):
            await conn.session.update(session=bad)
            event = await conn.recv()
            assert event.type == "error", bad
            assert event.error.type == "invalid_request_error"
            assert event.error.param.startswith("session.")
        assert emu.sessions[0].config["input_audio_format"] == "pcm16"
        await conn.session.update(session={"input_audio_sampling_rate": 16000})
        ok = await conn.recv()
        assert ok.type == "session.updated"
        assert ok.session["input_audio_sampling_rate"] == 16000
        assert not emu.sessions[0].closed


async def test_wait_for_events_helpers() -> None:
    async with Emulator() as emu, model_connection(emu.endpoint) as conn:
        s = await emu.wait_for_session(timeout=5)
        await conn.session.update(session={"instructions": "x"}, event_id="evt_1")
        received = await s.wait_for_client_event("session.update", timeout=5)
        assert received["event_id"] == "evt_1"
        sent = await s.wait_for_server_event("session.updated", timeout=5)
        assert sent["session"]["instructions"] == "x"
        # Events are returned once each.
        try:
            await s.wait_for_client_event("session.update", timeout=0.05)
        except TimeoutError:
            pass
        else:
            raise AssertionError("the same event was returned twice")
        assert [e["type"] for e in s.sent][:2] == ["session.created", "session.updated"]
