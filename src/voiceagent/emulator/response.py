"""One response: the documented event sequence, paced audio, cancellation.

A response's speech is synthesised once (cached per text and format), then streamed by
:meth:`ResponseRun.run` in its own task as slices of that audio. With ``realtime`` the audio
delta covering ``[k*chunk, (k+1)*chunk)`` ms is sent at ``start + k*chunk/speed``; each word's
transcript delta goes just before the audio delta in which the word starts, so the transcript
sent never runs ahead of the audio sent by more than one delta. :meth:`ResponseRun.cancel` wakes
the pacing wait at once; the run then closes the open item and part and sends ``response.done``
with ``status: cancelled``.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import logging
import random
from typing import Any, Protocol

from .animation import AnimationEvents
from .conversations import Conversation, ItemAudio
from .ids import new_id
from .interim import InterimPlan
from .records import ResponseRecord, usage
from .script import Reply
from .timing import Timing
from .voice import Speech
from .voices import speak

__all__ = ["ResponseHost", "ResponseRecord", "ResponseRun", "SessionClosedError"]

logger = logging.getLogger(__name__)

_ARGUMENT_DELTA_CHARS = 16


class SessionClosedError(Exception):
    """The connection is gone; the sender should stop quietly."""


class ResponseHost(Protocol):
    """What a response needs from its connection."""

    conversation: Conversation

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send one server event."""


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ResponseRun:
    """Streams one response over a connection.

    Args:
        host: The connection.
        record: The record to keep up to date (its ``id`` is the response id).
        conversation_id: Reported in ``response.done``.
        config: The session config at response start (formats, voice, modalities).
        pre_events: Events to send right after ``response.created`` (e.g. a transcription).
        realtime: Pace audio at ``speed`` times real time; else as fast as possible.
        speed: Pacing factor when ``realtime``.
        chunk_ms: Audio per ``response.audio.delta`` in ms.
        ms_per_char: Speaking rate of the synthetic voice.
        timing: Think time, time to first audio and jitter.
        rng: Draws the ``timing`` delays.
        voice: ``"auto"``, ``"espeak"`` or ``"synthetic"`` (see :func:`~.voices.speak`).
        interim: The interim responses that apply, or ``None``.
    """

    def __init__(
        self,
        host: ResponseHost,
        record: ResponseRecord,
        *,
        conversation_id: str,
        config: dict[str, Any],
        pre_events: list[dict[str, Any]],
        realtime: bool,
        speed: float,
        chunk_ms: int,
        ms_per_char: float,
        timing: Timing = Timing.IMMEDIATE,
        rng: random.Random | None = None,
        voice: str = "synthetic",
        interim: InterimPlan | None = None,
    ) -> None:
        self.host = host
        self.record = record
        self.conversation_id = conversation_id
        self.config = config
        self.pre_events = pre_events
        self.realtime = realtime
        self.speed = speed
        self.chunk_ms = chunk_ms
        self.ms_per_char = ms_per_char
        self.timing = timing
        self.voice = voice
        self.interim = interim
        self._rng = rng or random.Random(timing.seed)
        self.cancel_reason: str | None = None
        self.current_audio: tuple[str, ItemAudio] | None = None
        self._wake: asyncio.Future[None] | None = None
        self._output: list[dict[str, Any]] = []
        self._audio_ms = 0.0
        self._text_chars = 0

    @property
    def id(self) -> str:
        """The response id."""
        return self.record.id

    def cancel(self, reason: str) -> None:
        """Stop sending deltas as soon as possible; ``reason`` goes to ``status_details``."""
        if self.cancel_reason is None:
            self.cancel_reason = reason
        if self._wake is not None:
            _resolve(self._wake)

    async def _pace(self, when: float) -> None:
        """Wait until loop time ``when`` unless cancelled first."""
        loop = asyncio.get_running_loop()
        if when <= loop.time() or self.cancel_reason is not None:
            return
        self._wake = loop.create_future()
        handle = loop.call_at(when, _resolve, self._wake)
        try:
            await self._wake
        finally:
            handle.cancel()
            self._wake = None

    def _response_object(self, status: str) -> dict[str, Any]:
        details: dict[str, Any] | None = None
        if status == "cancelled":
            details = {"type": "cancelled", "reason": self.cancel_reason}
        obj: dict[str, Any] = {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": details,
            "output": copy.deepcopy(self._output),
            "conversation_id": self.conversation_id,
            "modalities": list(self.config.get("modalities") or []),
            "voice": copy.deepcopy(self.config.get("voice")),
            "output_audio_format": self.config.get("output_audio_format"),
            "usage": None,
        }
        if status != "in_progress":
            obj["usage"] = usage(self.host.conversation, self._text_chars, self._audio_ms)
        return obj

    async def run(self) -> None:
        """Send the whole response; never raises for a lost connection."""
        try:
            await self._run()
        except SessionClosedError:
            self.record.status = "failed"
            logger.debug("response %s: connection closed while streaming", self.id)

    async def _run(self) -> None:
        send = self.host.send_event
        loop = asyncio.get_running_loop()
        begin = loop.time()
        think = self.timing.think(self._rng)
        interim = self.interim
        if interim is not None and interim.fires_on_latency(think):
            await self._pace(begin + interim.latency_threshold_ms / 1000.0)
            await self._created()
            await self._interim("latency")
            await self._pace(begin + think)
        else:
            if think:
                await self._pace(begin + think)
            await self._created()
        reply = self.record.reply
        if self.cancel_reason is None and (reply.text or reply.function_call is None):
            await self._message(reply.text)
        if reply.function_call is not None and self.cancel_reason is None:
            await self._function_call(reply)
            if interim is not None and "tool" in interim.triggers:
                await self._interim("tool")
        status = "cancelled" if self.cancel_reason is not None else "completed"
        self.record.status = status
        self.record.cancel_reason = self.cancel_reason
        await send({"type": "response.done", "response": self._response_object(status)})

    async def _created(self) -> None:
        await self.host.send_event(
            {"type": "response.created", "response": self._response_object("in_progress")}
        )
        for event in self.pre_events:
            await self.host.send_event(event)

    async def _interim(self, trigger: str) -> None:
        """Speak an interim message item (see :mod:`.interim`) unless cancelled."""
        assert self.interim is not None
        text = self.interim.text_for(trigger)
        if text and self.cancel_reason is None:
            self.record.interim.append(text)
            await self._message(text)

    async def _add_item(self, item: dict[str, Any]) -> int:
        """Announce a new output item (``output_item.added`` + ``conversation.item.created``)."""
        output_index = len(self._output)
        self._output.append(item)
        self.record.item_ids.append(item["id"])
        previous = self.host.conversation.insert(copy.deepcopy(item))
        await self.host.send_event(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": output_index,
                "item": copy.deepcopy(item),
            }
        )
        await self.host.send_event(
            {
                "type": "conversation.item.created",
                "previous_item_id": previous,
                "item": copy.deepcopy(item),
            }
        )
        return output_index

    async def _message(self, text: str) -> None:
        audio_out = "audio" in (self.config.get("modalities") or ["audio"])
        item_id = new_id("item")
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        output_index = await self._add_item(item)
        where = {
            "response_id": self.id,
            "item_id": item_id,
            "output_index": output_index,
            "content_index": 0,
        }
        send = self.host.send_event
        if audio_out:
            final_text = await self._stream_audio(text, item_id, where)
            part: dict[str, Any] = {"type": "audio", "transcript": final_text}
        else:
            final_text = await self._stream_text(text, where)
            part = {"type": "text", "text": final_text}
        await send({"type": "response.content_part.done", **where, "part": part})
        item["status"] = "incomplete" if self.cancel_reason is not None else "completed"
        item["content"] = [part]
        stored = self.host.conversation.find(item_id)
        if stored is not None:
            stored["status"] = item["status"]
            stored["content"] = copy.deepcopy(item["content"])
        if audio_out:
            # The stored transcript may be shorter if the item was truncated meanwhile.
            self.host.conversation.sync_transcript(item_id)
        await send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": output_index,
                "item": copy.deepcopy(item),
            }
        )

    async def _stream_audio(self, text: str, item_id: str, where: dict[str, Any]) -> str:
        send = self.host.send_event
        output_format = str(self.config.get("output_audio_format", "pcm16"))
        speech = await self._speak(text, output_format)
        audio = ItemAudio(speech)
        self.host.conversation.audio[item_id] = audio
        self.current_audio = (item_id, audio)
        await send(
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": "audio", "transcript": ""},
            }
        )
        animation = AnimationEvents(self.config, speech, where)
        chunk_bytes = max(speech.bytes_per_sample, speech.bytes_for_ms(self.chunk_ms))
        total = len(speech.audio)
        words = speech.words
        next_word = 0
        loop = asyncio.get_running_loop()
        start = loop.time() + self.timing.first_audio_ms / 1000.0
        offset = 0
        k = 0
        while offset < total and self.cancel_reason is None:
            if self.realtime:
                jitter = self.timing.jitter(self._rng)
                await self._pace(start + k * self.chunk_ms / 1000.0 / self.speed + jitter)
            elif k == 0 and self.timing.first_audio_ms:
                await self._pace(start)
            else:
                await asyncio.sleep(0)  # let barge-in and cancel events in between deltas
            if self.cancel_reason is not None:
                break
            chunk_end_ms = speech.ms_for_bytes(min(total, offset + chunk_bytes))
            while next_word < len(words) and words[next_word][0] < chunk_end_ms:
                # Each delta is one word plus the whitespace that follows it.
                begin = audio.generated_chars
                end = _word_delta_end(text, words[next_word][1])
                await send(
                    {"type": "response.audio_transcript.delta", **where, "delta": text[begin:end]}
                )
                audio.generated_chars = end
                self._text_chars = end
                for event in animation.for_word(next_word):
                    await send(event)
                next_word += 1
                if self.cancel_reason is not None:
                    break
            if self.cancel_reason is not None:
                break
            chunk = speech.audio[offset : offset + chunk_bytes]
            await send(
                {
                    "type": "response.audio.delta",
                    **where,
                    "delta": base64.b64encode(chunk).decode("ascii"),
                }
            )
            offset += len(chunk)
            audio.sent_ms = speech.ms_for_bytes(offset)
            self._audio_ms = audio.sent_ms
            k += 1
        final_text = text[: audio.generated_chars]
        if self.cancel_reason is None:
            # All audio is out: any trailing text (e.g. whitespace) belongs to the transcript.
            if audio.generated_chars < len(text):
                await send(
                    {
                        "type": "response.audio_transcript.delta",
                        **where,
                        "delta": text[audio.generated_chars :],
                    }
                )
            audio.generated_chars = len(text)
            final_text = text
        await send({"type": "response.audio.done", **where})
        for event in animation.done():
            await send(event)
        await send({"type": "response.audio_transcript.done", **where, "transcript": final_text})
        return final_text

    async def _speak(self, text: str, output_format: str) -> Speech:
        """Synthesise (espeak-ng runs in a thread so that other sessions keep streaming)."""
        if self.voice == "synthetic":
            return speak(text, output_format, voice="synthetic", ms_per_char=self.ms_per_char)
        return await asyncio.to_thread(
            speak, text, output_format, voice=self.voice, ms_per_char=self.ms_per_char
        )

    async def _stream_text(self, text: str, where: dict[str, Any]) -> str:
        send = self.host.send_event
        await send(
            {"type": "response.content_part.added", **where, "part": {"type": "text", "text": ""}}
        )
        sent = 0
        for word in text.split(" "):
            if self.cancel_reason is not None:
                break
            delta = word if sent + len(word) >= len(text) else word + " "
            if delta:
                await send({"type": "response.text.delta", **where, "delta": delta})
            sent += len(delta)
            self._text_chars = sent
            await asyncio.sleep(0)
        final_text = text[:sent]
        await send({"type": "response.text.done", **where, "text": final_text})
        return final_text

    async def _function_call(self, reply: Reply) -> None:
        call = reply.function_call
        assert call is not None
        send = self.host.send_event
        item_id = new_id("item")
        call_id = call.call_id or new_id("call")
        arguments = call.arguments_json
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": call_id,
            "arguments": "",
        }
        output_index = await self._add_item(item)
        where = {
            "response_id": self.id,
            "item_id": item_id,
            "output_index": output_index,
            "call_id": call_id,
        }
        for begin in range(0, len(arguments), _ARGUMENT_DELTA_CHARS):
            await send(
                {
                    "type": "response.function_call_arguments.delta",
                    **where,
                    "delta": arguments[begin : begin + _ARGUMENT_DELTA_CHARS],
                }
            )
        await send(
            {
                "type": "response.function_call_arguments.done",
                **where,
                "name": call.name,
                "arguments": arguments,
            }
        )
        item["status"] = "completed"
        item["arguments"] = arguments
        stored = self.host.conversation.find(item_id)
        if stored is not None:
            stored.update(copy.deepcopy(item))
        await send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": output_index,
                "item": copy.deepcopy(item),
            }
        )


def _word_delta_end(text: str, word_end: int) -> int:
    """Extend a word's end over the whitespace after it (not into the next word)."""
    end = word_end
    while end < len(text) and text[end].isspace():
        end += 1
    return end
