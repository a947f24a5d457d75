"""The Pipecat processor a Pipecat user writes to reach Azure AI Voice Live (bench peer only).

Pipecat 1.14 has no Voice Live service: ``AzureRealtimeLLMService`` speaks the Azure OpenAI
realtime protocol (``/openai/v1/realtime``, GA event names such as
``response.output_audio.delta``), not Voice Live's (``/voice-live/realtime``,
``response.audio.delta``), so it cannot talk to Voice Live or to the emulator. This is the
minimal bridge with Microsoft's ``azure-ai-voicelive`` SDK, in the style of Pipecat's own
realtime services: PCM16 in and out at the pipeline's sample rate, the service's VAD decides the
turns, its ``speech_started`` interrupts the bot (Pipecat then drops queued audio and the Twilio
serializer sends ``clear``) and truncates the reply at the audio sent so far.

Runs in the bench's separate environment (``make bench-pipecat``): it imports Pipecat.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from azure.ai.voicelive.aio import connect
from azure.ai.voicelive.models import (
    AudioInputTranscriptionOptions,
    InputAudioFormat,
    Modality,
    OutputAudioFormat,
    RequestSession,
    ServerVad,
)
from azure.core.credentials import AzureKeyCredential
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    StartFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

OUTPUT_FORMATS = {
    8000: OutputAudioFormat.PCM16_8000_HZ,
    16000: OutputAudioFormat.PCM16_16000_HZ,
    24000: OutputAudioFormat.PCM16,
}


class VoiceLiveBridge(FrameProcessor):
    """Pipeline audio -> Voice Live ``input_audio_buffer.append``; its reply audio -> the output.

    Event handler: ``on_connected(bridge)`` once the Voice Live session is configured.

    Args:
        endpoint: The Voice Live (or emulator) endpoint, ``https://...`` or ``http://127.0.0.1:N``.
        api_key: The resource's key.
        model: The realtime model (model mode).
        sample_rate: The pipeline's rate, in and out (8000, 16000 or 24000).
    """

    def __init__(self, *, endpoint: str, api_key: str, model: str, sample_rate: int) -> None:
        super().__init__()
        if sample_rate not in OUTPUT_FORMATS:
            raise ValueError(f"sample_rate={sample_rate}: Voice Live takes 8000, 16000 or 24000")
        self._endpoint = endpoint
        self._key = api_key
        self._model = model
        self._rate = sample_rate
        self._connection_cm: Any = None
        self._connection: Any = None
        self._receiver: Any = None
        self._item: str | None = None  # the reply item being played
        self._item_started = 0.0
        self._item_bytes = 0  # its audio received so far
        self._register_event_handler("on_connected")

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Forward microphone audio to Voice Live; everything else flows on."""
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            if self._connection is not None:
                audio = base64.b64encode(frame.audio).decode("ascii")
                await self._connection.input_audio_buffer.append(audio=audio)
            return
        if isinstance(frame, StartFrame):
            await self.push_frame(frame, direction)
            await self._connect()
            return
        if isinstance(frame, EndFrame | CancelFrame):
            await self._disconnect()
        await self.push_frame(frame, direction)

    async def _connect(self) -> None:
        self._connection_cm = connect(
            endpoint=self._endpoint, credential=AzureKeyCredential(self._key), model=self._model
        )
        self._connection = await self._connection_cm.__aenter__()
        session = RequestSession(
            modalities=[Modality.TEXT, Modality.AUDIO],
            input_audio_format=InputAudioFormat.PCM16,
            input_audio_sampling_rate=self._rate,
            output_audio_format=OUTPUT_FORMATS[self._rate],
            turn_detection=ServerVad(),
            input_audio_transcription=AudioInputTranscriptionOptions(model="azure-speech"),
        )
        await self._connection.session.update(session=session)
        self._receiver = self.create_task(self._receive())
        await self._call_event_handler("on_connected")

    async def _disconnect(self) -> None:
        if self._receiver is not None:
            await self.cancel_task(self._receiver)
            self._receiver = None
        if self._connection_cm is not None:
            cm, self._connection_cm, self._connection = self._connection_cm, None, None
            await cm.__aexit__(None, None, None)

    async def _receive(self) -> None:
        async for event in self._connection:
            kind = event.type
            if kind == "response.audio.delta":
                if self._item != event.item_id:
                    self._item, self._item_started = event.item_id, time.monotonic()
                    self._item_bytes = 0
                    await self.push_frame(TTSStartedFrame())
                self._item_bytes += len(event.delta)
                await self.push_frame(TTSAudioRawFrame(event.delta, self._rate, 1))
            elif kind == "response.audio.done":
                await self.push_frame(TTSStoppedFrame())
            elif kind == "input_audio_buffer.speech_started":
                await self._interrupted()

    async def _interrupted(self) -> None:
        """The caller speaks: stop the bot, truncate the reply as Pipecat's realtime services do.

        At the wall-clock time since its first audio, at most the audio received.
        """
        await self.broadcast_interruption()
        if self._item is not None and self._connection is not None:
            elapsed_ms = (time.monotonic() - self._item_started) * 1000
            played_ms = int(min(elapsed_ms, self._item_bytes / 2 / self._rate * 1000))
            await self._connection.conversation.item.truncate(
                item_id=self._item, content_index=0, audio_end_ms=played_ms
            )
        self._item = None
