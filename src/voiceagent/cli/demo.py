"""``voiceagent demo``: a scripted voice conversation, with an interruption, on the emulator."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

from .replies import ReplyCounter

__all__ = ["DEMO_ANSWER", "DEMO_QUESTION", "DEMO_THANKS", "add_arguments", "demo_command"]

DEMO_QUESTION = "What is the weather like in Paris today?"
DEMO_ANSWER = (
    "It is sunny and twenty two degrees in Paris. A perfect day for a walk by the river, "
    "then lunch on a terrace, and a visit to a museum in the afternoon."
)
DEMO_THANKS = "Thanks, that is all I needed."
DEMO_GOODBYE = "You are welcome. Goodbye!"
_RATE = 24000
_GAP_S = 2.2  # silence after the question: the agent is speaking when the user cuts in


def add_arguments(demo: argparse.ArgumentParser) -> None:
    """Add the ``demo`` flags."""
    demo.add_argument("--out", default="out/demo-reply.wav", help="WAV file for the agent's voice")
    demo.add_argument("--question", default=DEMO_QUESTION, help="what the user asks")
    demo.add_argument("--log", default=None, help="also write the conversation log (JSON Lines)")


def _speech(text: str, directory: Path) -> np.ndarray[Any, np.dtype[np.int16]]:
    """``text`` spoken by espeak-ng at 24 kHz, or speech-like tones when it is not installed."""
    if shutil.which("espeak-ng"):
        path = directory / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), text],
            check=True,
            capture_output=True,
        )
        with wave.open(str(path)) as w:
            rate, raw = w.getframerate(), w.readframes(w.getnframes())
        samples = np.frombuffer(raw, "<i2").astype(np.float64)
        positions = np.arange(0, len(samples), rate / _RATE)
        return np.interp(positions, np.arange(len(samples)), samples).astype(np.int16)
    syllables = []
    for i, _ in enumerate(text.split()):
        t = np.arange(int(0.18 * _RATE)) / _RATE
        pitch = 140 + 30 * np.sin(i)
        tone = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in (1, 2, 3))
        syllables.append(8000 * tone * np.sin(np.pi * t / t[-1]))
        syllables.append(np.zeros(int(0.06 * _RATE)))
    return np.concatenate(syllables).astype(np.int16)


def _conversation_wav(question: str, directory: Path) -> Path:
    """The user's side: the question, a pause while the agent answers, then an interruption."""
    gap = np.zeros(int(_GAP_S * _RATE), np.int16)
    audio = np.concatenate([_speech(question, directory), gap, _speech(DEMO_THANKS, directory)])
    path = directory / "user.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(_RATE)
        w.writeframes(audio.tobytes())
    return path


async def _demo(args: argparse.Namespace) -> int:
    from voiceagent import (
        AgentConfig,
        InputTranscription,
        SessionOptions,
        VoiceAgentSession,
        WavAudio,
    )
    from voiceagent.emulator import AgentScript, Emulator
    from voiceagent.testing import EmulatorCredential

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    script = AgentScript(rules=[("weather", DEMO_ANSWER), ("thank", DEMO_GOODBYE)])
    with tempfile.TemporaryDirectory() as tmp:
        user = _conversation_wav(args.question, Path(tmp))
        async with Emulator(token="demo-token", script=script) as emu:
            emu.script.user_says(args.question, DEMO_THANKS)
            print(f"emulator: Voice Live on {emu.endpoint} (agent 'concierge', project 'demo')")
            session = VoiceAgentSession(
                emu.endpoint,
                AgentConfig(agent_name="concierge", project_name="demo"),
                credential=EmulatorCredential("demo-token"),
                audio=WavAudio(user, out, realtime=True, silence_between_turns=False),
                options=SessionOptions(
                    input_transcription=InputTranscription(model="azure-speech")
                ),
                log_path=args.log,
            )
            replies = ReplyCounter(session)

            @session.on("voiceagent.turn")
            def show(turn: Any) -> None:
                mark = " [interrupted]" if turn.interrupted else ""
                print(f"{turn.role:>9}: {turn.text.strip()}{mark}")

            @session.on("voiceagent.barge_in")
            def barge_in(event: Any) -> None:
                print(f"  (the user cut in after hearing {event.played_ms} ms: playback stopped)")

            async with session:
                print(f"  session: {session.session_id}")
                await asyncio.wait_for(replies.wait_for(2), 60)
    print(f"conversation: {session.conversation_id} (resume it with AgentConfig.resume)")
    print(f"agent's voice: {out}")
    print(session.metrics.format())
    chart = out.with_name(out.stem + "-latency.png")
    try:
        from voiceagent.observe.chart import plot_latency

        plot_latency(session.metrics, chart, title="voiceagent demo: latency per turn")
        print(f"latency chart: {chart}")
    except ImportError:
        print("(install voiceagent[charts] for a latency chart)")
    return 0


def demo_command(args: argparse.Namespace) -> int:
    """``voiceagent demo``; returns the exit code."""
    return asyncio.run(_demo(args))
