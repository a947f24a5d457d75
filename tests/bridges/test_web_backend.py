"""WebAudioBackend on its own: what goes to the page, and what "played" means."""

from __future__ import annotations

import asyncio
import json

import pytest

from voiceagent.audio.base import AcknowledgedFlush, NativeFormatBackend, native_format_of
from voiceagent.bridges.web import FrameError, WebAudioBackend, WebLimits, read_asset


class Listener:
    def __init__(self) -> None:
        self.input: list[bytes] = []
        self.idle = 0
        self.closed: list[str] = []

    def on_input(self, pcm: bytes) -> None:
        self.input.append(pcm)

    def on_playback_idle(self) -> None:
        self.idle += 1

    def on_closed(self, reason: str) -> None:
        self.closed.append(reason)

    def on_error(self, exc: BaseException) -> None:
        raise AssertionError(exc)


async def started(limits: WebLimits | None = None) -> tuple[WebAudioBackend, Listener]:
    page, listener = WebAudioBackend(limits), Listener()
    fmt = native_format_of(page)
    assert fmt is not None
    await page.start(fmt, listener)
    return page, listener


async def drain(page: WebAudioBackend) -> list[bytes | str]:
    page.finish()
    out = []
    while (m := await page.next_outgoing()) is not None:
        out.append(m)
    return out


async def test_it_declares_pcm16_24k_passthrough_and_an_acknowledged_flush() -> None:
    page = WebAudioBackend()
    assert isinstance(page, NativeFormatBackend) and isinstance(page, AcknowledgedFlush)
    assert (page.native_format.encoding, page.native_format.sample_rate) == ("pcm16", 24000)


async def test_audio_is_announced_per_item_and_played_is_what_the_page_reports() -> None:
    page, listener = await started()
    page.play("a", bytes(960))
    page.play("a", bytes(960))
    page.play("b", bytes(480))
    assert page.is_playing
    assert page.played_frames("a") == 0  # sent is not played
    page.receive_text(json.dumps({"type": "played", "frames": {"a": 700}, "received": 700}))
    page.receive_text(json.dumps({"type": "played", "frames": {"a": 500}, "received": 500}))
    assert page.played_frames("a") == 700  # cumulative: a late, older report changes nothing
    early = {"type": "played", "frames": {"a": 960, "b": 40}, "received": 1000, "idle": True}
    page.receive_text(json.dumps(early))  # idle, but audio is still on its way to the page
    assert page.is_playing and listener.idle == 0
    done = {"type": "played", "frames": {"a": 960, "b": 240}, "received": 1200, "idle": True}
    page.receive_text(json.dumps(done))
    assert not page.is_playing and listener.idle == 1
    out = await drain(page)
    assert out[:2] == ['{"type":"audio","item_id":"a"}', bytes(960)]
    assert out[3:5] == ['{"type":"audio","item_id":"b"}', bytes(480)]


async def test_flush_drops_unsent_audio_sends_clear_and_waits_for_the_pages_counts() -> None:
    page, _ = await started()
    page.play("a", bytes(9600))
    page.send_control('{"type":"state","state":"agent_speaking"}')
    page.flush()
    waiting = asyncio.ensure_future(page.wait_flush_acknowledged())
    await asyncio.sleep(0)
    assert not waiting.done()
    page.receive_text(json.dumps({"type": "played", "seq": 0, "frames": {"a": 4000}}))
    assert not waiting.done()  # a report from before the clear is not its answer
    page.receive_text(json.dumps({"type": "cleared", "seq": 1, "frames": {"a": 1234}}))
    await asyncio.wait_for(waiting, 1)
    assert page.played_frames("a") == 4000  # the highest count the page reported
    out = await drain(page)
    assert not any(isinstance(m, bytes) for m in out)  # nothing queued survives a flush
    assert out[-1] == '{"type":"clear","seq":1}' and not page.is_playing


async def test_microphone_frames_are_checked() -> None:
    page, listener = await started(WebLimits(max_frame_bytes=960))
    page.receive_binary(bytes(960))
    assert listener.input == [bytes(960)]
    for bad in (bytes(962), bytes(3)):
        with pytest.raises(FrameError):
            page.receive_binary(bad)
    for text in ("nope", "{}", '{"type":"played","received":-1}', '{"type":"cleared","seq":"x"}'):
        with pytest.raises(FrameError):
            page.receive_text(text)
    assert listener.input == [bytes(960)]


async def test_the_socket_going_tells_the_session_and_a_reader_that_stops_is_cut_off() -> None:
    page, listener = await started()
    page.peer_closed("the tab closed")
    assert listener.closed == ["the tab closed"]
    assert await page.next_outgoing() is None
    await asyncio.wait_for(page.wait_flush_acknowledged(), 1)
    slow, slow_listener = await started(WebLimits(max_queued_bytes=10_000))
    for _ in range(20):
        slow.play("a", bytes(960))  # nobody drains the queue
    assert slow_listener.closed == ["the page stopped reading its audio"]


def test_the_page_files_are_package_data() -> None:
    body, content_type = read_asset("playback-worklet.js")
    assert b"registerProcessor" in body and content_type.startswith("text/javascript")
    with pytest.raises(KeyError):
        read_asset("../page.py")
