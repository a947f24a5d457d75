"""Per-turn latency figures, observed from outside the session.

:class:`MetricsCollector` subscribes to the session's events like any app handler (it is
registered first, so no app handler delays its clock) and never branches inside the core. Per
turn it emits a :class:`~voiceagent.TurnMetrics` (``"voiceagent.metrics"``), appends it to
:class:`SessionMetrics` (``session.metrics``) and to the conversation log.

Where each figure comes from:

* turn start: the end of the user's speech (``input_audio_buffer.speech_stopped``), or the
  moment ``send_text`` sent a typed message that asks for a response (the session tells the
  collector, :meth:`MetricsCollector.typed_message_sent`);
* first audio received: the turn's first ``response.audio.delta``;
* first audio played: the audio backend's ``played_frames(item_id)`` becoming > 0 (read every
  few milliseconds from the first delta on: a device answers only when asked);
* barge-in reaction: ``input_audio_buffer.speech_started`` -> the backend silent: its own
  ``stats.last_flush_silent_at`` when it has one (``SoundDeviceAudio``), else the moment its
  played-frame count for the cut item stopped growing;
* underruns: the difference of ``stats.underruns`` over the turn (backends with ``stats``);
* tool durations: the library's ``voiceagent.tool_call`` events. A turn whose response calls a
  function (``response.function_call_arguments.done``) goes on through the follow-up response:
  "Let me check." + a call, the tool, and the answer are one turn, timed from its start.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..audio.base import ReportsStats
from ..events import BargeIn, ToolCallFinished, TurnMetrics, field_of

if TYPE_CHECKING:
    from ..session.session import VoiceAgentSession

__all__ = ["FIGURES", "MetricsCollector", "SessionMetrics", "percentile"]

log = logging.getLogger("voiceagent.metrics")

FIGURES = ("first_audio_received_ms", "first_audio_played_ms", "barge_in_reaction_ms")
"""The per-turn latencies :meth:`SessionMetrics.summary` gives percentiles of."""

_POLL_S = 0.005  # how often the backend's played count is read while waiting for a change
_PLAY_WAIT_S = 10.0  # give up waiting for the first played frame after this long
_SILENT_AFTER_S = 0.03  # an unchanged played count for this long (> one block) means silence
_STALE_S = 0.1  # a device silence stamp this much older than the barge-in is a previous one


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation; None for no values."""
    data = sorted(values)
    if not data:
        return None
    rank = (len(data) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return data[low] + (data[high] - data[low]) * (rank - low)


@dataclass
class SessionMetrics:
    """Every turn's figures of one session, with totals and percentiles.

    Attributes:
        turns: One :class:`~voiceagent.TurnMetrics` per finished turn, in order.
    """

    turns: list[TurnMetrics] = field(default_factory=list)

    def values(self, figure: str) -> list[float]:
        """The non-None values of ``figure`` (a :class:`TurnMetrics` field) over the turns."""
        return [v for t in self.turns if (v := getattr(t, figure)) is not None]

    def summary(self) -> dict[str, Any]:
        """Totals and, per latency figure and for tools, count/mean/p50/p90/p95/max in ms."""
        tools = [ms for t in self.turns for _, ms in t.tool_durations_ms]
        underruns = [t.underruns for t in self.turns if t.underruns is not None]
        out: dict[str, Any] = {
            "turns": len(self.turns),
            "barge_ins": sum(1 for t in self.turns if t.interrupted),
            "underruns": sum(underruns) if underruns else None,
            "tool_calls": len(tools),
        }
        for name, values in [*((f, self.values(f)) for f in FIGURES), ("tool_ms", tools)]:
            out[name] = _stats(values)
        return out

    def format(self) -> str:
        """The summary as a few human-readable lines (what ``voiceagent run --metrics`` prints)."""
        s = self.summary()
        lines = [
            f"turns: {s['turns']}  barge-ins: {s['barge_ins']}  tool calls: {s['tool_calls']}"
            + (f"  underruns: {s['underruns']}" if s["underruns"] is not None else "")
        ]
        labels = {
            "first_audio_received_ms": "speech end -> first audio received",
            "first_audio_played_ms": "speech end -> first audio played",
            "barge_in_reaction_ms": "barge-in -> playback silent",
            "tool_ms": "tool duration",
        }
        for key, label in labels.items():
            st = s[key]
            if st["count"]:
                lines.append(
                    f"{label}: p50 {st['p50']:.0f} ms, p90 {st['p90']:.0f} ms, "
                    f"max {st['max']:.0f} ms (n={st['count']})"
                )
        return "\n".join(lines)


def _stats(values: list[float]) -> dict[str, float | int | None]:
    return {
        "count": len(values),
        "mean": sum(values) / len(values) if values else None,
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "max": max(values) if values else None,
    }


@dataclass
class _Turn:
    number: int
    speech_stopped_at: float | None
    user_item_id: str | None = None
    item_id: str | None = None
    response_id: str | None = None
    received_at: float | None = None
    played_at: float | None = None
    barge_in_reaction_ms: float | None = None
    truncated_at_ms: int | None = None
    underruns_at_start: int | None = None
    tools: list[tuple[str, float]] = field(default_factory=list)
    follow_up_due: bool = False  # a function was called: the answer comes in a later response
    interrupted: bool = False
    watcher: asyncio.Task[None] | None = None


def _stats_of(audio: object) -> Any:
    """The backend's counters when it declares them (:class:`~voiceagent.audio.ReportsStats`)."""
    return audio.stats if isinstance(audio, ReportsStats) else None


def _ms(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round((end - start) * 1000.0, 1)


class MetricsCollector:
    """Turns the session's events into :class:`TurnMetrics` (see the module docstring).

    Args:
        session: The session to observe; the collector subscribes at once.
        clock: Seconds on the clock of ``stats.last_flush_silent_at`` (``time.monotonic``).
    """

    def __init__(
        self, session: VoiceAgentSession, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._session = session
        self._clock = clock
        self.metrics = SessionMetrics()
        self._turn: _Turn | None = None
        self._count = 0
        on = session.on
        on("input_audio_buffer.speech_stopped", self._speech_stopped)
        on("response.created", self._response_created)
        on("response.function_call_arguments.done", self._function_called)
        on("response.done", self._response_done)
        on("voiceagent.barge_in", self._barge_in)
        on("voiceagent.playback_finished", self._playback_finished)
        on("voiceagent.tool_call", self._tool_call)
        on("voiceagent.closed", self._closed)

    # --- events --------------------------------------------------------------------------

    def _speech_stopped(self, event: Any) -> None:
        now = self._clock()
        if self._turn is not None:
            self._finish(self._turn)
        item_id = field_of(event, "item_id")
        self._turn = self._open(now, item_id if isinstance(item_id, str) else None)

    def typed_message_sent(self, item_id: str) -> None:
        """``send_text`` sent a typed message and asked for a response: a turn starts now.

        Called by the session right after the send, before the service can answer.
        """
        now = self._clock()
        if self._turn is not None:
            self._finish(self._turn)
        self._turn = self._open(now, item_id)

    def _response_created(self, event: Any) -> None:
        if self._turn is None:
            self._turn = self._open(None, None)  # a greeting, or a response nobody asked for
        else:
            self._turn.follow_up_due = False  # this is the follow-up (or the turn's first)

    def _function_called(self, event: Any) -> None:
        # Before the response's done and before the speaker's "finished" for its audio (the
        # session hands events over in order): the filler must not end the turn.
        if self._turn is not None:
            self._turn.follow_up_due = True

    def _audio_delta(self, event: Any) -> None:
        # Subscribed only while a turn waits for its first audio: the other deltas of a reply
        # never pay for the SDK's typed event.
        self._session.off("response.audio.delta", self._audio_delta)
        turn = self._turn
        if turn is None or turn.received_at is not None:
            return
        turn.received_at = self._clock()
        item_id = field_of(event, "item_id")
        response_id = field_of(event, "response_id")
        turn.item_id = item_id if isinstance(item_id, str) else None
        turn.response_id = response_id if isinstance(response_id, str) else None
        if turn.item_id is not None:
            turn.watcher = self._session.create_task(
                self._watch_first_played(turn), name="metrics-first-played"
            )

    def _response_done(self, event: Any) -> None:
        turn = self._turn
        if turn is None or turn.received_at is not None or turn.follow_up_due:
            return
        output = field_of(event, "response", "output") or []
        calls = [o for o in output if field_of(o, "type") == "function_call"]
        if not calls and field_of(event, "response", "status") != "in_progress":
            self._finish(turn)  # text only, or nothing: no audio will come in this turn

    def _barge_in(self, event: BargeIn) -> None:
        turn = self._turn
        if turn is None:
            return
        turn.interrupted = True
        if event.truncated:
            turn.truncated_at_ms = event.played_ms
        self._turn = None
        # The session flushes playback and emits this event the moment speech_started arrives
        # (before handing speech_started itself to handlers): now is when the user spoke.
        self._session.create_task(
            self._measure_reaction(turn, event.item_id, self._clock()), name="metrics-barge-in"
        )

    def _playback_finished(self, event: Any) -> None:
        turn = self._turn
        if turn is not None and turn.received_at is not None and not turn.follow_up_due:
            self._finish(turn)

    def _tool_call(self, event: ToolCallFinished) -> None:
        if self._turn is not None:
            self._turn.tools.append((event.name, round(event.duration_ms, 1)))

    def _closed(self, event: Any) -> None:
        if self._turn is not None:
            self._finish(self._turn)

    # --- measuring -----------------------------------------------------------------------

    def _open(self, speech_stopped_at: float | None, user_item_id: str | None) -> _Turn:
        self._count += 1
        self._session.off("response.audio.delta", self._audio_delta)
        self._session.on("response.audio.delta", self._audio_delta)
        return _Turn(
            self._count, speech_stopped_at, user_item_id, underruns_at_start=self._underruns()
        )

    def _underruns(self) -> int | None:
        value = field_of(_stats_of(self._session.audio), "underruns")
        return value if isinstance(value, int) else None

    async def _watch_first_played(self, turn: _Turn) -> None:
        audio = self._session.audio
        item_id = turn.item_id
        if audio is None or item_id is None:
            return
        deadline = self._clock() + _PLAY_WAIT_S
        # A device has no "started playing" callback: its per-item count is read until it moves.
        while audio.played_frames(item_id) <= 0:
            if self._clock() > deadline or turn.interrupted:
                return
            await asyncio.sleep(_POLL_S)
        turn.played_at = self._clock()

    async def _measure_reaction(
        self, turn: _Turn, item_id: str | None, started_at: float | None
    ) -> None:
        try:
            turn.barge_in_reaction_ms = await self._reaction(item_id, started_at)
        finally:
            if turn.watcher is not None and turn.watcher.done() is False:
                await asyncio.wait([turn.watcher], timeout=0.5)
            self._finish(turn)

    async def _reaction(self, item_id: str | None, started_at: float | None) -> float | None:
        audio = self._session.audio
        if audio is None or started_at is None:
            return None
        silent = field_of(_stats_of(audio), "last_flush_silent_at")
        if isinstance(silent, float):
            # The device stamps the first block after the flush once it has handed it over;
            # a stamp older than this barge-in (with a margin for the dispatch) is a past one.
            deadline = self._clock() + 0.5
            while silent < started_at - _STALE_S:
                if self._clock() > deadline:
                    return None
                await asyncio.sleep(_POLL_S)
                silent = field_of(_stats_of(audio), "last_flush_silent_at")
                silent = silent if isinstance(silent, float) else -math.inf
            return _ms(started_at, max(silent, started_at))
        if item_id is None:
            return None
        last = audio.played_frames(item_id)
        changed_at = self._clock()
        while self._clock() - changed_at < _SILENT_AFTER_S:
            await asyncio.sleep(_POLL_S)
            now = audio.played_frames(item_id)
            if now != last:
                last, changed_at = now, self._clock()
        return _ms(started_at, max(changed_at, started_at))

    def _finish(self, turn: _Turn) -> None:
        if self._turn is turn:
            self._turn = None
        if turn.watcher is not None and not turn.watcher.done():
            turn.watcher.cancel()
            audio = self._session.audio
            if audio is not None and turn.item_id and audio.played_frames(turn.item_id) > 0:
                turn.played_at = self._clock()  # played since the last read (< one poll ago)
        underruns = self._underruns()
        figures = TurnMetrics(
            turn=turn.number,
            user_item_id=turn.user_item_id,
            item_id=turn.item_id,
            response_id=turn.response_id,
            first_audio_received_ms=_ms(turn.speech_stopped_at, turn.received_at),
            first_audio_played_ms=_ms(turn.speech_stopped_at, turn.played_at),
            barge_in_reaction_ms=turn.barge_in_reaction_ms,
            truncated_at_ms=turn.truncated_at_ms,
            underruns=(
                underruns - turn.underruns_at_start
                if underruns is not None and turn.underruns_at_start is not None
                else None
            ),
            tool_durations_ms=tuple(turn.tools),
            interrupted=turn.interrupted,
        )
        self.metrics.turns.append(figures)
        self._session.log.add_metrics({"kind": "metrics", **asdict(figures)})
        self._session.publish(figures)
        log.debug("turn %d metrics: %s", figures.turn, figures)
