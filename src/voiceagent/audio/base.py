"""The contract between the session and an audio backend.

A backend owns a microphone and a speaker (real or not). The session owns the network. They meet
here, and only here, so that any backend (PortAudio, WAV files, memory, a telephony bridge) can
be plugged into a :class:`~voiceagent.VoiceAgentSession`.

Frame contract (every method and callback):

* **Encoding**: 16-bit signed little-endian PCM, **mono**; or, for a backend that declares a
  :class:`NativeFormatBackend` ``native_format``, that format (G.711 u-law/A-law: one byte per
  frame) untouched.
* **Rate**: ``AudioFormat.sample_rate`` frames per second (24000 unless the session's output
  format says otherwise). One frame is one sample: ``AudioFormat.bytes_per_frame`` bytes (2 for
  PCM16, 1 for G.711).
* **Blocks**: ``on_input`` receives whole blocks of ``AudioFormat.block_frames`` frames
  (``block_bytes`` bytes) for device backends; file and memory backends may deliver any
  multiple of 2 bytes. ``play`` accepts any even number of bytes.
* **Threads**: every method is called on the event loop thread; every listener callback must be
  delivered on the event loop thread (a device backend hands over from its audio thread with
  ``loop.call_soon_threadsafe``).

Order (start before connect): the session calls ``start`` **before** it contacts the service,
so that a missing microphone or a bad device name fails before any network traffic. A backend
must therefore tolerate any delay between ``start`` and the first ``play`` (a connection takes
seconds; a failed one is followed by ``stop`` without any ``play``): a device keeps running
and outputs silence meanwhile. Microphone blocks delivered before the session is ready are
dropped by the session, which is right for a live microphone (that audio is in the past). A
backend whose microphone is a *script* (a file, fed bytes) would lose its beginning that way: when
the listener is a :class:`ReadyAwareListener` it awaits ``listener.wait_ready()`` before its
first block (:func:`wait_until_ready`); ``WavAudio`` and ``MemoryAudio`` do.

Per-item counts: ``played_frames`` answers for every item played since ``start`` (a backend
may reset them when started again). There is deliberately no "forget this item" call: the
session never tells a backend that an item is finished (it may still ask about an interrupted
item after a reconnect), and a count costs a few dozen bytes per assistant item, so an hour of
conversation keeps a few kilobytes.

"Played" means *heard* (or as close to it as the backend can know), never "handed over":

* a local device counts frames handed to its output callback;
* a virtual device (WAV, memory) counts frames its block clock has played;
* a **peer** (a browser, a phone line) counts what the peer acknowledged it played (the page's
  reports, a carrier's echoed marks), or, for a peer that acknowledges nothing, what it has sent
  *paced at real time* minus the lead it keeps in the peer's buffer. A backend that counts a
  frame as played when it is queued or sent truncates every interrupted reply at "heard
  everything".

Optional capabilities are declared protocols, checked with ``isinstance`` by the session (never
``hasattr``): :class:`PausableOutput` (local interruption: pause without dropping),
:class:`NativeFormatBackend` (the backend's peer speaks a wire format Voice Live takes, passed
through untouched), :class:`AcknowledgedFlush` (after a flush, the final played counts arrive
from the peer a moment later), :class:`ReportsStats` (counters for metrics).

Who calls what: methods of :class:`AudioBackend` are **called by the session**; methods of
:class:`AudioListener` are **called by the backend** (implemented by the session).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from .format import AudioFormat

__all__ = [
    "AcknowledgedFlush",
    "AudioBackend",
    "AudioListener",
    "NativeFormatBackend",
    "PausableOutput",
    "ReadyAwareListener",
    "ReportsStats",
    "native_format_of",
    "wait_until_ready",
]


class AudioListener(Protocol):
    """What a backend reports to the session (implemented by the session)."""

    def on_input(self, pcm: bytes) -> None:
        """Microphone audio: PCM16 mono at the format's rate. Must not block."""

    def on_playback_idle(self) -> None:
        """The output queue ran empty after playing audio: everything queued has been heard."""

    def on_closed(self, reason: str) -> None:
        """Called by the backend when its peer went away (a closed tab, a caller who hung up).

        The session closes as after ``aclose()`` (the service is told what was heard, the log
        keeps it); ``voiceagent.closed`` carries ``reason`` and ``wait_closed()`` returns
        normally. Safe to call more than once and after the session closed.
        """

    def on_error(self, exc: BaseException) -> None:
        """Called by the backend when it failed and cannot go on (a device lost, a peer broken).

        The session closes; ``wait_closed()`` raises :class:`~voiceagent.AudioError` with
        ``exc`` chained.
        """


@runtime_checkable
class ReadyAwareListener(AudioListener, Protocol):
    """A listener that can say when microphone audio starts to matter (the session's should)."""

    async def wait_ready(self) -> None:
        """Return once the session is connected and uses microphone audio.

        Backends with a scripted microphone await it before delivering their first block; it
        may never return (the connection failed), in which case the backend is stopped.
        """


@runtime_checkable
class _WaitsReady(Protocol):
    """Only ``wait_ready``: a listener written before ``on_closed``/``on_error`` still waits."""

    async def wait_ready(self) -> None: ...


async def wait_until_ready(listener: AudioListener) -> None:
    """Await ``listener.wait_ready()`` if the listener has it; return at once otherwise."""
    if isinstance(listener, _WaitsReady):
        await listener.wait_ready()


@runtime_checkable
class AudioBackend(Protocol):
    """A microphone and a speaker, as the session sees them.

    Lifecycle: ``start`` once (possibly long before the first ``play``: the session starts
    the audio before it connects), then any number of ``play``/``flush`` calls, then ``stop``
    (safe to call twice, and after a failed ``start``).
    """

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        """Open the devices and begin capture; raise :class:`~voiceagent.AudioError` if impossible.

        Called before the session connects: every check that can fail (device exists, format
        accepted, file readable) belongs here, not in the first ``play``.

        Args:
            fmt: The format the session sends and expects: PCM16 at the session rate, or the
                backend's ``native_format`` when it declares one.
            listener: Receives microphone blocks and playback notifications.
        """

    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue assistant audio for playback. Never blocks.

        Args:
            item_id: The assistant conversation item the audio belongs to; frames are counted
                per item for truncation.
            pcm: PCM16 mono at the format's rate (the service's bytes untouched for a
                native format backend).
        """

    def flush(self) -> None:
        """Barge-in: discard everything queued; the next device block is silent.

        Audio already handed to the device stays counted in :meth:`played_frames`; nothing queued
        before the flush is ever played after it.
        """

    def played_frames(self, item_id: str) -> int:
        """Frames of ``item_id`` actually handed to the output device (heard), not merely queued.

        0 for an item never played. Counts are kept from ``start`` on (see the module notes:
        there is no call to forget an item).
        """

    @property
    def is_playing(self) -> bool:
        """True while queued assistant audio remains to be played."""

    async def stop(self) -> None:
        """Close the devices. Never hangs; safe to call more than once."""


@runtime_checkable
class NativeFormatBackend(Protocol):
    """A backend whose peer speaks a format Voice Live takes natively (declared, optional).

    The session reads ``native_format`` when it is constructed: it asks the service for that
    format both ways (``input_audio_format``, ``input_audio_sampling_rate``,
    ``output_audio_format``), passes ``start`` that format, hands ``play`` the service's bytes
    untouched and sends ``on_input`` bytes untouched (no decode, no resample). ``played_frames``
    counts frames of that format (one byte per frame for G.711). A ``SessionOptions`` that sets
    another format is a :class:`~voiceagent.ConfigError` naming both.
    """

    @property
    def native_format(self) -> AudioFormat:
        """The format, e.g. ``AudioFormat.native("g711_ulaw", 8000)``."""


@runtime_checkable
class PausableOutput(Protocol):
    """Local interruption: stop playing without dropping anything (declared, optional)."""

    def pause_playback(self) -> bool:
        """Fade to silence at the next block; ``played_frames`` stops counting.

        Returns True if audio was queued.
        """

    def resume_playback(self) -> bool:
        """Continue where :meth:`pause_playback` stopped; True if audio was still queued."""


@runtime_checkable
class AcknowledgedFlush(Protocol):
    """A peer whose final played counts arrive after a flush (declared, optional).

    A browser drops its queue when told to, then reports how far it got; until that report
    arrives ``played_frames`` is the last count the peer sent. The session awaits
    :meth:`wait_flush_acknowledged` (bounded by its own timeout) between ``flush()`` and the
    truncation, so that the history keeps what the user really heard.
    """

    async def wait_flush_acknowledged(self) -> None:
        """Called by the session after ``flush()``: return once the peer confirmed the flush."""


@runtime_checkable
class ReportsStats(Protocol):
    """A backend that keeps counters (underruns, when a flush went silent), for metrics."""

    @property
    def stats(self) -> Any:
        """The backend's counters, as attributes (``underruns``, ``last_flush_silent_at``, ...).

        A counter the backend does not keep is absent.
        """


def native_format_of(audio: object) -> AudioFormat | None:
    """The backend's declared native format, or None (the session converts PCM16 as before)."""
    if isinstance(audio, NativeFormatBackend):
        return audio.native_format
    return None
