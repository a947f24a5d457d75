import asyncio

from voiceagent.audio import AudioBackend, AudioFormat
from voiceagent.audio.memory import MemoryAudio


class Listener:
    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.idle = asyncio.Event()
        self.mic_done = asyncio.Event()

    def on_input(self, pcm: bytes) -> None:
        self.blocks.append(pcm)

    def on_playback_idle(self) -> None:
        self.idle.set()


async def test_memory_backend_is_an_audio_backend_on_a_device_clock() -> None:
    audio = MemoryAudio(speed=20.0)
    assert isinstance(audio, AudioBackend)
    listener = Listener()
    await audio.start(AudioFormat(), listener)
    speech = bytes(range(256)) * 15  # 3840 bytes = 4 blocks
    audio.feed(speech)
    await audio.wait_input_consumed(timeout=5)
    assert b"".join(listener.blocks).find(speech) >= 0  # delivered in order, whole blocks
    assert all(len(b) == 960 for b in listener.blocks)

    reply = b"\x01\x00" * 2400  # 100 ms
    audio.play("item_1", reply)
    assert audio.is_playing
    await asyncio.wait_for(listener.idle.wait(), 5)
    assert audio.played_frames("item_1") == 2400
    assert audio.played_audio("item_1") == reply
    assert reply in bytes(audio.timeline)
    await audio.stop()
    await audio.stop()  # idempotent


async def test_flush_drops_queued_audio_and_keeps_the_played_count() -> None:
    audio = MemoryAudio(speed=10.0)
    listener = Listener()
    await audio.start(AudioFormat(), listener)
    audio.play("item_1", b"\x05\x00" * 24000)  # 1 s
    await audio.wait_heard(100, timeout=5)
    audio.flush()
    played = audio.played_frames("item_1")
    await audio.wait_ticks(3, timeout=5)
    assert audio.played_frames("item_1") == played  # nothing queued was played after flush
    assert not audio.is_playing
    assert audio.played_audio("item_1") == b"\x05\x00" * played
    await audio.stop()
