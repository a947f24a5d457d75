"""Fake phone carriers for tests: a Twilio and an ACS peer that call a WebSocket URL.

They follow the providers' documented wire formats and behave like a carrier's media edge:
audio sent to them goes into a buffer (``depth_ms`` of it before playout starts, arrivals
delayed by up to ``jitter_ms``) and is played at real time in 20 ms ticks; Twilio marks are
echoed once the audio before them has played, and at once when a ``clear`` drops them; ``clear``
/ ``StopAudio`` empties the buffer. What was actually played is recorded (:attr:`played`), so a
test can compare the session's truncation with what the caller heard. The caller's microphone
sends silence at real time (as a line does) and speaks PCM16 24 kHz or a WAV file on demand.

Example::

    async with FakeTwilioCall("ws://127.0.0.1:8080/media/twilio") as call:
        await call.wait_played(ms=500)
        await call.speak(pcm16_24k)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import wave
from collections import deque
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import soxr

from voiceagent.protocol.g711 import ulaw_encode

__all__ = ["FakeAcsCall", "FakeCarrierCall", "FakeTwilioCall"]

TICK_S = 0.02


class FakeCarrierCall:
    """What both fake carriers share: the socket, the playout buffer, the caller's microphone."""

    rate: int
    bytes_per_frame: int

    def __init__(
        self,
        url: str,
        *,
        depth_ms: float = 60.0,
        jitter_ms: float = 0.0,
        seed: int = 0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Prepare a call to ``url`` (connected on ``async with``)."""
        self.url = url
        self.depth_ms = depth_ms
        self.jitter_ms = jitter_ms
        self._random = random.Random(seed)
        self._headers = headers or {}
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._buffer: deque[bytes | str] = deque()  # audio chunks and mark names, in order
        self._buffered_bytes = 0
        self._arrivals: asyncio.Queue[tuple[float, int, dict[str, Any]]] = asyncio.Queue()
        self._generation = 0  # bumped by a clear: what arrived before it is dropped
        self._speech: deque[bytes] = deque()
        self._speech_done: asyncio.Event = asyncio.Event()
        self._first_frame = False
        self._progress = asyncio.Condition()
        self.played = bytearray()
        """Every byte of agent audio the caller heard, in the carrier's format."""
        self.clears: list[int] = []
        """``len(played)`` at each clear/StopAudio: where the caller stopped hearing."""
        self.cleared_at: list[float] = []
        """Loop time of each clear/StopAudio: the line went silent then."""
        self.spoke_at: list[float] = []
        """Loop time each :meth:`speak` put its first frame on the line."""
        self.received: list[dict[str, Any]] = []
        """Every message the server sent, in order."""
        self.ticks = 0
        """20 ms playout ticks run so far."""
        self.closed_by_server = asyncio.Event()
        """Set when the server closed the media socket (it hung up)."""

    # -- the call ----------------------------------------------------------------------------

    async def __aenter__(self) -> FakeCarrierCall:
        self._http = aiohttp.ClientSession()
        ws = await self._http.ws_connect(self.url, headers=self._headers)
        self._ws = ws
        for text in self._opening():
            await ws.send_str(text)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._receive_loop()),
            loop.create_task(self._arrival_loop()),
            loop.create_task(self._clock_loop()),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hang_up()

    async def hang_up(self) -> None:
        """The caller hangs up: the carrier says so (Twilio ``stop``) and closes the socket."""
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(Exception):
                for text in self._closing():
                    await self._ws.send_str(text)
                await self._ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    async def wait_closed_by_server(self, timeout: float = 10.0) -> None:
        """Return once the server hung up (closed the media socket)."""
        await asyncio.wait_for(self.closed_by_server.wait(), timeout)

    @property
    def played_ms(self) -> float:
        """Milliseconds of agent audio the caller heard."""
        return 1000.0 * len(self.played) / self.bytes_per_frame / self.rate

    async def wait_played(self, ms: float, timeout: float = 10.0) -> None:
        """Return once the caller has heard ``ms`` of agent audio."""

        async def heard() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self.played_ms >= ms)

        await asyncio.wait_for(heard(), timeout)

    async def wait_ticks(self, n: int, timeout: float = 10.0) -> None:
        """Return after ``n`` more 20 ms playout ticks (the line kept playing meanwhile)."""
        target = self.ticks + n

        async def ticked() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self.ticks >= target)

        await asyncio.wait_for(ticked(), timeout)

    async def wait_for_message(self, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        """Return the first message from the server (past or future) ``predicate`` accepts."""

        async def found() -> dict[str, Any]:
            async with self._progress:
                await self._progress.wait_for(lambda: any(predicate(m) for m in self.received))
            return next(m for m in self.received if predicate(m))

        return await asyncio.wait_for(found(), timeout)

    # -- the caller's microphone ------------------------------------------------------------

    async def speak(self, pcm16_24k: bytes) -> None:
        """Say PCM16 mono 24 kHz into the phone, at real time; return when it has been sent."""
        audio = np.frombuffer(pcm16_24k, dtype="<i2")
        if self.rate != 24000:
            audio = soxr.resample(audio, 24000, self.rate)
        line = self._encode_mic(np.asarray(audio, dtype="<i2").tobytes())
        step = int(self.rate * TICK_S) * self.bytes_per_frame
        self._speech_done.clear()
        self._first_frame = True
        self._speech.extend(line[i : i + step] for i in range(0, len(line), step))
        await self._speech_done.wait()

    async def speak_wav(self, path: str | Path) -> None:
        """Say a 16-bit mono WAV file (any rate) into the phone."""
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise ValueError(f"{path}: speak_wav needs 16-bit mono PCM")
            rate, frames = wav.getframerate(), wav.readframes(wav.getnframes())
        audio = np.frombuffer(frames, dtype="<i2")
        if rate != 24000:
            audio = np.asarray(soxr.resample(audio, rate, 24000), dtype="<i2")
        await self.speak(audio.tobytes())

    # -- what each carrier says differently -------------------------------------------------

    def _opening(self) -> list[str]:
        raise NotImplementedError

    def _closing(self) -> list[str]:
        return []

    def _encode_mic(self, pcm: bytes) -> bytes:
        return pcm

    def _mic_frame(self, frame: bytes | None) -> str:
        raise NotImplementedError

    def _on_message(self, msg: dict[str, Any]) -> None:
        raise NotImplementedError

    async def _echo_mark(self, name: str) -> None:
        """Twilio only: tell the server its mark was reached."""

    # -- the carrier's media edge -----------------------------------------------------------

    def _enqueue(self, item: bytes | str) -> None:
        self._buffer.append(item)
        if isinstance(item, bytes):
            self._buffered_bytes += len(item)

    async def _clear(self) -> None:
        self.clears.append(len(self.played))
        self.cleared_at.append(asyncio.get_running_loop().time())
        marks = [m for m in self._buffer if isinstance(m, str)]
        self._buffer.clear()
        self._buffered_bytes = 0
        self._generation += 1
        while not self._arrivals.empty():  # in flight inside the carrier: dropped too
            _, _, msg = self._arrivals.get_nowait()
            if msg.get("event") == "mark":
                marks.append(msg["mark"]["name"])
        for name in marks:
            await self._echo_mark(name)

    async def _receive_loop(self) -> None:
        assert self._ws is not None
        loop = asyncio.get_running_loop()
        try:
            async for frame in self._ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    raise AssertionError(f"a carrier accepts text frames only, got {frame.type}")
                msg = json.loads(frame.data)
                self.received.append(msg)
                async with self._progress:
                    self._progress.notify_all()
                if msg.get("event") == "clear" or msg.get("Kind") == "StopAudio":
                    await self._clear()
                else:
                    delay = self._random.uniform(0, self.jitter_ms) / 1000.0
                    await self._arrivals.put((loop.time() + delay, self._generation, msg))
        finally:
            self.closed_by_server.set()

    async def _arrival_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, generation, msg = await self._arrivals.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if generation == self._generation:
                self._on_message(msg)
            elif msg.get("event") == "mark":  # dropped by a clear while in flight
                await self._echo_mark(str(msg["mark"]["name"]))

    async def _clock_loop(self) -> None:
        """One 20 ms tick at a time, on an absolute schedule: playout and the microphone."""
        assert self._ws is not None
        loop = asyncio.get_running_loop()
        step = int(self.rate * TICK_S) * self.bytes_per_frame
        depth = int(self.rate * self.depth_ms / 1000) * self.bytes_per_frame
        playing = False
        start = loop.time()
        tick = 0
        while not self._ws.closed:
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * TICK_S - loop.time()))
            frame = self._speech.popleft() if self._speech else None
            if frame is not None and self._first_frame:
                self._first_frame = False
                self.spoke_at.append(loop.time())
            if not self._speech:
                self._speech_done.set()
            with contextlib.suppress(ConnectionError):
                await self._ws.send_str(self._mic_frame(frame))
            if not playing and self._buffered_bytes >= max(depth, 1):
                playing = True
            if playing:
                await self._play(step)
                playing = self._buffered_bytes > 0
            self.ticks += 1
            async with self._progress:
                self._progress.notify_all()

    async def _play(self, step: int) -> None:
        want = step
        while self._buffer and (want > 0 or isinstance(self._buffer[0], str)):
            head = self._buffer[0]
            if isinstance(head, str):  # everything before this mark has played
                self._buffer.popleft()
                await self._echo_mark(head)
                continue
            take = head[:want]
            if len(take) == len(head):
                self._buffer.popleft()
            else:
                self._buffer[0] = head[want:]
            self._buffered_bytes -= len(take)
            self.played += take
            want -= len(take)
        async with self._progress:
            self._progress.notify_all()


class FakeTwilioCall(FakeCarrierCall):
    """A Twilio Media Stream: u-law 8 kHz, ``connected``/``start``/``media``/``dtmf``/``stop``."""

    rate = 8000
    bytes_per_frame = 1

    def __init__(self, url: str, *, parameters: dict[str, str] | None = None, **kw: Any) -> None:
        """A call whose ``start`` carries ``parameters`` (the TwiML ``<Parameter>``s)."""
        super().__init__(url, **kw)
        self.parameters = parameters or {}
        self.stream_sid = "MZ" + f"{self._random.getrandbits(128):032x}"
        self.call_sid = "CA" + f"{self._random.getrandbits(128):032x}"
        self._chunk = 0

    def _opening(self) -> list[str]:
        start = {
            "accountSid": "AC" + "0" * 32,
            "streamSid": self.stream_sid,
            "callSid": self.call_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": self.parameters,
        }
        return [
            json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
            json.dumps({"event": "start", "start": start, "streamSid": self.stream_sid}),
        ]

    def _closing(self) -> list[str]:
        stop = {"accountSid": "AC" + "0" * 32, "callSid": self.call_sid}
        return [json.dumps({"event": "stop", "streamSid": self.stream_sid, "stop": stop})]

    def _encode_mic(self, pcm: bytes) -> bytes:
        return ulaw_encode(pcm)

    def _mic_frame(self, frame: bytes | None) -> str:
        self._chunk += 1
        payload = frame if frame is not None else b"\xff" * 160  # u-law silence
        media = {
            "track": "inbound",
            "chunk": str(self._chunk),
            "timestamp": str(self._chunk * 20),
            "payload": base64.b64encode(payload).decode("ascii"),
        }
        return json.dumps({"event": "media", "streamSid": self.stream_sid, "media": media})

    async def press(self, digit: str) -> None:
        """The caller presses a key."""
        assert self._ws is not None
        dtmf = {"track": "inbound_track", "digit": digit}
        await self._ws.send_str(
            json.dumps({"event": "dtmf", "streamSid": self.stream_sid, "dtmf": dtmf})
        )

    def _on_message(self, msg: dict[str, Any]) -> None:
        event = msg.get("event")
        if msg.get("streamSid") != self.stream_sid:
            raise AssertionError(f"message for another stream: {msg}")
        if event == "media":
            self._enqueue(base64.b64decode(msg["media"]["payload"]))
        elif event == "mark":
            self._enqueue(str(msg["mark"]["name"]))
        else:
            raise AssertionError(f"Twilio does not take {event!r} messages")

    async def _echo_mark(self, name: str) -> None:
        assert self._ws is not None
        mark = {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}
        with contextlib.suppress(ConnectionError):
            await self._ws.send_str(json.dumps(mark))


class FakeAcsCall(FakeCarrierCall):
    """An ACS bidirectional media stream: PCM16 mono at ``sample_rate``, silent frames flagged."""

    bytes_per_frame = 2

    def __init__(self, url: str, *, sample_rate: int = 24000, **kw: Any) -> None:
        """A call answered with PCM at ``sample_rate`` (16000 or 24000)."""
        super().__init__(url, **kw)
        self.rate = sample_rate
        self.subscription_id = f"{self._random.getrandbits(128):032x}"

    def _opening(self) -> list[str]:
        meta = {
            "subscriptionId": self.subscription_id,
            "encoding": "PCM",
            "sampleRate": self.rate,
            "channels": 1,
            "length": int(self.rate * TICK_S) * 2,
        }
        return [json.dumps({"kind": "AudioMetadata", "audioMetadata": meta})]

    def _mic_frame(self, frame: bytes | None) -> str:
        data = {
            "timestamp": "2026-01-01T00:00:00.000Z",
            "participantRawID": "4:+15550100",
            "data": base64.b64encode(frame).decode("ascii") if frame else "",
            "silent": frame is None,
        }
        return json.dumps({"kind": "AudioData", "audioData": data})

    async def press(self, digit: str) -> None:
        """The caller presses a key."""
        assert self._ws is not None
        await self._ws.send_str(json.dumps({"kind": "DtmfData", "dtmfData": {"data": digit}}))

    def _on_message(self, msg: dict[str, Any]) -> None:
        if msg.get("Kind") != "AudioData":
            raise AssertionError(f"ACS does not take {msg.get('Kind')!r} messages")
        self._enqueue(base64.b64decode(msg["AudioData"]["Data"]))
