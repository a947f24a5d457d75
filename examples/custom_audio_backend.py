"""A custom audio backend: a peer bridge's shape, on the library's paced output.

A bridge to a remote peer (a phone line, a browser) is sent audio it buffers. "Played" must
mean *heard*, never "sent": a bridge that counts a frame as played when it queues or sends it
tells the service, on every interruption, that the user heard the whole reply. There are two
honest definitions, and a bridge uses one of them:

* the peer **acknowledges** what it played (a browser page reports its position, a carrier
  echoes marks): ``played_frames`` returns the last acknowledged count, and the backend
  declares ``AcknowledgedFlush`` so that a barge-in waits for the count after a flush;
* the peer acknowledges nothing: the bridge sends **paced at real time**, keeping a small lead
  in the peer's buffer, and counts a block as played once the peer must have played it (sent
  ``lead_blocks`` blocks ago). ``PacedOutput`` does exactly that: this example.

Here the "peer" is a list of sent blocks, the user types (no microphone), and the bridge hangs
up with ``on_closed`` when told to, as a bridge does when its caller goes away.

    python examples/custom_audio_backend.py [--emulator]
"""

import asyncio

from common import Replies, show_turns, target

from voiceagent import (
    AudioBackend,
    AudioFormat,
    AudioListener,
    BlockClock,
    PacedOutput,
    VoiceAgentSession,
)


class PacedPeerBridge:
    """Sends the agent's audio to a peer one 20 ms block at a time, 3 blocks ahead."""

    LEAD_BLOCKS = 3  # 60 ms in the peer's jitter buffer: enough to ride out network jitter

    def __init__(self) -> None:
        self.sent: list[bytes] = []  # what went to the peer (a WebSocket send, in a real bridge)
        self._output: PacedOutput | None = None
        self._listener: AudioListener | None = None
        self._clock: asyncio.Task[None] | None = None

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        # Open the connection to the peer here: a failure stops the session before it connects.
        self._listener = listener
        self._output = PacedOutput(fmt, lead_blocks=self.LEAD_BLOCKS)
        clock = BlockClock(fmt.block_ms / 1000.0)  # real time: the peer plays in real time
        self._clock = asyncio.create_task(clock.run(self._tick))

    def _tick(self) -> None:
        assert self._output is not None and self._listener is not None
        block = self._output.tick()
        if block.data:
            self.sent.append(block.data)  # send to the peer
        if block.drained:  # the peer has played everything it was sent
            self._listener.on_playback_idle()

    def play(self, item_id: str, pcm: bytes) -> None:  # never blocks: queue for the clock
        assert self._output is not None
        self._output.push(item_id, pcm)

    def flush(self) -> None:  # barge-in: drop the queue, and tell the peer to drop its buffer
        assert self._output is not None
        self._output.flush()

    def played_frames(self, item_id: str) -> int:  # heard: paced and played, not merely sent
        return self._output.played_frames(item_id) if self._output is not None else 0

    @property
    def is_playing(self) -> bool:
        return self._output is not None and self._output.is_playing

    def hang_up(self, reason: str) -> None:
        """What a bridge does when its peer goes away: the session closes with the reason."""
        if self._listener is not None:
            self._listener.on_closed(reason)

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None
        self._listener = None


async def main() -> None:
    bridge = PacedPeerBridge()
    assert isinstance(bridge, AudioBackend)  # the protocol is runtime-checkable
    async with target() as where:
        session = VoiceAgentSession(
            where.endpoint, where.agent(), credential=where.credential, audio=bridge
        )
        show_turns(session)
        closed = asyncio.get_running_loop().create_future()
        session.on("voiceagent.closed", lambda e: closed.done() or closed.set_result(e.reason))
        replies = Replies(session)
        await session.start()
        await session.send_text("Hello, can you hear me?")  # no microphone: type
        await replies.wait(1)  # logged once the peer has played the whole reply
        bridge.hang_up("the caller hung up")
        await session.wait_closed()  # a hang-up is no error: this returns
        print(f"closed: {await closed}")
    sent = sum(len(b) for b in bridge.sent) / 2 / session.format.sample_rate
    print(f"sent {sent:.1f} s of speech to the peer, paced in real time")


if __name__ == "__main__":
    asyncio.run(main())
