"""An Invocations-protocol agent Voice Live can voice: ``POST /invocations``, answered as SSE.

Voice Live posts what the user said, ``{"type": "input_audio.transcription", "input": "<text>"}``,
and speaks the text the agent streams back as Server-Sent Events (``text/event-stream``, one
``data: {json}`` frame per event)::

    {"type": "output_audio_transcription.delta", "delta": "..."}     once per text chunk
    {"type": "output_audio_transcription.done", "text": "<all of it>"}
    {"type": "done"}

Any other event the app yields (a dict with a ``type``) is passed through as is; the Voice Live
client receives it as ``response.invocation.delta``. The agent's ``agent.manifest.yaml`` must
declare ``metadata: voiceLiveCompatible: "true"`` (see :func:`~.manifest.check_manifest`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

__all__ = ["INVOCATIONS_PATH", "ReplyStream", "create_app", "sse_frame"]

log = logging.getLogger("voiceagent.invocations")

INVOCATIONS_PATH = "/invocations"
INPUT_TYPE = "input_audio.transcription"

ReplyStream = Callable[[str], AsyncIterator["str | dict[str, Any]"]]
"""The app's reply: ``reply(user_text)``, an async generator of text chunks (spoken) and, if it
likes, custom events (dicts with a ``type``, passed through to the Voice Live client)."""


def sse_frame(event: dict[str, Any]) -> bytes:
    """One Server-Sent Events frame: ``data: <compact JSON>`` and a blank line."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"data: {data}\n\n".encode()


def create_app(reply: ReplyStream, *, path: str = INVOCATIONS_PATH) -> web.Application:
    """An aiohttp application serving ``POST /invocations`` from the app's ``reply`` stream.

    Args:
        reply: ``reply(user_text)``: an async generator yielding text chunks (``str``) and,
            optionally, custom events (``dict`` with a ``"type"``).
        path: Where to serve (``/invocations``, as Voice Live expects).

    Returns:
        The application: run it with ``web.run_app(app, port=...)`` or an ``AppRunner``.

    A request that is not a JSON object with ``"type": "input_audio.transcription"`` and a
    string ``"input"`` gets HTTP 400 naming the problem. If ``reply`` raises, the stream sends
    ``{"type": "error", "error": {"message": ...}}`` and ends with ``done``.
    """
    if not callable(reply):
        raise TypeError(f"reply must be an async generator function, got {reply!r}")

    async def invocations(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _bad_request("the body is not JSON")
        if not isinstance(body, dict):
            return _bad_request("the body must be a JSON object")
        if body.get("type") != INPUT_TYPE:
            return _bad_request(f'"type" must be "{INPUT_TYPE}", got {body.get("type")!r}')
        text = body.get("input")
        if not isinstance(text, str):
            return _bad_request('"input" must be the user\'s text (a string)')
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        await _stream(reply, text, response)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post(path, invocations)
    return app


async def _stream(reply: ReplyStream, text: str, response: web.StreamResponse) -> None:
    chunks: list[str] = []
    try:
        async for item in reply(text):
            if isinstance(item, str):
                if item:
                    chunks.append(item)
                    await response.write(
                        sse_frame({"type": "output_audio_transcription.delta", "delta": item})
                    )
            elif isinstance(item, dict) and isinstance(item.get("type"), str):
                await response.write(sse_frame(item))
            else:
                raise TypeError(
                    f"reply yielded {type(item).__name__}; yield text (str) or events (dict "
                    "with a 'type')"
                )
        await response.write(
            sse_frame({"type": "output_audio_transcription.done", "text": "".join(chunks)})
        )
    except ConnectionResetError:
        log.info("the caller went away mid-reply")
        return
    except Exception as exc:  # the caller hears nothing more; it is told why
        log.exception("the reply stream failed")
        await response.write(
            sse_frame({"type": "error", "error": {"message": f"{type(exc).__name__}: {exc}"}})
        )
    await response.write(sse_frame({"type": "done"}))


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": {"message": message}}, status=400)
