"""bench/pipecat_twilio.py's own parts: what it counts as heard speech and loop lag, and its
voiceagent half against a real ``voiceagent serve`` (the Pipecat half needs .venv-bench)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import pipecat_stacks  # noqa: E402
import pipecat_twilio  # noqa: E402


def test_speech_seconds_counts_frames_that_are_not_ulaw_silence() -> None:
    silence = b"\xff" * 160 * 10 + b"\x7f" * 160 * 5
    voice = bytes(np.random.default_rng(0).integers(0, 0x7E, 160 * 3, dtype=np.uint8))
    assert pipecat_twilio.speech_seconds(silence) == 0.0
    assert pipecat_twilio.speech_seconds(silence + voice + silence) == 3 * 0.02


def test_lag_bucket_bounds() -> None:
    counts = [0] * 11
    counts[1] = 99  # <= 5 ms
    counts[4] = 1  # <= 50 ms
    assert pipecat_twilio.p99_bound_ms(counts) == 5
    assert pipecat_twilio.max_bound_ms(counts) == 50
    counts[1] = 9  # one wake-up in ten was late
    assert pipecat_twilio.p99_bound_ms(counts) == 50


async def test_the_voiceagent_half_places_answered_calls_and_reads_the_servers_figures(
    tmp_path: Path,
) -> None:
    emulator, endpoint = await pipecat_stacks.start_emulator(1.5)
    args = argparse.Namespace(calls=2)
    try:
        server = await pipecat_stacks.start_voiceagent(endpoint, args, tmp_path)
        try:
            wav = tmp_path / "caller.wav"
            pipecat_twilio.write_wav(wav)
            lag0, cpu0 = await server.lag_counts(), server.cpu_s()
            calls = [await server.new_call(i) for i in range(2)]
            for call in calls:
                await call.__aenter__()
            talking = [asyncio.ensure_future(call.speak_wav(wav)) for call in calls]
            try:
                await pipecat_twilio.wait_heard(calls, 20)  # the webhook's stream was answered
            finally:
                for task in talking:
                    task.cancel()
                await asyncio.gather(*talking, return_exceptions=True)
                await asyncio.gather(*(call.hang_up() for call in calls))
            lag1 = await server.lag_counts()
            assert len(lag1) == len(pipecat_stacks.LAG_BOUNDS_S) + 1
            assert sum(lag1) > sum(lag0)  # /metrics' loop-lag histogram, per bucket
            assert server.cpu_s() > cpu0 and server.rss_mb() > 1
        finally:
            await server.stop()
        assert server.proc.returncode == 0
    finally:
        emulator.terminate()
        await emulator.wait()
