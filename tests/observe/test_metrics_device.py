"""Metrics from a device backend's own counters: real PortAudio on the virtual ALSA card."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from azure.core.credentials import AzureKeyCredential

from audio_device import VirtualCard
from session_helpers import user_speech
from voiceagent import TurnMetrics, VoiceAgentSession
from voiceagent.audio.sounddevice_backend import SoundDeviceAudio
from voiceagent.emulator import AgentScript, Emulator, Faults

pytestmark = [pytest.mark.device, pytest.mark.usefixtures("clean_env")]

STORY = "Let me tell you a rather long story about the weather in Paris and in London. " * 2


@pytest.fixture
def card(tmp_path: Path) -> Iterator[VirtualCard]:
    virtual = VirtualCard(tmp_path).start()
    try:
        yield virtual
    finally:
        virtual.close()


async def test_barge_in_reaction_and_underruns_from_the_device_counters(card: VirtualCard) -> None:
    speech = np.frombuffer(user_speech("tell me a story"), "<i2")
    gap = np.zeros(24000 * 2, dtype=np.int16)  # the user speaks again 2 s into the reply
    card.set_input(np.concatenate([speech, gap, np.frombuffer(user_speech("stop"), "<i2")]))
    script = AgentScript(default=STORY)
    script.user_says("tell me a story", "stop")
    emulator = Emulator(api_key="k", timing="realistic", faults=Faults(delay_ms=30), script=script)
    async with emulator as emu:
        audio = SoundDeviceAudio()
        session = VoiceAgentSession(
            emu.endpoint, model="gpt-realtime", credential=AzureKeyCredential("k"), audio=audio
        )
        figures: asyncio.Future[TurnMetrics] = asyncio.get_running_loop().create_future()

        def first_cut(m: Any) -> None:
            if m.interrupted and not figures.done():
                figures.set_result(m)

        session.on("voiceagent.metrics", first_cut)
        async with session:
            turn = await asyncio.wait_for(figures, 30)
            stats = audio.stats
    assert turn.underruns is not None and turn.underruns >= 0  # the device counts them
    reaction = turn.barge_in_reaction_ms
    assert reaction is not None and stats.last_flush_silent_at is not None
    assert 0 <= reaction < 150  # a 10 ms block plus the output latency, not a guess
    received, played = turn.first_audio_received_ms, turn.first_audio_played_ms
    assert received is not None and played is not None and received <= played < received + 500
    assert turn.truncated_at_ms is not None and turn.truncated_at_ms > 0
