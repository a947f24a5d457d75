"""A minimal Voice Live server for bench/overhead.py: it blasts replies and swallows audio.

Run as its own process (``python bench/blaster.py``; it prints ``listening http://...``) so that
the client process's CPU time is the client's alone. It speaks just enough of the protocol for
the SDK's ``connect()`` and for ``VoiceAgentSession`` to become ready:

* on connect: ``session.created``; on ``session.update``: ``session.updated``;
* on ``response.create``: ``--replies`` complete replies sent back to back, as fast as the socket
  takes them (each: created, item added, 2 x ``--deltas`` audio (100 ms, 4800 bytes) and
  transcript deltas, the done events), then a ``response.done`` of response ``resp_end``;
* ``input_audio_buffer.append``: counted (blocks and bytes), nothing else.

The client reads this process's CPU time from ``/proc/<pid>/stat``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import math
from typing import Any

from aiohttp import WSMsgType, web

AUDIO_DELTA_BYTES = 4800  # 100 ms at 24 kHz PCM16


def _audio(k: int) -> str:
    samples = bytearray()
    for i in range(AUDIO_DELTA_BYTES // 2):
        v = int(6000 * math.sin((k * 2400 + i) * 2 * math.pi * 220 / 24000))
        samples += v.to_bytes(2, "little", signed=True)
    return base64.b64encode(bytes(samples)).decode("ascii")


def reply_frames(r: int, deltas: int) -> list[str]:
    """The frames of one reply, JSON-encoded (the same content for every run)."""
    rid, iid = f"resp_{r}", f"item_{r}"
    item = {"id": iid, "object": "realtime.item", "type": "message", "role": "assistant"}
    where = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": {"id": rid, "object": "realtime.response", "status": "in_progress"},
        },
        {
            "type": "response.output_item.added",
            "response_id": rid,
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "conversation.item.created", "item": {**item, "content": []}},
        {"type": "response.content_part.added", **where, "part": {"type": "audio"}},
    ]
    audio = [_audio(k) for k in range(4)]
    words = []
    for k in range(deltas):
        words.append(f"word{k} ")
        events.append({"type": "response.audio_transcript.delta", **where, "delta": words[-1]})
        events.append({"type": "response.audio.delta", **where, "delta": audio[k % 4]})
    transcript = "".join(words)
    events += [
        {"type": "response.audio.done", **where},
        {"type": "response.audio_transcript.done", **where, "transcript": transcript},
        {"type": "response.content_part.done", **where, "part": {"type": "audio"}},
        {
            "type": "response.output_item.done",
            "response_id": rid,
            "output_index": 0,
            "item": {**item, "status": "completed", "content": []},
        },
        {
            "type": "response.done",
            "response": {
                "id": rid,
                "object": "realtime.response",
                "status": "completed",
                "output": [{**item, "status": "completed", "content": []}],
            },
        },
    ]
    for n, event in enumerate(events):
        event["event_id"] = f"evt_{r}_{n}"
    return [json.dumps(e) for e in events]


END = json.dumps(
    {
        "type": "response.done",
        "event_id": "evt_end",
        "response": {"id": "resp_end", "object": "realtime.response", "status": "completed"},
    }
)


class Blaster:
    def __init__(self, replies: int, deltas: int) -> None:
        self.frames = [f for r in range(replies) for f in reply_frames(r, deltas)] + [END]
        self.blocks = 0
        self.audio_bytes = 0

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        session = {"id": "sess_bench", "object": "realtime.session", "model": "gpt-realtime"}
        await ws.send_str(json.dumps({"type": "session.created", "session": session}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            data = msg.data
            if "input_audio_buffer.append" in data:
                self.blocks += 1
                self.audio_bytes += len(data)
                continue
            kind = json.loads(data).get("type")
            if kind == "session.update":
                updated = {**session, "turn_detection": {"type": "server_vad"}}
                await ws.send_str(json.dumps({"type": "session.updated", "session": updated}))
            elif kind == "response.create":
                for frame in self.frames:
                    await ws.send_str(frame)
        return ws


async def serve(port: int, replies: int, deltas: int) -> None:
    blaster = Blaster(replies, deltas)
    app = web.Application()
    app.router.add_get("/{tail:.*}", blaster.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"listening http://127.0.0.1:{bound}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--deltas", type=int, default=50)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.replies, args.deltas))


if __name__ == "__main__":
    main()
