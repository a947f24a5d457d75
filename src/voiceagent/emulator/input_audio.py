"""Input audio: ``input_audio_buffer.*`` events, the VAD, speech events and committing turns.

Audio is decoded to PCM16, counted into the buffer and fed to the energy VAD (when turn
detection is on). A detected turn, or a manual commit, becomes a user message item; with
``create_response`` a server-VAD turn then starts a response. The turn's transcript is the next
``user_says`` transcript, else (when listening) what pocketsphinx hears in the turn's audio.

With ``remove_filler_words`` in ``turn_detection``, filler words are removed from transcripts and
an utterance of only filler ("um") is no turn at all: no speech events, no item, no barge-in.
To know that before the user interrupts anything, ``speech_started`` is held back until the
transcript is known: at once for a queued transcript, at the end of the utterance when the
recogniser must listen to it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import logging
from typing import TYPE_CHECKING, Any

from voiceagent.protocol.g711 import alaw_decode, ulaw_decode

from .ids import new_id
from .listening import is_filler_only, recognizer_available, strip_fillers, transcribe
from .script import UNSCRIPTED_TRANSCRIPT
from .session_config import input_sample_rate
from .vad import FRAME_MS, EnergyVad

if TYPE_CHECKING:
    from .session import EmulatedSession

__all__ = ["MIN_COMMIT_MS", "InputAudio"]

logger = logging.getLogger(__name__)

MIN_COMMIT_MS = 100
"""A manual commit needs at least this much buffered audio, as the service requires."""

MAX_TURN_MS = 30_000
"""The longest stretch of input audio kept for the recogniser (older audio is dropped)."""

_IDLE_KEEP_MS = 1000.0  # audio kept between utterances (covers any sane prefix_padding_ms)


class InputAudio:
    """The input audio buffer of one session and what it triggers.

    Args:
        session: The session it belongs to (config, sending, conversation, responses).
    """

    def __init__(self, session: EmulatedSession) -> None:
        self._session = session
        self._vad: EnergyVad | None = None
        self._audio_frames = 0  # input audio time in VAD frames, across VAD rebuilds
        self._buffer_ms = 0.0  # audio appended since the last commit/clear
        self._speech_item: str | None = None
        self._pcm = bytearray()  # recent input audio (PCM16) for the recogniser
        self._pcm_start_ms = 0.0  # audio time of self._pcm[0]
        self._pcm_rate = input_sample_rate(session.config)
        self._held: int | None = None  # audio_start_ms of a held-back speech_started
        self._filler: str | None = None  # the queued filler transcript of this utterance
        self._start_ms: int | None = None  # audio_start_ms of the current utterance
        mode = session.settings.listen
        self._listening = mode == "on" or (mode == "auto" and recognizer_available())
        self.reconfigure()

    @property
    def listening(self) -> bool:
        """Whether unscripted turns are transcribed by the recogniser."""
        return self._listening

    def _remove_fillers(self) -> bool:
        td = self._session.config.get("turn_detection") or {}
        return bool(td.get("remove_filler_words"))

    def reconfigure(self) -> None:
        """Rebuild the VAD for the session's current config; audio time keeps running."""
        if self._vad is not None:
            self._audio_frames = self._vad.audio_ms // FRAME_MS
        config = self._session.config
        if input_sample_rate(config) != self._pcm_rate:
            self._pcm_start_ms += self._pcm_ms()
            self._pcm.clear()
            self._pcm_rate = input_sample_rate(config)
        td = config.get("turn_detection")
        if td is None:
            self._vad = None
            return
        self._vad = EnergyVad(
            input_sample_rate(config),
            threshold=float(td["threshold"]),
            prefix_padding_ms=int(td["prefix_padding_ms"]),
            silence_duration_ms=int(td["silence_duration_ms"]),
            start_frames=self._audio_frames,
        )

    def _decode(self, data: bytes) -> bytes:
        fmt = self._session.config["input_audio_format"]
        if fmt == "g711_ulaw":
            return ulaw_decode(data)
        if fmt == "g711_alaw":
            return alaw_decode(data)
        return data

    # -- client events -----------------------------------------------------------------------

    async def on_append(self, event: dict[str, Any]) -> None:
        """``input_audio_buffer.append``: buffer the audio and run the VAD over it."""
        audio = event.get("audio")
        try:
            if not isinstance(audio, str):
                raise ValueError("missing")
            raw = base64.b64decode(audio, validate=True)
        except (ValueError, binascii.Error):
            await self._session.send_error(
                "Invalid 'audio': expected base64-encoded audio.",
                code="invalid_value",
                param="audio",
                event_id=event.get("event_id"),
            )
            return
        pcm = self._decode(raw)
        self._buffer_ms += 1000.0 * (len(pcm) // 2) / input_sample_rate(self._session.config)
        if self.listening:
            self._keep(pcm)
        else:
            self._pcm_start_ms += 1000.0 * (len(pcm) // 2) / self._pcm_rate
        if self._vad is None:
            return
        for vad_event in self._vad.feed(pcm):
            if vad_event.kind == "started":
                await self._on_speech_started(vad_event.ms)
            else:
                await self._on_speech_stopped(vad_event.ms)
        if self._start_ms is None and self._pcm:
            # Between utterances only the prefix padding can become part of the next turn.
            self._forget_audio_before(self._pcm_start_ms + self._pcm_ms() - _IDLE_KEEP_MS)

    async def on_commit(self, event: dict[str, Any]) -> None:
        """``input_audio_buffer.commit``: turn the buffer into a user item (no response)."""
        if self._buffer_ms < MIN_COMMIT_MS:
            await self._session.send_error(
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has "
                f"{self._buffer_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
                event_id=event.get("event_id"),
            )
            return
        item_id = self._speech_item or new_id("item")
        self._speech_item = None
        self._held = self._filler = self._start_ms = None
        if self._vad is not None:
            self._vad.reset()
        await self._commit(item_id, auto_response=False)

    async def on_clear(self, event: dict[str, Any]) -> None:
        """``input_audio_buffer.clear``: forget the buffered audio and the current turn."""
        self._buffer_ms = 0.0
        self._speech_item = None
        self._held = self._filler = self._start_ms = None
        self._pcm_start_ms += self._pcm_ms()
        self._pcm.clear()
        if self._vad is not None:
            self._vad.reset()
        await self._session.send_event({"type": "input_audio_buffer.cleared"})

    # -- speech events -----------------------------------------------------------------------

    async def _on_speech_started(self, audio_start_ms: int) -> None:
        self._speech_item = new_id("item")
        self._start_ms = audio_start_ms
        if self._remove_fillers():
            queued = self._session.script.peek_user_transcript()
            if queued is None and self.listening:
                self._held = audio_start_ms  # decided when the utterance ends
                return
            if queued is not None and is_filler_only(queued):
                self._filler = queued  # no turn: nothing is sent for this utterance
                return
        await self._send_speech_started(audio_start_ms)

    async def _send_speech_started(self, audio_start_ms: int) -> None:
        session = self._session
        await session.send_event(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": audio_start_ms,
                "item_id": self._speech_item,
            }
        )
        td = session.config.get("turn_detection") or {}
        if td.get("interrupt_response", True):
            await session.responder.barge_in(auto_truncate=bool(td.get("auto_truncate")))

    async def _on_speech_stopped(self, audio_end_ms: int) -> None:
        item_id = self._speech_item or new_id("item")
        held, self._held = self._held, None
        filler, self._filler = self._filler, None
        start_ms, self._start_ms = self._start_ms, None
        self._speech_item = None
        if filler is not None:
            self._session.script.pop_user_transcript()
            self._forget_audio_before(audio_end_ms)
            return
        transcript = await self._transcript(start_ms, audio_end_ms)
        if transcript is None:
            return  # filler only, heard by the recogniser
        if held is not None:
            self._speech_item = item_id
            await self._send_speech_started(held)
            self._speech_item = None
        await self._session.send_event(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": audio_end_ms,
                "item_id": item_id,
            }
        )
        td = self._session.config.get("turn_detection") or {}
        await self._commit(
            item_id, auto_response=bool(td.get("create_response", True)), transcript=transcript
        )

    # -- transcripts -------------------------------------------------------------------------

    async def _transcript(self, start_ms: int | None, end_ms: int | None) -> str | None:
        """The transcript of the turn in ``[start_ms, end_ms]`` (``None``: only filler).

        The next ``user_says`` transcript if any, else what the recogniser hears (when
        listening), else :data:`UNSCRIPTED_TRANSCRIPT`.
        """
        script = self._session.script
        transcript = script.pop_user_transcript()
        if transcript is None and self.listening:
            transcript = await self._recognise(start_ms, end_ms)
        self._forget_audio_before(end_ms)
        if transcript is None:
            return UNSCRIPTED_TRANSCRIPT
        if self._remove_fillers():
            if is_filler_only(transcript):
                return None
            transcript = strip_fillers(transcript)
        return transcript

    async def _recognise(self, start_ms: int | None, end_ms: int | None) -> str | None:
        begin = 0 if start_ms is None else self._offset(start_ms)
        end = len(self._pcm) if end_ms is None else self._offset(end_ms)
        pcm = bytes(self._pcm[begin:end])
        if not pcm:
            return ""
        try:
            return await asyncio.to_thread(transcribe, pcm, self._pcm_rate)
        except Exception:
            logger.exception("session %s: speech recognition failed", self._session.session_id)
            return None

    def _keep(self, pcm: bytes) -> None:
        self._pcm += pcm
        limit = 2 * int(MAX_TURN_MS * self._pcm_rate / 1000)
        if len(self._pcm) > 2 * limit:  # trim rarely: keep the last MAX_TURN_MS
            drop = len(self._pcm) - limit
            del self._pcm[:drop]
            self._pcm_start_ms += 1000.0 * (drop // 2) / self._pcm_rate

    def _pcm_ms(self) -> float:
        return 1000.0 * (len(self._pcm) // 2) / self._pcm_rate

    def _offset(self, ms: float) -> int:
        samples = int((ms - self._pcm_start_ms) * self._pcm_rate / 1000)
        return 2 * min(max(0, samples), len(self._pcm) // 2)

    def _forget_audio_before(self, ms: float | None) -> None:
        drop = len(self._pcm) if ms is None else self._offset(ms)
        del self._pcm[:drop]
        self._pcm_start_ms += 1000.0 * (drop // 2) / self._pcm_rate

    async def _commit(
        self, item_id: str, *, auto_response: bool, transcript: str | None = None
    ) -> None:
        session = self._session
        self._buffer_ms = 0.0
        if transcript is None:
            transcript = await self._transcript(None, None)
            if transcript is None:
                transcript = ""  # a manual commit of filler only: an empty turn
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            # Both SDKs' models require ``audio`` on an input_audio part; the committed audio
            # itself is not echoed back (its size would double the traffic), so it is empty.
            "content": [{"type": "input_audio", "audio": "", "transcript": None}],
        }
        previous = session.conversation.insert(item)
        await session.send_event(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        await session.send_event(
            {
                "type": "conversation.item.created",
                "previous_item_id": previous,
                "item": copy.deepcopy(item),
            }
        )
        # The scripted agent always "understands" the turn; the client hears of it only when
        # transcription is configured (or the emulator is told to send transcripts anyway).
        item["content"][0]["transcript"] = transcript
        transcribe = bool(session.config.get("input_audio_transcription"))
        transcription = [
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": transcript,
            }
        ]
        if not (transcribe or session.settings.always_transcribe):
            transcription = []
        responder = session.responder
        if auto_response and responder.active is None:
            # Like the service, the transcription often lands after response.created.
            responder.start({}, pre_events=transcription)
            return
        for event in transcription:
            await session.send_event(event)
        if auto_response:
            responder.start_after_active()
