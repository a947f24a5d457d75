"""The whole product on real PortAudio: session + SoundDeviceAudio + virtual card + emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from conftest import find, read_wav
from voiceagent import AgentConfig, VoiceAgentSession
from voiceagent.audio.sounddevice_backend import SoundDeviceAudio
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.emulator.voice import synthesize
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.device

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")
SHORT = "It is sunny in Paris."
LONG = "Here is a long answer about the weather in Paris, London, Rome and Madrid. " * 2


def first_event(session: VoiceAgentSession, name: str, check: Any = None) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def resolve(event: Any) -> None:
        if not fut.done() and (check is None or check(event)):
            fut.set_result(event)

    session.on(name, resolve)
    return fut


async def test_a_spoken_turn_plays_the_agents_reply_on_the_card(virtual_card, speech_wav) -> None:
    speech, _ = read_wav(speech_wav)
    virtual_card.set_input(speech)
    async with Emulator(
        realtime=False, voice="synthetic", script=AgentScript(default=SHORT)
    ) as emu:
        audio = SoundDeviceAudio()
        session = VoiceAgentSession(
            emu.endpoint, AGENT, credential=EmulatorCredential(), audio=audio
        )
        turn = first_event(session, "voiceagent.turn", lambda t: t.role == "assistant")
        async with session:
            logged = await asyncio.wait_for(turn, 30)
    assert logged.text == SHORT and not logged.interrupted
    reply = np.frombuffer(synthesize(SHORT).audio, "<i2")
    out = virtual_card.output()
    start = find(out, reply[:4800])
    assert start >= 0, "the agent's reply never reached the card"
    assert np.array_equal(out[start : start + len(reply)], reply)  # all of it, bit-exact


async def test_barge_in_on_the_card_cuts_the_reply_and_truncates_to_what_was_played(
    virtual_card, speech_wav
) -> None:
    speech, _ = read_wav(speech_wav)
    gap = np.zeros(24000 * 2, dtype=np.int16)  # the user speaks again 2 s later
    virtual_card.set_input(np.concatenate([speech, gap, speech]))
    async with Emulator(realtime=False, voice="synthetic", script=AgentScript(default=LONG)) as emu:
        audio = SoundDeviceAudio()
        session = VoiceAgentSession(
            emu.endpoint, AGENT, credential=EmulatorCredential(), audio=audio
        )
        barge = first_event(session, "voiceagent.barge_in")
        async with session:
            server = await emu.wait_for_session(timeout=5)
            event = await asyncio.wait_for(barge, 30)
            truncate = await server.wait_for_client_event("conversation.item.truncate", timeout=5)
            played = audio.played_frames(event.item_id)
    reply = np.frombuffer(synthesize(LONG).audio, "<i2")  # the emulator speaks the text as is
    out = virtual_card.output()
    start = find(out, reply[:4800])
    assert start >= 0
    assert 0 < played < len(reply)  # cut in the middle
    heard = out[start:]
    assert np.array_equal(heard[:played], reply[:played])  # what was counted was played
    assert not heard[played + 96 :].any()  # then a <= 4 ms fade and silence: nothing queued
    assert abs(truncate["audio_end_ms"] - played * 1000 // 24000) <= 20  # within one block
