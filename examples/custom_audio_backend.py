"""A custom audio backend: anything that implements the ``AudioBackend`` protocol.

This one has no microphone (the user types) and a "speaker" that collects the agent's audio
in memory and counts it as heard at once. A telephony or browser bridge has the same shape.

    python examples/custom_audio_backend.py [--emulator]
"""

import asyncio

from common import Replies, show_turns, target

from voiceagent import AudioBackend, AudioFormat, AudioListener, VoiceAgentSession


class CollectingSpeaker:
    """PCM16 mono at ``fmt.sample_rate`` in, kept in ``self.audio``; no microphone."""

    def __init__(self) -> None:
        self.audio = bytearray()
        self._played: dict[str, int] = {}
        self._listener: AudioListener | None = None

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        self._listener = listener  # open devices here: a failure stops the session early

    def play(self, item_id: str, pcm: bytes) -> None:  # never blocks
        self.audio += pcm
        self._played[item_id] = self._played.get(item_id, 0) + len(pcm) // 2
        if self._listener is not None:  # "everything queued was heard" (on the loop thread)
            asyncio.get_running_loop().call_soon(self._listener.on_playback_idle)

    def flush(self) -> None:  # barge-in: nothing is queued, so nothing to drop
        pass

    def played_frames(self, item_id: str) -> int:  # what the user heard, for truncation
        return self._played.get(item_id, 0)

    @property
    def is_playing(self) -> bool:
        return False

    async def stop(self) -> None:
        self._listener = None


async def main() -> None:
    speaker = CollectingSpeaker()
    assert isinstance(speaker, AudioBackend)  # the protocol is runtime-checkable
    async with target() as where:
        session = VoiceAgentSession(
            where.endpoint, where.agent(), credential=where.credential, audio=speaker
        )
        show_turns(session)
        replies = Replies(session)
        async with session:
            await session.send_text("Hello, can you hear me?")  # no microphone: type
            await replies.wait(1)
    print(f"collected {len(speaker.audio) / 2 / session.format.sample_rate:.1f} s of speech")


if __name__ == "__main__":
    asyncio.run(main())
