"""Word timestamps (``response.audio_timestamp.*``) and visemes (``response.animation_viseme.*``).

Both through the real SDK, configured as a client would.
"""

from __future__ import annotations

from typing import Any

from azure.ai.voicelive.models import (
    Animation,
    InputTextContentPart,
    RequestSession,
    UserMessageItem,
)

from voiceagent.emulator import Emulator

from .helpers import model_connection, recv_until, types_of

SAID = "Hello there, the weather in Zürich is sunny."


async def _reply(session: RequestSession | None, voice: str = "synthetic") -> list[Any]:
    # The exact-duration checks below are of the synthetic voice (65 ms per character);
    # test_speech.py checks espeak-ng's timings.
    async with (
        Emulator(realtime=False, script=lambda text: SAID, voice=voice) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        if session is not None:
            await conn.session.update(session=session)
            await recv_until(conn, "session.updated")
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="weather?")])
        )
        await conn.response.create()
        return await recv_until(conn, "response.done")


def _audio_ms(events: list[Any]) -> float:
    return sum(len(e.delta) for e in events if e.type == "response.audio.delta") / 48


async def test_word_timestamps_one_per_word_in_audio_time() -> None:
    events = await _reply(RequestSession(output_audio_timestamp_types=["word"]))
    stamps = [e for e in events if e.type == "response.audio_timestamp.delta"]
    assert [s.text for s in stamps] == [
        "Hello", "there", "the", "weather", "in", "Zürich", "is", "sunny"
    ]  # fmt: skip
    assert all(s.timestamp_type == "word" for s in stamps)
    item_id = next(e for e in events if e.type == "response.audio.delta").item_id
    assert {(s.item_id, s.content_index, s.output_index) for s in stamps} == {(item_id, 0, 0)}
    total_ms = _audio_ms(events)
    previous_end = 0
    for stamp in stamps:
        assert isinstance(stamp.audio_offset_ms, int) and isinstance(stamp.audio_duration_ms, int)
        assert stamp.audio_offset_ms >= previous_end  # in order, no overlap
        assert stamp.audio_duration_ms == 65 * len(stamp.text) + (
            65 if stamp.text in ("there", "sunny") else 0  # the punctuation is voiced too
        )
        previous_end = stamp.audio_offset_ms + stamp.audio_duration_ms
    assert previous_end <= total_ms
    # Each word's timestamp goes out with its transcript delta, before the audio passes it.
    sent_ms = 0.0
    for event in events:
        if event.type == "response.audio.delta":
            sent_ms += len(event.delta) / 48
        elif event.type == "response.audio_timestamp.delta":
            assert sent_ms <= event.audio_offset_ms < sent_ms + 100
    names = types_of(events)
    assert names.index("response.audio.done") < names.index("response.audio_timestamp.done")
    assert names.index("response.audio_timestamp.done") < names.index("response.done")


async def test_visemes_over_the_word_timings() -> None:
    events = await _reply(RequestSession(animation=Animation(outputs=["viseme_id"])))
    visemes = [e for e in events if e.type == "response.animation_viseme.delta"]
    assert "response.audio_timestamp.delta" not in types_of(events)
    ids = [v.viseme_id for v in visemes]
    offsets = [v.audio_offset_ms for v in visemes]
    assert all(isinstance(i, int) and 0 <= i <= 21 for i in ids)
    assert offsets == sorted(offsets) and offsets[-1] <= _audio_ms(events)
    assert ids.count(0) == 8  # silence after each of the eight words
    assert ids[-1] == 0 and len(set(ids)) >= 8
    assert ids[:5] == [12, 4, 14, 8, 0]  # h e l(l) o, then silence
    names = types_of(events)
    assert names.index("response.audio.done") < names.index("response.animation_viseme.done")


async def test_no_timestamps_or_visemes_unless_configured() -> None:
    names = types_of(await _reply(None))
    assert not [n for n in names if "timestamp" in n or "viseme" in n]
