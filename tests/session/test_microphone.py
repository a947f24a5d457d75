"""The microphone's way to the service: every block at once by default, or batched on request.

Through the real SDK to the emulator: the emulator records each ``input_audio_buffer.append``,
so the size of what arrived says how the session sent it.
"""

from __future__ import annotations

import base64

import pytest
from azure.core.credentials import AzureKeyCredential

from session_helpers import KEY, user_speech
from voiceagent import ConfigError, MemoryAudio, VoiceAgentSession
from voiceagent.emulator import Emulator

BLOCK_BYTES = 960  # 20 ms of PCM16 at 24 kHz: MemoryAudio's microphone block


async def appended_sizes(send_batch_ms: float | None) -> list[int]:
    async with Emulator(api_key=KEY, realtime=False) as emu:
        audio = MemoryAudio(speed=1.0)
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            audio=audio,
            send_batch_ms=send_batch_ms,
        )
        async with session:
            server = await emu.wait_for_session(timeout=5)
            audio.feed(user_speech("hello")[: BLOCK_BYTES * 20])  # 400 ms of speech
            await audio.wait_ticks(30, timeout=10)  # 600 ms of microphone blocks
        appends = [e for e in server.received if e["type"] == "input_audio_buffer.append"]
    return [len(base64.b64decode(e["audio"])) for e in appends]


async def test_without_batching_blocks_go_as_they_come() -> None:
    sizes = await appended_sizes(None)
    assert sum(sizes) >= 20 * BLOCK_BYTES
    assert BLOCK_BYTES in sizes  # an idle loop sends a block the moment it arrives


async def test_send_batch_ms_gathers_that_much_audio_per_append() -> None:
    sizes = await appended_sizes(40)
    assert sum(sizes) >= 20 * BLOCK_BYTES
    assert all(size >= 2 * BLOCK_BYTES for size in sizes), sizes  # 40 ms at least, each


@pytest.mark.parametrize("bad", [0, -20, float("nan"), True, "40"])
def test_send_batch_ms_is_checked(bad: object) -> None:
    with pytest.raises(ConfigError, match="send_batch_ms"):
        VoiceAgentSession(
            "http://127.0.0.1:1",
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            send_batch_ms=bad,  # type: ignore[arg-type]
        )
