"""Input audio: ``input_audio_buffer.*`` events, the VAD, speech events and committing turns.

Audio is decoded to PCM16, counted into the buffer and fed to the energy VAD (when turn
detection is on). A detected turn, or a manual commit, becomes a user message item; with
``create_response`` a server-VAD turn then starts a response.
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import TYPE_CHECKING, Any

from voiceagent.protocol.g711 import alaw_decode, ulaw_decode

from .ids import new_id
from .session_config import input_sample_rate
from .vad import FRAME_MS, EnergyVad

if TYPE_CHECKING:
    from .session import EmulatedSession

__all__ = ["MIN_COMMIT_MS", "InputAudio"]

MIN_COMMIT_MS = 100
"""A manual commit needs at least this much buffered audio, as the service requires."""


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
        self.reconfigure()

    def reconfigure(self) -> None:
        """Rebuild the VAD for the session's current config; audio time keeps running."""
        if self._vad is not None:
            self._audio_frames = self._vad.audio_ms // FRAME_MS
        config = self._session.config
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
        if self._vad is None:
            return
        for vad_event in self._vad.feed(pcm):
            if vad_event.kind == "started":
                await self._on_speech_started(vad_event.ms)
            else:
                await self._on_speech_stopped(vad_event.ms)

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
        if self._vad is not None:
            self._vad.reset()
        await self._commit(item_id, auto_response=False)

    async def on_clear(self, event: dict[str, Any]) -> None:
        """``input_audio_buffer.clear``: forget the buffered audio and the current turn."""
        self._buffer_ms = 0.0
        self._speech_item = None
        if self._vad is not None:
            self._vad.reset()
        await self._session.send_event({"type": "input_audio_buffer.cleared"})

    # -- speech events -----------------------------------------------------------------------

    async def _on_speech_started(self, audio_start_ms: int) -> None:
        session = self._session
        item_id = new_id("item")
        self._speech_item = item_id
        await session.send_event(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": audio_start_ms,
                "item_id": item_id,
            }
        )
        td = session.config.get("turn_detection") or {}
        if td.get("interrupt_response", True):
            await session.responder.barge_in(auto_truncate=bool(td.get("auto_truncate")))

    async def _on_speech_stopped(self, audio_end_ms: int) -> None:
        item_id = self._speech_item or new_id("item")
        self._speech_item = None
        await self._session.send_event(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": audio_end_ms,
                "item_id": item_id,
            }
        )
        td = self._session.config.get("turn_detection") or {}
        await self._commit(item_id, auto_response=bool(td.get("create_response", True)))

    async def _commit(self, item_id: str, *, auto_response: bool) -> None:
        session = self._session
        self._buffer_ms = 0.0
        transcript = session.script.next_user_transcript()
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
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
