"""The contract between the session and an audio backend.

A backend owns a microphone and a speaker (real or not). The session owns the network. They meet
here, and only here, so that any backend (PortAudio, WAV files, memory, a telephony bridge) can
be plugged into a :class:`~voiceagent.VoiceAgentSession`.

Frame contract (every method and callback):

* **Encoding**: 16-bit signed little-endian PCM, **mono**.
* **Rate**: ``AudioFormat.sample_rate`` frames per second (24000 unless the session's output
  format says otherwise). One frame is one sample is 2 bytes.
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

Optional methods (a backend may have them; the session must check with ``hasattr`` before
calling): ``pause_playback() -> bool`` stops playing without dropping anything (the next
device block fades to silence, ``played_frames`` stops counting; True if audio was queued) and
``resume_playback() -> bool`` continues where it paused; ``flush`` ends a pause and drops the
queue. ``SoundDeviceAudio`` has both; with ``local_interruption=`` it calls them itself when an
on-device voice detector hears the user, and its ``flush()`` then confirms the cut.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .format import AudioFormat

__all__ = ["AudioBackend", "AudioListener", "ReadyAwareListener", "wait_until_ready"]


class AudioListener(Protocol):
    """What a backend reports to the session (implemented by the session)."""

    def on_input(self, pcm: bytes) -> None:
        """Microphone audio: PCM16 mono at the format's rate. Must not block."""

    def on_playback_idle(self) -> None:
        """The output queue ran empty after playing audio: everything queued has been heard."""


@runtime_checkable
class ReadyAwareListener(AudioListener, Protocol):
    """A listener that can say when microphone audio starts to matter (the session's should)."""

    async def wait_ready(self) -> None:
        """Return once the session is connected and uses microphone audio.

        Backends with a scripted microphone await it before delivering their first block; it
        may never return (the connection failed), in which case the backend is stopped.
        """


async def wait_until_ready(listener: AudioListener) -> None:
    """Await ``listener.wait_ready()`` if the listener has it; return at once otherwise."""
    if isinstance(listener, ReadyAwareListener):
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
            fmt: The PCM format the session sends and expects.
            listener: Receives microphone blocks and playback notifications.
        """

    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue assistant audio for playback. Never blocks.

        Args:
            item_id: The assistant conversation item the audio belongs to; frames are counted
                per item for truncation.
            pcm: PCM16 mono at the format's rate.
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
