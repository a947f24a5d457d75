"""What ``voiceagent run`` shows: a live view on a terminal, plain lines otherwise.

The view only listens to the session's public events; it never drives the session. States:
connecting, listening, user speaking, thinking, agent speaking, reconnecting, closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .meter import SILENT_DBFS, MeteredAudio

__all__ = ["STATES", "Caption", "ConsoleView"]

STATES = (
    "connecting",
    "listening",
    "user speaking",
    "thinking",
    "agent speaking",
    "reconnecting",
    "closed",
)

_STYLE = {
    "connecting": "yellow",
    "listening": "green",
    "user speaking": "bold cyan",
    "thinking": "magenta",
    "agent speaking": "bold blue",
    "reconnecting": "bold red",
    "closed": "dim",
}
_CAPTIONS_SHOWN = 8
_METER_CELLS = 20


@dataclass
class Caption:
    """One side's words for one conversation item, growing while spoken."""

    role: str
    text: str = ""
    final: bool = False
    interrupted: bool = False


class ConsoleView:
    """Renders a session for a person: live (rich) on a terminal, line by line otherwise.

    Args:
        console: Where to write.
        live: Draw the live view (a terminal) instead of plain lines.
        meter: The microphone meter to show, if the microphone is metered.
        title: The first line: who the console talks to.
        clock: Monotonic clock in seconds (replaceable in tests).
    """

    def __init__(
        self,
        console: Console,
        *,
        live: bool,
        meter: MeteredAudio | None = None,
        title: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.live = live
        self.meter = meter
        self.title = title
        self.state = "connecting"
        self.latency_ms: int | None = None
        self.notes: list[str] = []
        self.captions: dict[str, Caption] = {}
        self._clock = clock
        self._asked_at: float | None = None
        self._live: Live | None = None
        self._typed = 0

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ConsoleView:
        if self.live:
            self._live = Live(
                get_renderable=self.render,
                console=self.console,
                refresh_per_second=12,
                transient=False,
            )
            self._live.start()
        elif self.title:
            self._line(self.title)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None

    def attach(self, session: Any) -> None:
        """Subscribe to the session's events."""
        on = session.on
        on("voiceagent.session_ready", self._ready)
        on("input_audio_buffer.speech_started", self._speech_started)
        on("input_audio_buffer.speech_stopped", self._speech_stopped)
        on("conversation.item.input_audio_transcription.delta", self._user_delta)
        on("response.created", self._response_created)
        on("response.audio.delta", self._audio_delta)
        on("response.audio_transcript.delta", self._agent_delta)
        on("response.done", self._response_done)
        on("voiceagent.barge_in", self._barge_in)
        on("voiceagent.playback_finished", self._playback_finished)
        on("voiceagent.turn", self._turn)
        on("voiceagent.reconnecting", self._reconnecting)
        on("voiceagent.reconnected", self._reconnected)

    # --- what the app tells the view -------------------------------------------------------

    def note(self, text: str) -> None:
        """A status message (connected, reconnecting, errors)."""
        self.notes = [*self.notes[-2:], text]
        if not self.live:
            self._line(text)

    def typed(self, text: str) -> None:
        """The user typed ``text`` (text mode): a reply is now awaited."""
        self._typed += 1
        self.captions[f"typed-{self._typed}"] = Caption("user", text, final=True)
        self._set_state("thinking")
        self._asked_at = self._clock()

    def closed(self) -> None:
        """The session has closed."""
        self._set_state("closed")

    # --- event handlers --------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        self.state = state

    def _ready(self, event: Any) -> None:
        self._set_state("listening")
        conversation = f", conversation {event.conversation_id}" if event.conversation_id else ""
        self.note(f"connected: session {event.session_id}{conversation}")

    def _speech_started(self, event: Any) -> None:
        self._set_state("user speaking")
        item = getattr(event, "item_id", None) or "user-speech"
        self.captions.setdefault(item, Caption("user"))

    def _speech_stopped(self, event: Any) -> None:
        self._set_state("thinking")
        self._asked_at = self._clock()

    def _user_delta(self, event: Any) -> None:
        caption = self.captions.setdefault(event.item_id, Caption("user"))
        caption.text += event.delta or ""

    def _response_created(self, event: Any) -> None:
        if self.state != "agent speaking":
            self._set_state("thinking")
        if self._asked_at is None:
            self._asked_at = self._clock()

    def _audio_delta(self, event: Any) -> None:
        if self._asked_at is not None:
            self.latency_ms = round((self._clock() - self._asked_at) * 1000)
            self._asked_at = None
        if self.state != "user speaking":
            self._set_state("agent speaking")

    def _agent_delta(self, event: Any) -> None:
        caption = self.captions.setdefault(event.item_id, Caption("agent"))
        if not caption.final:
            caption.text += event.delta or ""

    def _response_done(self, event: Any) -> None:
        self._asked_at = None
        if self.state == "thinking":
            self._set_state("listening")

    def _barge_in(self, event: Any) -> None:
        if event.item_id in self.captions:
            self.captions[event.item_id].interrupted = True
        if not self.live:
            self._line(f"(interrupted: the user heard {event.played_ms} ms of the agent)")

    def _playback_finished(self, event: Any) -> None:
        if self.state == "agent speaking":
            self._set_state("listening")

    def _turn(self, turn: Any) -> None:
        role = "user" if turn.role == "user" else "agent"
        key = turn.item_id or f"turn-{len(self.captions)}"
        if role == "user" and key not in self.captions:
            typed = [k for k, c in self.captions.items() if k.startswith("typed-")]
            if typed and self.captions[typed[-1]].text == turn.text:
                key = typed[-1]
        caption = self.captions.setdefault(key, Caption(role))
        caption.text, caption.final = turn.text, True
        caption.interrupted = caption.interrupted or bool(turn.interrupted)
        if not self.live:
            mark = " [interrupted]" if turn.interrupted else ""
            self._line(f"{role}: {turn.text}{mark}")

    def _reconnecting(self, event: Any) -> None:
        self._set_state("reconnecting")
        self.note(f"reconnecting (attempt {event.attempt}): {event.reason}")

    def _reconnected(self, event: Any) -> None:
        self._set_state("listening")
        self.note("reconnected")

    # --- drawing ---------------------------------------------------------------------------

    def _line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def meter_bar(self) -> Text:
        """The microphone level as a bar of cells, with its value in dBFS."""
        level = self.meter.level_dbfs if self.meter is not None else SILENT_DBFS
        cells = round(max(0.0, min(1.0, (level + 60.0) / 60.0)) * _METER_CELLS)
        bar = Text("mic ")
        bar.append("█" * cells, style="green" if cells < 16 else "red")
        bar.append("·" * (_METER_CELLS - cells), style="dim")
        bar.append(f" {level:5.0f} dBFS" if level > SILENT_DBFS else "  silent  ")
        return bar

    def render(self) -> RenderableType:
        """The live view: title, status line, captions."""
        status = Text()
        status.append("● ", style=_STYLE.get(self.state, ""))
        status.append(f"{self.state:<15}", style=_STYLE.get(self.state, ""))
        if self.meter is not None:
            status.append("  ")
            status.append(self.meter_bar())
        if self.latency_ms is not None:
            status.append(f"   turn latency {self.latency_ms} ms", style="dim")
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right", style="bold", no_wrap=True)
        table.add_column()
        for caption in list(self.captions.values())[-_CAPTIONS_SHOWN:]:
            words = Text(caption.text or "…", style="" if caption.final else "italic")
            if caption.interrupted:
                words.append("  ⏹ interrupted", style="bold red")
            table.add_row(
                Text(caption.role, style="cyan" if caption.role == "user" else "blue"), words
            )
        parts: list[RenderableType] = []
        if self.title:
            parts.append(Text(self.title, style="bold"))
        parts.extend(Text(note, style="dim") for note in self.notes)
        parts.append(status)
        parts.append(table)
        if self.state != "closed":
            parts.append(Text("Ctrl+C to stop", style="dim"))
        return Group(*parts)
