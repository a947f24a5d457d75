"""TelephonyBackend on its own: the seam's listener is the only stand-in (it is the session's)."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from voiceagent.bridges.telephony.backend import TelephonyBackend


class Listener:
    """Records what the backend reports to the session."""

    def __init__(self) -> None:
        self.inputs: list[bytes] = []
        self.closed: list[str] = []
        self.errors: list[BaseException] = []
        self.idle = 0

    def on_input(self, pcm: bytes) -> None:
        self.inputs.append(pcm)

    def on_playback_idle(self) -> None:
        self.idle += 1

    def on_closed(self, reason: str) -> None:
        self.closed.append(reason)

    def on_error(self, exc: BaseException) -> None:
        self.errors.append(exc)


class Socket:
    """The text frames the backend sends, and whether it closed the socket."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []
        self.closed = False
        self.changed = asyncio.Event()

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))
        self.changed.set()

    async def close(self) -> None:
        self.closed = True

    async def wait_for(self, n: int) -> None:
        while len(self.sent) < n:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)


START = json.dumps({"event": "start", "start": {"streamSid": "MZ1", "callSid": "CA1",
    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    "customParameters": {"token": "t-SECRET"}}})  # fmt: skip


async def started_twilio() -> tuple[TelephonyBackend, Socket, Listener]:
    sock, listener = Socket(), Listener()
    backend = TelephonyBackend.twilio(sock.send, sock.close, mark_interval_ms=100)
    backend.receive(START)
    call = await backend.wait_call_started(1)
    assert call.custom_parameters == {"token": "t-SECRET"} and "SECRET" not in repr(call)
    await backend.start(backend.native_format, listener)
    return backend, sock, listener


async def test_twilio_counts_played_from_echoed_marks_and_not_after_a_clear() -> None:
    backend, sock, listener = await started_twilio()
    backend.play("item1", b"\x7f" * 2400)  # 300 ms: three 100 ms chunks, each with a mark
    await sock.wait_for(6)
    kinds = [m["event"] for m in sock.sent]
    assert kinds == ["media", "mark"] * 3
    assert backend.played_frames("item1") == 0  # sent is not heard
    backend.receive(json.dumps({"event": "mark", "mark": {"name": sock.sent[1]["mark"]["name"]}}))  # type: ignore[index]
    assert backend.played_frames("item1") == 800 and backend.is_playing
    backend.flush()
    await sock.wait_for(7)
    assert sock.sent[6] == {"event": "clear", "streamSid": "MZ1"}
    for m in sock.sent[3:6:2]:  # Twilio echoes the dropped marks after the clear
        backend.receive(json.dumps({"event": "mark", "mark": m["mark"]}))
    assert backend.played_frames("item1") == 800 and not backend.is_playing
    await backend.stop()
    assert sock.closed


async def test_twilio_playback_idle_once_the_last_mark_is_echoed() -> None:
    backend, sock, listener = await started_twilio()
    backend.play("item1", b"\x7f" * 800)
    await sock.wait_for(2)
    assert listener.idle == 0
    backend.receive(json.dumps({"event": "mark", "mark": sock.sent[1]["mark"]}))
    assert listener.idle == 1 and backend.played_frames("item1") == 800
    await backend.stop()


async def test_twilio_caller_audio_passes_untouched_and_stop_is_a_hang_up() -> None:
    backend, _, listener = await started_twilio()
    ulaw = bytes(range(160))
    media = {
        "event": "media",
        "media": {"track": "inbound", "payload": base64.b64encode(ulaw).decode()},
    }
    backend.receive(json.dumps(media))
    backend.receive("garbage that is not JSON")  # logged and skipped, the call goes on
    backend.receive(json.dumps({"event": "stop", "stop": {"callSid": "CA1"}}))
    assert listener.inputs == [ulaw] and listener.closed == ["the caller hung up"]
    await backend.stop()


async def test_acs_silent_frames_are_forwarded_as_silence() -> None:
    sock, listener = Socket(), Listener()
    backend = TelephonyBackend.acs(sock.send, sock.close, sample_rate=24000)
    meta = {"subscriptionId": "s1", "encoding": "PCM", "sampleRate": 24000, "channels": 1}
    backend.receive(json.dumps({"kind": "AudioMetadata", "audioMetadata": meta}))
    await backend.wait_call_started(1)
    await backend.start(backend.native_format, listener)
    speech = b"\x10\x00" * 480
    data = {"data": base64.b64encode(speech).decode(), "silent": False}
    backend.receive(json.dumps({"kind": "AudioData", "audioData": data}))
    backend.receive(json.dumps({"kind": "AudioData", "audioData": {"data": "", "silent": True}}))
    noisy = base64.b64encode(b"\x01\x00" * 480).decode()
    backend.receive(json.dumps({"kind": "AudioData", "audioData": {"data": noisy, "silent": True}}))
    assert listener.inputs == [speech, bytes(960), bytes(960)]
    await backend.stop()


async def test_acs_sends_paced_and_stop_audio_at_once() -> None:
    sock, listener = Socket(), Listener()
    backend = TelephonyBackend.acs(sock.send, sock.close, lead_ms=80)
    meta = {"subscriptionId": "s1", "encoding": "PCM", "sampleRate": 24000, "channels": 1}
    backend.receive(json.dumps({"kind": "AudioMetadata", "audioMetadata": meta}))
    await backend.start(backend.native_format, listener)
    backend.play("item1", bytes(48000 * 2))  # two seconds
    await sock.wait_for(3)
    await asyncio.sleep(0)
    # only the lead went out at once: the rest waits at the bridge, where a flush drops it
    assert 3 <= len(sock.sent) <= 6
    assert backend.played_frames("item1") < 4 * 480
    backend.flush()
    await sock.wait_for(len(sock.sent) + 1)
    assert sock.sent[-1] == {"Kind": "StopAudio", "AudioData": None, "StopAudio": {}}
    assert not backend.is_playing
    await backend.stop()


async def test_a_format_the_backend_was_not_built_for_is_an_error() -> None:
    sock, listener = Socket(), Listener()
    backend = TelephonyBackend.acs(sock.send, sock.close, sample_rate=24000)
    await backend.start(backend.native_format, listener)
    meta = {"subscriptionId": "s1", "encoding": "PCM", "sampleRate": 16000, "channels": 1}
    backend.receive(json.dumps({"kind": "AudioMetadata", "audioMetadata": meta}))
    assert listener.errors and "16000 Hz" in str(listener.errors[0])
    assert "audio_format" in str(listener.errors[0])
    with pytest.raises(ConnectionError, match="closed before it started"):
        await backend.wait_call_started(1)
    with pytest.raises(ValueError, match="16000 or 24000"):
        TelephonyBackend.acs(sock.send, sock.close, sample_rate=8000)
    with pytest.raises(ValueError, match="mark_interval_ms"):
        TelephonyBackend.twilio(sock.send, sock.close, mark_interval_ms=5)
    await backend.stop()
