"""WebAudioBackend: the audio seam for a browser tab, carried over one WebSocket.

Who calls what: the session calls the :class:`~voiceagent.audio.base.AudioBackend` methods
(``play``, ``flush``, ``played_frames``, ...). The transport (``voiceagent.serve``, or your own)
calls :meth:`WebAudioBackend.receive_binary` / :meth:`WebAudioBackend.receive_text` with what the
page sent, drains :meth:`WebAudioBackend.next_outgoing` into the socket, and calls
:meth:`WebAudioBackend.peer_closed` when the socket goes. The backend knows no web framework.

"Played" is what the page's playback worklet reports it output, never what was sent: a reply cut
off by the user is truncated at what the user heard.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass

from ...audio.base import AudioListener
from ...audio.format import AudioFormat
from . import framing

__all__ = ["WebAudioBackend", "WebLimits"]

_FORMAT = AudioFormat.native("pcm16", framing.SAMPLE_RATE)


@dataclass(frozen=True)
class WebLimits:
    """Bounds that keep one tab from costing the server more than it should.

    Attributes:
        max_frame_bytes: Largest binary frame the page may send (default 1 s of audio).
        max_queued_bytes: Outgoing bytes waiting for the socket (default 2 min of audio); past
            it the page is too slow to read and the conversation ends.
    """

    max_frame_bytes: int = 48_000
    max_queued_bytes: int = 24000 * 2 * 120


class WebAudioBackend:
    """The microphone and speaker of one browser tab (PCM16 24 kHz, passed through untouched).

    Declares :class:`~voiceagent.audio.base.NativeFormatBackend` (``pcm16`` at 24 kHz) and
    :class:`~voiceagent.audio.base.AcknowledgedFlush` (the page reports its final counts after a
    ``clear``).

    Args:
        limits: Frame and queue bounds.
    """

    def __init__(self, limits: WebLimits | None = None) -> None:
        self.limits = limits or WebLimits()
        self._listener: AudioListener | None = None
        self._out: collections.deque[bytes | str] = collections.deque()
        self._queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._stopped = False  # the session is done with the audio
        self._finished = False  # nothing more goes to the page
        self._item: str | None = None
        self._played: dict[str, int] = {}
        self._sent_total = 0
        self._page_received = 0
        self._page_idle = True
        self._clear_seq = 0
        self._flush_acked = asyncio.Event()
        self._flush_acked.set()
        self.overflowed = False

    # -- the seam, called by the session ------------------------------------------------------

    @property
    def native_format(self) -> AudioFormat:
        """PCM16 at 24 kHz: what the page captures and plays."""
        return _FORMAT

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Keep the listener; the page is already connected (nothing can fail here)."""
        self._listener = listener

    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue ``pcm`` for the page, announcing ``item_id`` when it changes."""
        if self._stopped or self._finished or not pcm:
            return
        if item_id != self._item:
            self._item = item_id
            self._push(framing.audio_message(item_id))
        self._sent_total += len(pcm) // 2
        self._page_idle = False
        self._push(pcm)

    def flush(self) -> None:
        """Drop audio not yet sent, and tell the page to drop what it holds (``clear``)."""
        kept = [m for m in self._out if isinstance(m, str)]
        self._out = collections.deque(kept)
        self._queued_bytes = sum(len(m) for m in kept)
        self._item = None  # the next audio is announced again
        self._clear_seq += 1
        self._flush_acked.clear()
        self._push(framing.clear_message(self._clear_seq))
        self._page_idle = True
        self._sent_total = self._page_received = 0  # counted again from the page's clear on

    async def wait_flush_acknowledged(self) -> None:
        """Return once the page answered the last ``clear`` (or went away)."""
        await self._flush_acked.wait()

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` the page reported it played."""
        return self._played.get(item_id, 0)

    @property
    def is_playing(self) -> bool:
        """True while the page holds (or will receive) audio it has not played."""
        return not self._page_idle

    async def stop(self) -> None:
        """No more audio; control messages (``closed``) still go out until :meth:`finish`."""
        self._stopped = True
        self._flush_acked.set()

    def finish(self) -> None:
        """Called by the transport: end the outgoing stream once what is queued has been sent."""
        self._finished = True
        self._wakeup.set()

    # -- the transport's side -----------------------------------------------------------------

    def send_control(self, message: str) -> None:
        """Queue a control message (``voiceagent.bridges.web.framing``) for the page."""
        if not self._finished:
            self._push(message)

    async def next_outgoing(self) -> bytes | str | None:
        """The next frame to send to the page; None once the backend is stopped and drained."""
        while not self._out:
            if self._finished:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        message = self._out.popleft()
        self._queued_bytes -= len(message)
        return message

    def receive_binary(self, data: bytes) -> None:
        """Microphone audio from the page.

        Raises:
            FrameError: The frame is too large or not whole PCM16 frames.
        """
        if len(data) > self.limits.max_frame_bytes:
            raise framing.FrameError(
                f"an audio frame may be at most {self.limits.max_frame_bytes} bytes, got "
                f"{len(data)}: send 20-100 ms of PCM16 at 24 kHz per frame"
            )
        if len(data) % 2:
            raise framing.FrameError("an audio frame must be whole PCM16 samples (even length)")
        if self._listener is not None and data:
            self._listener.on_input(data)

    def receive_text(self, text: str) -> framing.PageMessage:
        """A control message from the page: played reports update the counts.

        Raises:
            FrameError: The message is malformed (the transport tells the page and goes on).
        """
        message = framing.parse_page_message(text)
        for item_id, frames in message.frames.items():
            if frames > self._played.get(item_id, 0):  # reports are cumulative; keep the max
                self._played[item_id] = frames
        if message.type == "played" and message.seq == self._clear_seq:
            self._page_received = max(self._page_received, message.received)
            if message.idle and self._page_received >= self._sent_total and not self._page_idle:
                self._page_idle = True
                if self._listener is not None:
                    self._listener.on_playback_idle()
        elif message.type == "cleared" and message.seq >= self._clear_seq:
            self._flush_acked.set()
        return message

    def peer_closed(self, reason: str) -> None:
        """The socket went away: stop sending and tell the session (it closes)."""
        self._stopped = self._finished = True
        self._flush_acked.set()
        self._wakeup.set()
        if self._listener is not None:
            self._listener.on_closed(reason)

    def _push(self, message: bytes | str) -> None:
        if self._queued_bytes + len(message) > self.limits.max_queued_bytes:
            self.overflowed = True  # the page stopped reading: end rather than grow forever
            self.peer_closed("the page stopped reading its audio")
            return
        self._out.append(message)
        self._queued_bytes += len(message)
        self._wakeup.set()
