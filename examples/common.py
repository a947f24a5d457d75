"""What the examples share: where to connect, who "speaks" offline, and stopping after a reply.

(``talk_like_a_page`` is the browser of the web examples, offline.)

Every example runs two ways:

    python examples/basic_agent.py              # Azure: VOICELIVE_ENDPOINT, AGENT_NAME, ... and
                                                # your microphone and speaker (az login first)
    python examples/basic_agent.py --emulator   # offline: an embedded emulator plays the
                                                # service, MemoryAudio plays your microphone

Only the public API is used, as in your app. Copy this file next to an example to reuse it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from voiceagent import AgentConfig, MemoryAudio, VoiceAgentSession
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.testing import EmulatorCredential

EMULATED = "--emulator" in sys.argv[1:]
SPEED = 4.0  # offline, the emulator and the virtual devices run four times faster than life


class Replies:
    """Counts the agent's finished replies, so an example can stop once it has answered.

    A reply counts once the user has heard it (or cut it off): ``voiceagent.turn`` with role
    ``assistant``. Create it before the session starts.
    """

    def __init__(self, session: VoiceAgentSession) -> None:
        self.count = 0
        self._changed = asyncio.Event()

        @session.on("voiceagent.turn")
        def _count(turn: Any) -> None:
            if turn.role == "assistant":
                self.count += 1
                self._changed.set()

    async def wait(self, total: int = 1, timeout: float | None = 120) -> None:
        """Wait until ``total`` replies in all have been heard."""

        async def reached() -> None:
            while self.count < total:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(reached(), timeout)

    async def next(self, timeout: float | None = 120) -> None:
        """Wait for one more reply than heard so far."""
        await self.wait(self.count + 1, timeout)


def speech_like(seconds: float, rate: int = 24000) -> bytes:
    """Voiced syllables the emulator hears as speech (it cannot recognise words), then silence."""
    t = np.arange(int(0.2 * rate)) / rate
    syllable = 9000 * np.sin(2 * np.pi * 150 * t) * np.sin(np.pi * t / t[-1])
    gap = np.zeros(int(0.05 * rate))
    burst = np.concatenate([syllable, gap] * max(1, int(seconds / 0.25)) + [np.zeros(rate)])
    return burst.astype("<i2").tobytes()


@dataclass
class Target:
    """Where an example connects: Azure (from the environment) or the embedded emulator.

    Attributes:
        endpoint: None reads ``VOICELIVE_ENDPOINT``; the emulator's URL offline.
        credential: None uses ``DefaultAzureCredential``; ``EmulatorCredential`` offline.
        audio: None opens the default microphone and speaker; ``MemoryAudio`` offline.
        emulator: The embedded emulator (offline only).
    """

    endpoint: str | None = None
    credential: Any = None
    audio: MemoryAudio | None = None
    emulator: Emulator | None = None

    def agent(self) -> AgentConfig:
        """The Foundry agent: from the samples' variables, or the emulator's "concierge"."""
        if self.emulator is not None:
            return AgentConfig(agent_name="concierge", project_name="demo")
        return AgentConfig.from_env()

    def fresh_audio(self) -> MemoryAudio | None:
        """A new virtual device for the next session offline (None: the default devices)."""
        if self.emulator is not None:
            self.audio = MemoryAudio(speed=SPEED)
        return self.audio

    def say(self, text: str) -> None:
        """The user says ``text``: offline, scripted speech; with Azure, you say it."""
        if self.emulator is not None and self.audio is not None:
            self.emulator.script.user_says(text)
            self.audio.feed(speech_like(0.4 + len(text.split()) * 0.25))
        else:
            print(f'(say: "{text}")', flush=True)


@asynccontextmanager
async def target(script: AgentScript | None = None) -> AsyncIterator[Target]:
    """The place to connect to, for the command line this example was started with."""
    if not EMULATED:
        if not (os.environ.get("VOICELIVE_ENDPOINT") or os.environ.get("AZURE_VOICELIVE_ENDPOINT")):
            sys.exit("set VOICELIVE_ENDPOINT (and the agent's variables) or add --emulator")
        yield Target()
        return
    async with Emulator(realtime=True, speed=SPEED, script=script, always_transcribe=True) as emu:
        yield Target(
            endpoint=emu.endpoint,
            credential=EmulatorCredential(),
            audio=MemoryAudio(speed=SPEED),
            emulator=emu,
        )


def show_turns(session: VoiceAgentSession) -> None:
    """Print every finished turn, as the user heard it."""

    @session.on("voiceagent.turn")
    def _show(turn: Any) -> None:
        mark = " [interrupted]" if turn.interrupted else ""
        print(f"{turn.role}: {turn.text.strip()}{mark}", flush=True)


async def talk_like_a_page(base: str, emulator: Emulator) -> None:
    """What the voice page does, offline: log in, open its socket, speak, print the captions.

    ``base`` is the app's URL; its ``/login`` sets the cookie and the page is at ``/voice/``
    (the web examples). The agent's audio is reported as played the moment it arrives.
    """
    from aiohttp import ClientSession, CookieJar

    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # cookies for an IP
        await http.get(base + "login")  # keeps the session cookie
        origin = base.rstrip("/")
        async with http.ws_connect(base + "voice/ws", headers={"Origin": origin}) as ws:
            await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
            emulator.script.user_says("What is the weather like in Paris?")
            speech = speech_like(1.5)  # the emulator "hears" the line queued above
            item, played, seq, received = None, {}, 0, 0
            async for msg in ws:
                if msg.type.name == "BINARY":  # the agent's audio, for the item announced
                    played[item] = played.get(item, 0) + len(msg.data) // 2
                    received += len(msg.data) // 2  # since the last clear
                    report = {"seq": seq, "frames": played, "received": received, "idle": True}
                    await ws.send_str(json.dumps({"type": "played", **report}))
                    continue
                message = json.loads(msg.data)
                if message["type"] == "audio":
                    item = message["item_id"]
                if message["type"] == "clear":  # barge-in: drop what is queued, say so
                    seq, received = message["seq"], 0
                    await ws.send_str(json.dumps({"type": "cleared", "seq": seq, "frames": played}))
                if message == {"type": "state", "state": "listening"}:
                    for i in range(0, len(speech), 4800):  # 100 ms frames, PCM16 24 kHz
                        await ws.send_bytes(speech[i : i + 4800])
                if message["type"] == "caption" and message["final"]:
                    print(f"caption ({message['role']}): {message['text']}", flush=True)
                    if message["role"] == "assistant":
                        break
