"""The ``voiceagent`` command: talk to an agent, run the emulator, or try the demo.

Uses only the public API, like any application would.

* ``voiceagent demo``: starts the embedded emulator, speaks a scripted question into it through
  the real SDK, writes the agent's spoken reply to a WAV file and prints the transcript. No Azure
  account, no sound card.
* ``voiceagent emulator --port 8765``: a local Voice Live service for your own app's tests.
* ``voiceagent run``: a voice conversation with your Foundry agent on the default microphone
  and speaker, configured by the Azure samples' environment variables.
* ``voiceagent devices``: list the audio devices.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path
from typing import Any

__all__ = ["main"]

DEMO_QUESTION = "What is the weather like in Paris today?"
DEMO_ANSWER = "It is sunny and twenty two degrees in Paris. A perfect day for a walk by the river."


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voiceagent", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="a scripted voice conversation on the embedded emulator")
    demo.add_argument("--out", default="out/demo-reply.wav", help="WAV file for the agent's reply")
    demo.add_argument("--question", default=DEMO_QUESTION, help="what the user says")
    demo.add_argument("--log", default=None, help="also write the conversation log (JSON Lines)")

    emu = sub.add_parser("emulator", help="run a local Voice Live emulator")
    emu.add_argument("args", nargs=argparse.REMAINDER, help="see: voiceagent emulator --help")

    run = sub.add_parser(
        "run", help="talk to your agent (env: VOICELIVE_ENDPOINT, AGENT_NAME, ...)"
    )
    run.add_argument("--greeting", default=None, help='"llm" or a text the agent says first')
    run.add_argument("--voice", default=None, help="e.g. en-US-Ava:DragonHDLatestNeural or alloy")
    run.add_argument("--log", default=None, help="write the conversation log (JSON Lines)")
    run.add_argument("--input-device", default=None, help="microphone: index or part of a name")
    run.add_argument("--output-device", default=None, help="speaker: index or part of a name")

    sub.add_parser("devices", help="list audio devices")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from . import VoiceAgentError

    try:
        if args.command == "emulator":
            from .emulator import main as emulator_main

            return emulator_main(args.args)
        if args.command == "demo":
            return asyncio.run(_demo(args))
        if args.command == "run":
            return asyncio.run(_run(args))
        if args.command == "devices":
            from . import list_devices

            for device in list_devices():
                print(device)
            return 0
    except VoiceAgentError as exc:
        print(f"voiceagent: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


def _speech_wav(text: str, directory: Path) -> Path:
    """The user's question as a WAV: real speech with espeak-ng, else speech-like audio."""
    path = directory / "question.wav"
    if shutil.which("espeak-ng"):
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), text],
            check=True,
            capture_output=True,
        )
    else:
        from .emulator.voice import synthesize

        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(24000)
            w.writeframes(synthesize(text).audio)
    return path


async def _demo(args: Any) -> int:
    from . import AgentConfig, InputTranscription, SessionOptions, VoiceAgentSession, WavAudio
    from .emulator import AgentScript, Emulator
    from .testing import EmulatorCredential

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    script = AgentScript(rules=[("weather", DEMO_ANSWER)])
    with tempfile.TemporaryDirectory() as tmp:
        question = _speech_wav(args.question, Path(tmp))
        async with Emulator(token="demo-token", script=script) as emu:
            emu.script.user_says(args.question)
            print(f"emulator: Voice Live on {emu.endpoint} (agent 'concierge', project 'demo')")
            audio = WavAudio(
                input_path=question, output_path=out, realtime=True, silence_between_turns=False
            )
            session = VoiceAgentSession(
                emu.endpoint,
                AgentConfig(agent_name="concierge", project_name="demo"),
                credential=EmulatorCredential("demo-token"),
                audio=audio,
                options=SessionOptions(
                    input_transcription=InputTranscription(model="azure-speech")
                ),
                log_path=args.log,
            )
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            @session.on("voiceagent.turn")
            def show(turn: Any) -> None:
                print(f"{turn.role:>9}: {turn.text}")
                if turn.role == "assistant" and not done.done():
                    done.set_result(None)

            async with session:
                print(f"  session: {session.session_id}")
                await asyncio.wait_for(done, 60)
    print(f"conversation: {session.conversation_id} (resume it with AgentConfig.resume)")
    print(f"agent's reply audio: {out}")
    return 0


async def _run(args: Any) -> int:
    from . import AgentConfig, SessionOptions, SoundDeviceAudio, VoiceAgentSession

    options = SessionOptions(voice=args.voice) if args.voice else SessionOptions()
    audio = SoundDeviceAudio(input_device=args.input_device, output_device=args.output_device)
    session = VoiceAgentSession(
        agent=AgentConfig.from_env(),
        options=options,
        audio=audio,
        greeting=args.greeting,
        log_path=args.log,
    )

    @session.on("voiceagent.turn")
    def show(turn: Any) -> None:
        mark = " [interrupted]" if turn.interrupted else ""
        print(f"{turn.role:>9}: {turn.text}{mark}")

    print("Talking to your agent; press Ctrl+C to stop.")
    await session.run()
    return 0
