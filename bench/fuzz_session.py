"""Fuzz one live session with tens of thousands of random and mutated frames.

The property test (tests/session/test_fuzz.py) sends ~2,500 frames per run; this sends as many
as you like (default 20,000) through the emulator's raw injection into one live session, over
the real SDK and a real socket, then holds a normal turn. It counts session deaths (closes,
reconnects), protocol-error events, handler errors and the longest event-loop stall.

    python bench/fuzz_session.py [--frames 20000] [--seed 1]

Last line: ``fuzz frames=.. deaths=.. reconnects=.. reported=.. handler_errors=.. turn_ok=..
max_stall_ms=..``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import time
from typing import Any

from azure.core.credentials import AzureKeyCredential

from voiceagent import MemoryAudio, VoiceAgentSession
from voiceagent.emulator import AgentScript, Emulator

KEY = "fuzz-key"
TEMPLATES: list[dict[str, Any]] = [
    {"type": "response.created", "response": {"id": "resp_f", "status": "in_progress"}},
    {
        "type": "response.output_item.added",
        "response_id": "resp_f",
        "item": {"id": "item_f", "type": "message", "role": "assistant"},
    },
    {"type": "response.audio.delta", "item_id": "item_f", "response_id": "resp_f", "delta": "AAAA"},
    {"type": "response.audio_transcript.delta", "item_id": "item_f", "delta": "Hel"},
    {"type": "response.audio_transcript.done", "item_id": "item_f", "transcript": "Hello"},
    {
        "type": "response.done",
        "response": {"id": "resp_f", "status": "completed", "output": [{"id": "item_f"}]},
    },
    {"type": "input_audio_buffer.speech_started", "audio_start_ms": 10, "item_id": "item_u"},
    {
        "type": "session.updated",
        "session": {"id": "s", "turn_detection": {"type": "server_vad"}, "agent": {"thread_id": 1}},
    },
    {"type": "error", "error": {"type": "server_error", "code": "x", "message": "m"}},
    {"type": "conversation.item.created", "item": {"id": "item_x", "type": "message"}},
]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-(2**40), 2**40)
    if kind == 3:
        return rng.random() * 1e6
    if kind == 4:
        return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(8)))
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 6:
        return {str(rng.randrange(99)): random_value(rng, depth + 1) for _ in range(4)}
    return rng.choice(["", "null", "x"])


def random_frame(rng: random.Random) -> str | bytes:
    roll = rng.random()
    if roll < 0.55:
        event = json.loads(json.dumps(rng.choice(TEMPLATES)))
        target = event
        nested = [k for k, v in event.items() if isinstance(v, dict)]
        if nested and rng.random() < 0.5:
            target = event[rng.choice(nested)]
        for key in rng.sample(sorted(target), k=rng.randrange(min(3, len(target)) + 1)):
            if rng.random() < 0.5:
                del target[key]
            else:
                target[key] = random_value(rng)
        return json.dumps(event)
    if roll < 0.75:
        return json.dumps(random_value(rng))
    if roll < 0.85:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    if roll < 0.95:
        depth = rng.randrange(1, 1500)
        return "[" * depth + "]" * depth
    return "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randrange(40)))


async def main(frames: int, seed: int) -> str:
    logging.disable(logging.CRITICAL)  # tens of thousands of warnings are the point, not output
    rng = random.Random(seed)
    counts = {"reported": 0, "handler_errors": 0, "closed": 0, "reconnects": 0}
    stall = {"max": 0.0}
    async with Emulator(
        api_key=KEY, realtime=False, script=AgentScript(rules=[("weather", "It is sunny.")])
    ) as emu:
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential(KEY),
            audio=MemoryAudio(speed=50.0),
        )
        session.on("*", lambda e: e.type)  # every event is built for a handler
        session.on(
            "voiceagent.protocol_error",
            lambda e: counts.__setitem__("reported", counts["reported"] + 1),
        )
        session.on(
            "voiceagent.handler_error",
            lambda e: counts.__setitem__("handler_errors", counts["handler_errors"] + 1),
        )
        session.on(
            "voiceagent.closed", lambda e: counts.__setitem__("closed", counts["closed"] + 1)
        )
        session.on(
            "voiceagent.reconnecting",
            lambda e: counts.__setitem__("reconnects", counts["reconnects"] + 1),
        )

        async def watch() -> None:
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                stall["max"] = max(stall["max"], now - last - 0.01)
                last = now

        async with session:
            watcher = asyncio.get_running_loop().create_task(watch())
            gc.disable()  # a collection of this script's own garbage is not the session's stall
            for sent in range(frames):
                await emu.inject(random_frame(rng))
                if sent % 50 == 49:
                    await asyncio.sleep(0)  # let the session keep up, as a socket would
                if sent % 2000 == 1999:
                    gc.enable()
                    gc.collect()
                    gc.disable()
            gc.enable()
            turn: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            session.on(
                "voiceagent.turn",
                lambda e: turn.done() or (e.text == "It is sunny." and turn.set_result(e)),
            )
            await session.send_text("what is the weather")
            turn_ok = (await asyncio.wait_for(turn, 30)).text == "It is sunny."
            watcher.cancel()
        deaths = len(emu.sessions) - 1 + (counts["closed"] - 1)
    return (
        f"fuzz frames={frames} deaths={deaths} reconnects={counts['reconnects']} "
        f"reported={counts['reported']} handler_errors={counts['handler_errors']} "
        f"turn_ok={turn_ok} max_stall_ms={stall['max'] * 1000:.1f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(asyncio.run(main(args.frames, args.seed)))
