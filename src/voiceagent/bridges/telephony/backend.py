"""One audio backend for a phone call, whatever the carrier (Twilio Media Streams or ACS).

Transport-agnostic: the backend is given ``send`` (an async "send this text frame") and ``close``
(an async "close the socket"), and is fed the frames received, one by one (:meth:`receive`) or as
an async iterable (:meth:`run`), so aiohttp, an ASGI server or a test can drive it.

Audio passes through untouched in the carrier's format (:attr:`native_format`): u-law 8 kHz for
Twilio, PCM16 at the answered rate for ACS. "Played" means heard by the caller:

* Twilio: each chunk of sent audio is followed by a ``mark``; Twilio echoes a mark once the audio
  before it has played, so heard = audio before the last echoed mark. Marks echoed after a
  ``clear`` were dropped, not played, and are not counted.
* ACS acknowledges nothing: audio is sent paced at real time, at most ``lead_ms`` ahead of the
  line, and a frame counts as heard once the line's clock has passed it (sent minus the lead).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from ...audio.base import AudioListener
from ...audio.format import AudioFormat
from . import acs as acs_wire
from . import twilio as twilio_wire
from .errors import WireFormatError

__all__ = ["CallInfo", "TelephonyBackend"]

log = logging.getLogger(__name__)

Provider = Literal["twilio", "acs"]
SendText = Callable[[str], Awaitable[object]]
CloseSocket = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class CallInfo:
    """What the carrier said about the call when the stream started."""

    provider: Provider
    call_id: str
    stream_id: str
    sample_rate: int
    custom_parameters: dict[str, str]

    def __repr__(self) -> str:
        # the parameters carry the one-time stream token minted by the webhook
        return f"CallInfo({self.provider}, call_id={self.call_id!r}, stream_id={self.stream_id!r})"


@dataclass
class _Segment:
    """ACS: frames put on the line, playing from ``start`` (loop time) at real time."""

    item_id: str
    frames: int
    start: float
    rate: int

    def played(self, now: float) -> int:
        return max(0, min(self.frames, int((now - self.start) * self.rate)))


class TelephonyBackend:
    """The caller's phone as an :class:`~voiceagent.audio.base.AudioBackend`.

    Build one with :meth:`twilio` or :meth:`acs` once the carrier's WebSocket is accepted, feed
    it what the socket receives, await :meth:`wait_call_started`, then hand it to a session.
    """

    def __init__(
        self,
        provider: Provider,
        send: SendText,
        close: CloseSocket,
        *,
        sample_rate: int,
        chunk_ms: float,
        lead_ms: float = 0.0,
    ) -> None:
        """Prefer :meth:`twilio` / :meth:`acs`, which choose the format and chunking."""
        self._provider: Provider = provider
        self._send = send
        self._close = close
        self._format = AudioFormat.native(
            "g711_ulaw" if provider == "twilio" else "pcm16", sample_rate, block_ms=chunk_ms
        )
        self._rate = sample_rate
        self._bpf = self._format.bytes_per_frame
        self._chunk_bytes = self._format.block_bytes
        self._lead_s = lead_ms / 1000.0
        self._listener: AudioListener | None = None
        self._call: CallInfo | None = None
        self._started = asyncio.Event()
        self._wake = asyncio.Event()
        self._pending: collections.deque[tuple[str, bytes]] = collections.deque()
        self._clear_requested = False
        self._played: dict[str, int] = collections.defaultdict(int)
        self._marks: dict[str, tuple[str, int]] = {}  # Twilio: sent mark -> (item, frames)
        self._mark_seq = 0
        self._segments: collections.deque[_Segment] = collections.deque()  # ACS, on the line
        self._line_free_at = 0.0
        self._sent_since_idle = False
        self._silence = bytes(int(sample_rate * 0.02) * self._bpf)
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._stopped = False
        self.on_dtmf: Callable[[str], object] | None = None
        """Called with each key the caller presses (``attach`` publishes ``voiceagent.dtmf``)."""

    @classmethod
    def twilio(
        cls, send: SendText, close: CloseSocket, *, mark_interval_ms: float = 100.0
    ) -> TelephonyBackend:
        """A backend for a Twilio Media Stream: u-law 8 kHz, a mark every ``mark_interval_ms``.

        The truncation after a barge-in is exact to one mark interval; smaller intervals send
        more marks (one small text frame each).
        """
        if not 20.0 <= mark_interval_ms <= 1000.0:
            raise ValueError(f"mark_interval_ms={mark_interval_ms}: use 20 to 1000 ms")
        return cls("twilio", send, close, sample_rate=8000, chunk_ms=mark_interval_ms)

    @classmethod
    def acs(
        cls, send: SendText, close: CloseSocket, *, sample_rate: int = 24000, lead_ms: float = 80.0
    ) -> TelephonyBackend:
        """A backend for an ACS bidirectional media stream answered at ``sample_rate``.

        Audio goes out in 20 ms frames, at most ``lead_ms`` ahead of what the caller hears: a
        ``StopAudio`` drops at most that much, and "heard" is exact to within it.
        """
        if sample_rate not in (16000, 24000):
            raise ValueError(f"sample_rate={sample_rate}: ACS streams PCM at 16000 or 24000 Hz")
        if not 20.0 <= lead_ms <= 1000.0:
            raise ValueError(f"lead_ms={lead_ms}: use 20 to 1000 ms")
        return cls("acs", send, close, sample_rate=sample_rate, chunk_ms=20.0, lead_ms=lead_ms)

    # -- what the application sees --------------------------------------------------------

    @property
    def native_format(self) -> AudioFormat:
        """The carrier's format, passed through untouched (u-law 8 kHz or PCM16)."""
        return self._format

    @property
    def call(self) -> CallInfo | None:
        """The call, once the carrier started the stream (Twilio ``start``, ACS metadata)."""
        return self._call

    async def wait_call_started(self, timeout: float = 10.0) -> CallInfo:
        """Return the call once the stream started.

        Raises:
            TimeoutError: The carrier sent no ``start``/``AudioMetadata`` within ``timeout``.
            ConnectionError: The socket closed first.
        """
        await asyncio.wait_for(self._started.wait(), timeout)
        if self._call is None:
            raise ConnectionError(f"the {self._provider} media stream closed before it started")
        return self._call

    async def run(self, frames: AsyncIterable[str]) -> None:
        """Feed every frame received until the socket closes, then report the hang-up."""
        try:
            async for text in frames:
                self.receive(text)
        finally:
            self._peer_gone("the carrier closed the media stream")

    def receive(self, text: str) -> None:
        """Handle one text frame from the carrier.

        A malformed frame is logged and skipped (a carrier adding a message type must not
        drop the call).
        """
        try:
            if self._provider == "twilio":
                self._on_twilio(twilio_wire.parse_twilio(text))
            else:
                self._on_acs(acs_wire.parse_acs(text))
        except WireFormatError as exc:
            log.warning("ignored a %s frame: %s", self._provider, exc)

    # -- AudioBackend ----------------------------------------------------------------------

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Begin forwarding the caller's audio to ``listener`` (the session)."""
        if fmt != self._format:
            raise ValueError(f"the session asked for {fmt}, the call carries {self._format}")
        self._listener = listener
        if self._closed:
            listener.on_closed("the caller hung up before the session started")
        elif self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue the agent's audio (the carrier's format) for the caller."""
        if pcm and not self._closed:
            self._pending.append((item_id, pcm))
            self._wake.set()

    def flush(self) -> None:
        """Barge-in: drop what is not sent and tell the carrier to drop what it buffered."""
        self._pending.clear()
        if self._provider == "twilio":
            self._marks.clear()  # echoed after the clear means dropped, not played
            had_audio = self._sent_since_idle
        else:
            now = self._now()
            had_audio = self._line_free_at > now
            for seg in self._segments:
                self._played[seg.item_id] += seg.played(now)
            self._segments.clear()
            self._line_free_at = now
        self._sent_since_idle = False
        if had_audio and not self._closed:
            self._clear_requested = True
            self._wake.set()

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` the caller heard (echoed marks, or the paced line clock)."""
        self._settle()
        heard = self._played.get(item_id, 0)
        now = self._now()
        return heard + sum(s.played(now) for s in self._segments if s.item_id == item_id)

    @property
    def is_playing(self) -> bool:
        """True while audio is queued, buffered at the carrier or not yet confirmed played."""
        if self._pending:
            return True
        if self._provider == "twilio":
            return bool(self._marks)
        return self._line_free_at > self._now()

    async def stop(self) -> None:
        """The session ended: close the media socket (the carrier ends the stream)."""
        if self._stopped:
            return
        self._stopped = True
        self._closed = True
        self._started.set()
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        try:
            await self._close()
        except Exception as exc:  # already closed by the peer: nothing left to hang up
            log.debug("closing the %s media socket: %s", self._provider, exc)

    # -- inbound ---------------------------------------------------------------------------

    def _on_twilio(self, msg: twilio_wire.TwilioMessage) -> None:
        if isinstance(msg, twilio_wire.TwilioMedia):
            if msg.track == "inbound" and self._listener is not None:
                self._listener.on_input(msg.payload)
        elif isinstance(msg, twilio_wire.TwilioMark):
            sent = self._marks.pop(msg.name, None)
            if sent is not None:
                self._played[sent[0]] += sent[1]
                self._maybe_idle()
        elif isinstance(msg, twilio_wire.TwilioDtmf):
            self._dtmf(msg.digit)
        elif isinstance(msg, twilio_wire.TwilioStart):
            if msg.encoding != "audio/x-mulaw" or msg.sample_rate != 8000:
                self._fail(
                    f"Twilio streams {msg.encoding} at {msg.sample_rate} Hz, not u-law 8 kHz"
                )
                return
            self._call = CallInfo(
                "twilio", msg.call_sid, msg.stream_sid, 8000, dict(msg.custom_parameters)
            )
            self._started.set()
            self._wake.set()
        elif isinstance(msg, twilio_wire.TwilioStop):
            self._peer_gone("the caller hung up")

    def _on_acs(self, msg: acs_wire.AcsMessage) -> None:
        if isinstance(msg, acs_wire.AcsAudio):
            if self._listener is None or self._call is None:
                return
            # silent frames are forwarded as silence: the service's VAD and echo cancellation
            # need a continuous timeline
            pcm = msg.pcm
            if msg.silent or not pcm:
                pcm = bytes(len(pcm) or len(self._silence))
            self._listener.on_input(pcm)
        elif isinstance(msg, acs_wire.AcsDtmf):
            self._dtmf(msg.digit)
        elif isinstance(msg, acs_wire.AcsMetadata):
            if msg.encoding.upper() != "PCM" or msg.sample_rate != self._rate or msg.channels != 1:
                self._fail(
                    f"ACS streams {msg.encoding} {msg.sample_rate} Hz x{msg.channels}; this "
                    f"backend was built for PCM {self._rate} Hz mono: answer the call with the "
                    "matching audio_format"
                )
                return
            self._call = CallInfo("acs", msg.subscription_id, msg.subscription_id, self._rate, {})
            self._started.set()
            self._wake.set()

    def _dtmf(self, digit: str) -> None:
        if self.on_dtmf is not None:
            try:
                self.on_dtmf(digit)
            except Exception:  # an app's handler must not drop the call
                log.exception("the DTMF handler failed")

    def _peer_gone(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        self._started.set()
        if self._listener is not None:
            self._listener.on_closed(reason)

    def _fail(self, reason: str) -> None:
        self._closed = True
        self._started.set()
        if self._listener is not None:
            self._listener.on_error(WireFormatError(reason))
        log.error("%s", reason)

    # -- outbound --------------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _settle(self) -> None:
        """ACS: fold segments the line has finished playing into the per-item counts."""
        now = self._now()
        while self._segments and self._segments[0].played(now) == self._segments[0].frames:
            seg = self._segments.popleft()
            self._played[seg.item_id] += seg.frames

    def _maybe_idle(self) -> None:
        if self._sent_since_idle and not self.is_playing and self._listener is not None:
            self._sent_since_idle = False
            self._listener.on_playback_idle()

    def _take_chunk(self) -> tuple[str, bytes]:
        """The next chunk of one item, at most ``chunk_bytes``, from the queue's head."""
        item_id, _ = self._pending[0]
        parts: list[bytes] = []
        size = 0
        while self._pending and self._pending[0][0] == item_id and size < self._chunk_bytes:
            _, pcm = self._pending.popleft()
            room = self._chunk_bytes - size
            if len(pcm) > room:
                self._pending.appendleft((item_id, pcm[room:]))
                pcm = pcm[:room]
            parts.append(pcm)
            size += len(pcm)
        return item_id, b"".join(parts)

    async def _write_loop(self) -> None:
        try:
            await self._started.wait()
            while not self._closed:
                if self._clear_requested:
                    self._clear_requested = False
                    await self._send_clear()
                    continue
                if not self._pending:
                    await self._wait_for_work()
                    continue
                if self._provider == "acs":
                    ahead = self._line_free_at - self._now()
                    if ahead > self._lead_s:
                        await self._wait_for_work(ahead - self._lead_s)
                        continue
                item_id, chunk = self._take_chunk()
                await self._send_chunk(item_id, chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the socket broke while sending: the call is gone
            self._peer_gone(f"the {self._provider} media socket failed: {exc}")

    async def _wait_for_work(self, timeout: float | None = None) -> None:
        if timeout is None and self._provider == "acs" and self._line_free_at > self._now():
            timeout = self._line_free_at - self._now()  # wake to report playback idle
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        if self._provider == "acs":
            self._settle()
            self._maybe_idle()

    async def _send_clear(self) -> None:
        assert self._call is not None
        if self._provider == "twilio":
            await self._send(twilio_wire.encode_clear(self._call.stream_id))
        else:
            await self._send(acs_wire.encode_stop_audio())

    async def _send_chunk(self, item_id: str, chunk: bytes) -> None:
        assert self._call is not None
        frames = len(chunk) // self._bpf
        self._sent_since_idle = True
        if self._provider == "twilio":
            self._mark_seq += 1
            name = f"m{self._mark_seq}"
            self._marks[name] = (item_id, frames)
            await self._send(twilio_wire.encode_media(self._call.stream_id, chunk))
            await self._send(twilio_wire.encode_mark(self._call.stream_id, name))
        else:
            now = self._now()
            start = max(now, self._line_free_at)
            self._segments.append(_Segment(item_id, frames, start, self._rate))
            self._line_free_at = start + frames / self._rate
            await self._send(acs_wire.encode_acs_audio(chunk))
