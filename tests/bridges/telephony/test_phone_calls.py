"""Phone calls end to end: fake carrier -> aiohttp -> TelephonyBackend -> session -> emulator."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from phone_server import phone_server

from session_helpers import TOKEN, user_speech
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.testing.carriers import FakeAcsCall, FakeTwilioCall

pytestmark = pytest.mark.usefixtures("clean_env")

LONG_REPLY = "Let me tell you a rather long story about the weather in Paris and London. " * 3


def future_of(session: Any, event: str) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    session.once(event, lambda e: fut.done() or fut.set_result(e))
    return fut


async def test_twilio_reply_is_heard_as_the_services_ulaw_untouched() -> None:
    reply = "It is sunny in Paris today."
    script = AgentScript(rules=[("weather", reply)])
    async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
        emu.script.user_says("what is the weather like")
        async with phone_server(emu, "twilio") as server, FakeTwilioCall(server.url) as call:
            session, backend = await asyncio.wait_for(server.calls.get(), 10)
            finished = future_of(session, "voiceagent.playback_finished")
            await call.speak(user_speech("what is the weather like"))
            await asyncio.wait_for(finished, 20)
            emu_session = await emu.wait_for_session(timeout=5)
            sent = b"".join(
                base64.b64decode(e["delta"])
                for e in emu_session.sent
                if e["type"] == "response.audio.delta"
            )
            assert emu_session.config["input_audio_format"] == "g711_ulaw"
            assert emu_session.config["output_audio_format"] == "g711_ulaw"
            # every byte the service sent reached the caller's ear, unchanged, in order
            assert len(sent) > 8000 and bytes(call.played) == sent
            item_id = next(t.item_id for t in session.log.turns if t.role == "assistant")
            assert backend.played_frames(item_id or "") == len(sent)
        turns = [(t.role, t.text, t.interrupted) for t in session.log.turns]
        assert ("assistant", reply, False) in turns


@pytest.mark.parametrize("provider", ["twilio", "acs"])
async def test_barge_in_clears_the_line_and_truncates_at_what_the_caller_heard(
    provider: str,
) -> None:
    # the service sends audio faster than real time: the whole reply waits at the bridge (ACS)
    # or in the carrier's buffer (Twilio) when the caller speaks over it
    script = AgentScript(default=LONG_REPLY)
    async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
        emu.script.user_says("tell me a story", "stop")
        fake = FakeTwilioCall if provider == "twilio" else FakeAcsCall
        # Twilio's marks see through a deep carrier buffer; ACS acknowledges nothing, so its
        # count is right only while the carrier's own buffer stays within the lead (80 ms)
        depth_ms = 300 if provider == "twilio" else 20
        async with (
            phone_server(emu, provider) as server,
            fake(server.url, depth_ms=depth_ms, jitter_ms=20) as call,
        ):
            session, backend = await asyncio.wait_for(server.calls.get(), 10)
            barge = future_of(session, "voiceagent.barge_in")
            emu_session = await emu.wait_for_session(timeout=5)
            await call.speak(user_speech("tell me a story"))
            await call.wait_played(1500, timeout=20)
            speaking = asyncio.create_task(call.speak(user_speech("stop")))  # over the agent
            event = await asyncio.wait_for(barge, 10)
            truncate = await emu_session.wait_for_client_event(
                "conversation.item.truncate", timeout=5
            )
            clear = "clear" if provider == "twilio" else "StopAudio"
            await call.wait_for_message(
                lambda m: clear in (m.get("event"), m.get("Kind")), timeout=5
            )
            heard_ms = call.clears[0] * 1000 / call.bytes_per_frame / call.rate
            played_after = len(call.played)
            await call.wait_ticks(15)  # the reply goes on streaming from the service meanwhile
            speaking.cancel()
        # the line went silent at the clear: nothing queued before it was played after it
        assert len(call.played) == played_after == call.clears[0]
        # the history holds what the carrier played
        assert truncate["item_id"] == event.item_id
        print(f"{provider}: truncated at {truncate['audio_end_ms']} ms, heard {heard_ms:.0f} ms")
        # Twilio: within one mark interval (100 ms) plus the clear's trip to the carrier (one
        # 20 ms tick); ACS: well inside the lead (80 ms), which counting "sent" would overshoot by
        tolerance = 120 if provider == "twilio" else 50
        assert abs(truncate["audio_end_ms"] - heard_ms) <= tolerance, (truncate, heard_ms)
        heard = next(t for t in session.log.turns if t.role == "assistant")
        assert heard.interrupted and 0 < len(heard.text) < len(LONG_REPLY.strip())
        conv = emu.conversations[session.conversation_id or ""]
        stored = next(i for i in conv.items if i.get("id") == event.item_id)
        assert json.dumps(stored).count("rather long story") <= 1


@pytest.mark.parametrize("provider", ["twilio", "acs"])
async def test_the_caller_hanging_up_closes_the_session(provider: str) -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        fake = FakeTwilioCall if provider == "twilio" else FakeAcsCall
        async with phone_server(emu, provider) as server:
            call = fake(server.url)
            await call.__aenter__()
            session, _ = await asyncio.wait_for(server.calls.get(), 10)
            closed = future_of(session, "voiceagent.closed")
            await asyncio.wait_for(future_of(session, "voiceagent.session_ready"), 10)
            await call.hang_up()
            event = await asyncio.wait_for(closed, 10)
        assert event.error is None
        expected = "the caller hung up" if provider == "twilio" else "closed the media stream"
        assert expected in event.reason


@pytest.mark.parametrize("provider", ["twilio", "acs"])
async def test_the_session_ending_hangs_up_the_call(provider: str) -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        fake = FakeTwilioCall if provider == "twilio" else FakeAcsCall
        async with phone_server(emu, provider) as server, fake(server.url) as call:
            session, _ = await asyncio.wait_for(server.calls.get(), 10)
            await emu.wait_for_session(timeout=5)
            await session.aclose()
            await call.wait_closed_by_server(timeout=5)


@pytest.mark.parametrize("provider", ["twilio", "acs"])
async def test_dtmf_reaches_the_sessions_handlers(provider: str) -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        fake = FakeTwilioCall if provider == "twilio" else FakeAcsCall
        async with phone_server(emu, provider) as server, fake(server.url) as call:
            session, _ = await asyncio.wait_for(server.calls.get(), 10)
            pressed = future_of(session, "voiceagent.dtmf")
            await emu.wait_for_session(timeout=5)
            await call.press("7")
            event = await asyncio.wait_for(pressed, 5)
        assert event.digit == "7"


async def test_a_stream_the_server_did_not_answer_is_refused_without_a_session() -> None:
    async with Emulator(token=TOKEN, realtime=False) as emu:
        minted = {"token": "one-time-SECRET"}

        def check(call: Any, request: Any) -> bool:
            return call.custom_parameters.get("token") == minted["token"]

        async with phone_server(emu, "twilio", check=check) as server:
            async with FakeTwilioCall(server.url, parameters={"token": "forged"}) as call:
                await call.wait_closed_by_server(timeout=5)
            assert server.calls.empty()  # no session, no service connection
            async with FakeTwilioCall(server.url, parameters=minted) as call:
                session, _ = await asyncio.wait_for(server.calls.get(), 10)
                await asyncio.wait_for(future_of(session, "voiceagent.session_ready"), 10)
