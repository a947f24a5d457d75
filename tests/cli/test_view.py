"""The console's view, driven by the events a session emits (no session needed)."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace as Event

from rich.console import Console

from voiceagent import AudioFormat, MemoryAudio
from voiceagent.cli.meter import SILENT_DBFS, MeteredAudio, dbfs
from voiceagent.cli.view import ConsoleView


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _view(live: bool) -> tuple[ConsoleView, io.StringIO, Clock]:
    out = io.StringIO()
    clock = Clock()
    view = ConsoleView(Console(file=out, width=100), live=live, clock=clock)
    return view, out, clock


def test_states_captions_latency_and_interruptions() -> None:
    view, _, clock = _view(live=True)
    assert view.state == "connecting"
    view._ready(Event(session_id="sess_1", conversation_id="conv_1"))
    assert view.state == "listening"
    view._speech_started(Event(item_id="u1"))
    assert view.state == "user speaking"
    view._user_delta(Event(item_id="u1", delta="what time "))
    view._user_delta(Event(item_id="u1", delta="is it"))
    view._speech_stopped(Event(item_id="u1"))
    assert view.state == "thinking"
    view._response_created(Event())
    clock.now += 0.64
    view._audio_delta(Event(item_id="a1"))
    assert view.state == "agent speaking" and view.latency_ms == 640
    view._agent_delta(Event(item_id="a1", delta="It is noon and"))
    view._barge_in(Event(item_id="a1", played_ms=300))
    view._turn(Event(role="assistant", text="It is", item_id="a1", interrupted=True))
    view._playback_finished(Event(item_id="a1"))
    assert view.state == "listening"
    view._reconnecting(Event(attempt=1, reason="code 1006"))
    assert view.state == "reconnecting"
    assert view.captions["u1"].text == "what time is it"
    assert view.captions["a1"].interrupted and view.captions["a1"].text == "It is"
    screen = io.StringIO()
    Console(file=screen, width=100).print(view.render())
    text = screen.getvalue()
    assert "reconnecting" in text and "what time is it" in text and "interrupted" in text
    assert "turn latency 640 ms" in text


def test_plain_lines_when_not_a_terminal() -> None:
    view, out, _ = _view(live=False)
    with view:
        view._ready(Event(session_id="sess_1", conversation_id=None))
        view.typed("hello")
        view._turn(Event(role="user", text="hello", item_id="i1", interrupted=False))
        view._barge_in(Event(item_id="a1", played_ms=250))
        view._turn(Event(role="assistant", text="Hi", item_id="a1", interrupted=True))
    assert out.getvalue().splitlines() == [
        "connected: session sess_1",
        "user: hello",
        "(interrupted: the user heard 250 ms of the agent)",
        "agent: Hi [interrupted]",
    ]
    assert "\x1b[" not in out.getvalue()
    assert list(view.captions) == ["typed-1", "a1"]  # the typed line is not shown twice


def test_meter_measures_the_microphone_and_passes_everything_on() -> None:
    assert dbfs(b"") == SILENT_DBFS and dbfs(bytes(960)) == SILENT_DBFS
    full = (b"\xff\x7f\x01\x80") * 240  # +/- full scale
    assert -0.1 < dbfs(full) <= 0.0

    async def scenario() -> None:
        inner = MemoryAudio(speed=20.0, silence_when_idle=False)  # the last block is speech
        meter = MeteredAudio(inner)
        got: list[bytes] = []
        ready = asyncio.Event()

        class Listener:
            def on_input(self, pcm: bytes) -> None:
                got.append(pcm)

            def on_playback_idle(self) -> None:
                pass

            async def wait_ready(self) -> None:
                await ready.wait()

        inner.feed(full * 10)
        await meter.start(AudioFormat(), Listener())
        assert inner.ticks == 0 and got == []  # it waits for the session, through the meter
        ready.set()
        await inner.wait_input_consumed(timeout=5)
        await meter.stop()
        assert got and meter.level_dbfs > -1.0

    asyncio.run(scenario())
