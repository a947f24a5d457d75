"""What the user hears: assistant audio to the speaker, barge-in, and the turns it closes.

:class:`Playback` drives the audio backend's output side and the :class:`~.turns.TurnTracker`.
The receiver calls it for ``response.audio.delta``, ``speech_started`` and ``response.done``;
the backend calls it when the speaker runs dry; the session calls it when the conversation stops
(close or drop). Whatever it learns about a turn goes to the log through :class:`TurnSink`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from ..audio.base import AcknowledgedFlush, AudioBackend
from ..audio.codec import OutputDecoder
from ..conversation import Turn
from ..events import BargeIn, LibraryEvent, PlaybackFinished
from ..voicelive.wire import ConnectionLost, Wire
from .bargein import BargeInPlan, BargeInPolicy
from .receive import ServiceView
from .turns import TurnTracker

__all__ = ["Playback", "TurnSink"]

log = logging.getLogger("voiceagent.session")

_CLOSE_SEND_TIMEOUT_S = 0.5
FLUSH_ACK_TIMEOUT_S = 0.5
"""How long a barge-in waits for an :class:`~voiceagent.audio.AcknowledgedFlush` peer's count."""
_CUT_ON_CLOSE = BargeInPolicy(cancel_response="always", truncate=True)


class TurnSink(Protocol):
    """Where playback reports (the session: its log and its event queue)."""

    def log_turns(self, turns: list[Turn]) -> None:
        """Add finished turns to the conversation log (and tell the handlers)."""

    def emit(self, event: LibraryEvent) -> None:
        """Queue a library event for the handlers."""


def _nothing_played(item_id: str) -> int:
    return 0


class Playback:
    """The assistant's voice, from the wire to the speaker, and what became of it.

    Args:
        tracker: The owner of every assistant item's state.
        decoder: Wire audio to device PCM.
        policy: What to do on a barge-in.
        service: What the service said about interrupting and truncating.
        wire: Gives the current connection (None while reconnecting).
        sink: Where turns and events go.
    """

    def __init__(
        self,
        tracker: TurnTracker,
        decoder: OutputDecoder,
        policy: BargeInPolicy,
        service: ServiceView,
        wire: Callable[[], Wire | None],
        sink: TurnSink,
    ) -> None:
        self.tracker = tracker
        self.decoder = decoder
        self.policy = policy
        self.audio: AudioBackend | None = None
        self._service = service
        self._wire = wire
        self._sink = sink

    def _played(self) -> Callable[[str], int]:
        return self.audio.played_frames if self.audio is not None else _nothing_played

    # --- from the service ----------------------------------------------------------------

    def play(self, item_id: str, response_id: str | None, wire_audio: bytes) -> None:
        """``response.audio.delta``: to the backend at once."""
        audio = self.audio
        if audio is None:
            return
        pcm = self.decoder.decode(wire_audio)  # untouched for a native format backend
        frames = len(pcm) // self.decoder.device_bytes_per_frame
        if self.tracker.audio_received(item_id, response_id, frames):
            audio.play(item_id, pcm)

    async def response_done(self, response_id: str | None, output_ids: list[str]) -> None:
        """``response.done``: delete unheard items, log what can be logged."""
        outcome = self.tracker.response_done(response_id, output_ids)
        wire = self._wire()
        try:
            if wire is not None:
                for item_id in outcome.delete:
                    await wire.delete_item(item_id)
        except ConnectionLost:
            log.debug("connection lost while deleting an unheard item")
        finally:  # the tracker gave these up: logged even if the send is cancelled (a close)
            self._sink.log_turns(outcome.turns)
        audio = self.audio
        if outcome.awaiting_playback and audio is not None and not audio.is_playing:
            self._finished()  # the last audio was already played when this arrived

    async def barge_in(self) -> None:
        """``speech_started``: stop the agent's voice first, then fix the history."""
        audio = self.audio
        if not self.policy.enabled or audio is None:
            return
        audio.flush()  # first: the agent stops within one block, whatever follows
        await _flush_acknowledged(audio)  # a peer's last count arrives after its flush
        plan = self.tracker.plan_barge_in(
            audio.played_frames,
            policy=self.policy,
            service_cancels=self._service.service_cancels,
            service_truncates=self._service.service_truncates,
        )
        if plan.item_id is None and not plan.cancel:
            return  # nothing was playing or in progress: ordinary user speech
        wire = self._wire()
        try:
            if wire is not None:
                await send_plan(wire, plan)
        except ConnectionLost:
            log.debug("connection lost while handling a barge-in")
        finally:  # the tracker gave these up: logged even if the send is cancelled (a close)
            self._sink.log_turns(plan.turns)
        self._sink.emit(
            BargeIn(
                item_id=plan.item_id,
                played_ms=plan.played_ms,
                received_ms=plan.received_ms,
                response_cancelled=plan.cancel,
                truncated=bool(plan.truncations),
                heard_text=plan.heard_text,
            )
        )
        log.info(
            "barge-in: item %s heard %d of %d ms; cancel=%s truncate=%s delete=%s",
            plan.item_id,
            plan.played_ms,
            plan.received_ms,
            plan.cancel,
            [t.audio_end_ms for t in plan.truncations],
            list(plan.deletions),
        )

    # --- from the backend ----------------------------------------------------------------

    def idle(self) -> None:
        """The speaker ran dry.

        It also runs dry between deltas when audio arrives just in time; that is an underrun,
        not the end. Finished means: no response streaming and nothing queued.
        """
        if not self.tracker.response_active:
            self._finished()

    def _finished(self) -> None:
        self._sink.log_turns(self.tracker.playback_idle())
        self._sink.emit(PlaybackFinished(item_id=self.tracker.playing_item))

    # --- from the session ----------------------------------------------------------------

    def connection_lost(self) -> None:
        """The connection dropped: the responses in flight are gone; log what was heard."""
        if self.audio is not None:
            self.audio.flush()
        self._sink.log_turns(self.tracker.finish_all(self._played()))

    async def stop(self) -> None:
        """The session closes: cut playback, tell the service what was heard, log it.

        Every open item is logged even when the caller cancels this while the service is told
        (a close budget running out on a congested connection).
        """
        played = self._played()
        if self.audio is not None:
            self.audio.flush()
        wire = self._wire()
        turns: list[Turn] = []
        try:
            if wire is not None and self.tracker.open_items:
                plan = self.tracker.plan_barge_in(
                    played,
                    policy=_CUT_ON_CLOSE,
                    service_cancels=False,
                    service_truncates=self._service.service_truncates,
                    closing=True,
                )
                turns = plan.turns
                try:
                    await asyncio.wait_for(send_plan(wire, plan), _CLOSE_SEND_TIMEOUT_S)
                except (asyncio.TimeoutError, ConnectionLost):
                    log.debug("could not tell the service what was heard before closing")
        finally:
            self._sink.log_turns(turns + self.tracker.finish_all(played))


async def _flush_acknowledged(audio: AudioBackend) -> None:
    """Wait (bounded) for a peer to confirm a flush, so its played counts are final."""
    if not isinstance(audio, AcknowledgedFlush):
        return
    try:
        await asyncio.wait_for(audio.wait_flush_acknowledged(), FLUSH_ACK_TIMEOUT_S)
    except asyncio.TimeoutError:
        log.debug(
            "the audio peer did not acknowledge the flush within %.1f s: truncating at its "
            "last reported count",
            FLUSH_ACK_TIMEOUT_S,
        )
    except Exception:
        log.debug("waiting for the audio peer's flush acknowledgement failed", exc_info=True)


async def send_plan(wire: Wire, plan: BargeInPlan) -> None:
    """Send a barge-in plan in its order: cancel, truncations, deletions."""
    if plan.cancel_response_id is not None:
        await wire.cancel_response(plan.cancel_response_id)
    for cut in plan.truncations:
        await wire.truncate(cut.item_id, cut.audio_end_ms)
    for item_id in plan.deletions:
        await wire.delete_item(item_id)
