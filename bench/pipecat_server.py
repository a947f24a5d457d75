"""The Pipecat peer of ``bench/pipecat_twilio.py``: a Twilio media server, wired as Pipecat does.

Run under uvicorn in its own process (the bench starts it)::

    VOICELIVE_ENDPOINT=http://127.0.0.1:PORT .venv-bench/bin/uvicorn pipecat_server:app \\
        --app-dir bench --port 8766

Each Twilio media WebSocket at ``/ws`` becomes one pipeline, as in Pipecat's telephony examples
and its development runner: ``parse_telephony_websocket`` reads Twilio's ``connected`` and
``start``, a ``TwilioFrameSerializer`` (u-law 8 kHz <-> PCM16 at the pipeline's rate) and a
``FastAPIWebsocketTransport`` carry the audio, ``[transport.input(), VoiceLiveBridge,
transport.output()]`` is run by its own ``WorkerRunner`` (one per call) at 8 kHz in and out (the
telephony examples' ``PipelineParams``). ``auto_hang_up`` is off: there is no Twilio REST API here.

Settings from the environment: ``VOICELIVE_ENDPOINT``, ``AZURE_VOICELIVE_API_KEY`` (``bench``),
``VOICELIVE_MODEL`` (``gpt-realtime``), ``PIPECAT_SAMPLE_RATE`` (8000), ``PIPECAT_AUTO_SILENCE``
(``1``, Pipecat's default: silence frames fill the line between replies; ``0`` turns it off).
Loguru logs at WARNING (Pipecat's default is DEBUG, every frame event; the voiceagent server it
is measured against logs errors only by default). ``GET /bench/lag`` returns the event-loop lag
samples taken since the last call (a wake-up every 250 ms, as ``voiceagent serve``'s own loop
monitor) and the number of live calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, WebSocket
from loguru import logger
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner
from pipecat_voicelive import VoiceLiveBridge

LAG_INTERVAL_S = 0.25

logger.remove()
logger.add(sys.stderr, level="WARNING")

lags: list[float] = []
live_calls = 0
connected_calls = 0


async def loop_lag() -> None:
    """How late a 250 ms wake-up runs (the same probe as voiceagent serve's LoopMonitor)."""
    while True:
        planned = time.monotonic() + LAG_INTERVAL_S
        await asyncio.sleep(LAG_INTERVAL_S)
        lags.append(max(0.0, time.monotonic() - planned))


@contextlib.asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Run the lag probe while the app runs."""
    probe = asyncio.create_task(loop_lag())
    yield
    probe.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await probe


app = FastAPI(lifespan=lifespan)


@app.get("/bench/lag")
async def lag_samples() -> dict[str, Any]:
    """The lag samples since the last call (and forget them), and the live calls."""
    samples = lags[:]
    lags.clear()
    return {"lags_s": samples, "live_calls": live_calls, "connected_calls": connected_calls}


@app.websocket("/ws")
async def twilio_media(websocket: WebSocket) -> None:
    """One Twilio call: a pipeline from the media stream to Voice Live and back."""
    global live_calls, connected_calls
    await websocket.accept()
    rate = int(os.environ.get("PIPECAT_SAMPLE_RATE", "8000"))
    _kind, call_data = await parse_telephony_websocket(websocket)
    serializer = TwilioFrameSerializer(
        stream_sid=call_data["stream_id"],
        call_sid=call_data["call_id"],
        params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
    )
    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
            audio_out_auto_silence=os.environ.get("PIPECAT_AUTO_SILENCE", "1") != "0",
        ),
    )
    bridge = VoiceLiveBridge(
        endpoint=os.environ["VOICELIVE_ENDPOINT"],
        api_key=os.environ.get("AZURE_VOICELIVE_API_KEY", "bench"),
        model=os.environ.get("VOICELIVE_MODEL", "gpt-realtime"),
        sample_rate=rate,
    )
    worker = PipelineWorker(
        Pipeline([transport.input(), bridge, transport.output()]),
        params=PipelineParams(audio_in_sample_rate=rate, audio_out_sample_rate=rate),
        idle_timeout_secs=None,
    )
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(_transport: Any, _client: Any) -> None:
        await runner.cancel()

    @bridge.event_handler("on_connected")
    async def on_connected(_bridge: Any) -> None:
        global connected_calls
        connected_calls += 1

    live_calls += 1
    try:
        await runner.run()
    finally:
        live_calls -= 1
