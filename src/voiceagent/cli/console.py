"""Drives one ``voiceagent run`` session: connect, feed the input, stop on Ctrl+C, report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from rich.console import Console as RichConsole

from .meter import MeteredAudio
from .replies import ReplyCounter
from .run import build_audio, build_session, describe, resume_command
from .settings import RunSettings

__all__ = ["Console"]

log = logging.getLogger("voiceagent.cli")

_CLOSE_BUDGET_S = 0.9


class Console:
    """One console run: builds the session, shows it, and closes it within a second on a signal.

    Args:
        args: The parsed ``run`` flags.
        argv: The ``run`` arguments as typed (for the resume command).
        settings: The resolved settings.
    """

    def __init__(self, args: argparse.Namespace, argv: list[str], settings: RunSettings) -> None:
        self.args = args
        self.argv = argv
        self.settings = settings
        self.out = RichConsole(highlight=False)
        self.err = RichConsole(stderr=True, highlight=False)
        self.stop = asyncio.Event()
        self.stopped_by: str | None = None

    def _on_signal(self, name: str) -> None:
        self.stopped_by = self.stopped_by or name
        self.stop.set()

    @contextlib.asynccontextmanager
    async def _endpoint(self) -> AsyncIterator[str]:
        if not self.settings.emulator:
            yield self.settings.get("endpoint") or ""
            return
        from voiceagent.emulator import Emulator

        realtime = not (self.args.input_wav or self.args.output_wav)
        async with Emulator(realtime=realtime, always_transcribe=True) as emulator:
            yield emulator.endpoint

    async def main(self) -> int:
        """Run until Ctrl+C/SIGTERM, the input's end, or a failure; returns the exit code."""
        from voiceagent import ConfigError, VoiceAgentError

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._on_signal, sig.name)
        notes: list[str] = []
        try:
            async with self._endpoint() as endpoint:
                try:
                    audio = MeteredAudio(build_audio(self.args))
                    session = build_session(self.args, self.settings, endpoint, audio, notes)
                except (ConfigError, ValueError) as exc:
                    self._error(f"{exc}{self._sources()}")
                    return 2
                return await self._talk(session, audio, endpoint, notes)
        except VoiceAgentError as exc:
            self._error(str(exc))
            return 1

    def _sources(self) -> str:
        used = [f"{name}: {src}" for name, src in self.settings.sources.items()]
        return "\n  settings used: " + "; ".join(used) if used else ""

    def _error(self, text: str) -> None:
        self.err.print(f"voiceagent run: {text}", markup=False, soft_wrap=True)

    async def _talk(
        self, session: Any, audio: MeteredAudio, endpoint: str, notes: list[str]
    ) -> int:
        from .view import ConsoleView

        live = self.out.is_terminal and not self.args.text
        view = ConsoleView(
            self.out,
            live=live,
            meter=None if self.args.text else audio,
            title=describe(self.settings, endpoint),
        )
        view.attach(session)
        replies = ReplyCounter(session)
        failure: BaseException | None = None
        with view:
            for note in notes:
                view.note(note)
            view.note("connecting…")
            try:
                ended = await self._until_stopped(session.start(), None)
                if not ended:
                    work = self._drive(session, audio.inner, view, replies)
                    await self._until_stopped(work, session)
            except Exception as exc:
                failure = exc
            finally:
                started = time.monotonic()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(session.aclose(), _CLOSE_BUDGET_S)
                log.info("closed in %.0f ms", (time.monotonic() - started) * 1000)
                view.closed()
        return self._report(session, failure)

    async def _until_stopped(self, coro: Any, session: Any) -> bool:
        """Run ``coro`` until it ends, a signal arrives or the session closes; True if stopped."""
        task = asyncio.ensure_future(coro)
        waiters: set[asyncio.Future[Any]] = {task, asyncio.ensure_future(self.stop.wait())}
        if session is not None:
            waiters.add(asyncio.ensure_future(session.wait_closed()))
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*waiters, return_exceptions=True)
        for finished in done:
            if not finished.cancelled() and finished.exception() is not None:
                raise finished.exception()
        return task not in done

    async def _drive(self, session: Any, audio: Any, view: Any, replies: ReplyCounter) -> None:
        """Feed the input: typed lines, a WAV file, or the microphone until stopped."""
        greets = self.args.greeting is not None and not self.settings.get("conversation_id")
        if greets:
            await replies.wait_for(1)
        if self.args.text:
            async for line in _lines():
                view.typed(line)
                target = replies.count + 1
                await session.send_text(line)
                await replies.wait_for(target)
            return
        if self.args.input_wav:
            await audio.wait_input_done()
            await replies.wait_until(lambda: replies.count >= int(greets) + max(1, replies.turns))
            return
        await self.stop.wait()

    def _report(self, session: Any, failure: BaseException | None) -> int:
        conversation = session.conversation_id
        lines = []
        if self.stopped_by:
            lines.append(f"stopped ({self.stopped_by})")
        if conversation:
            lines.append(f"conversation: {conversation}")
            if self.settings.mode == "agent":
                lines.append(f"resume it with: {resume_command(self.argv, conversation)}")
                if self.settings.emulator:
                    lines.append("(the embedded emulator forgets it once this command ends)")
        if self.args.output_wav:
            lines.append(f"agent's voice written to {Path(self.args.output_wav)}")
        if getattr(self.args, "metrics", False):
            lines.append(session.metrics.format())
        for line in lines:
            self.out.print(line, markup=False, soft_wrap=True)
        if failure is not None:
            self._error((str(failure) or repr(failure)) + _hint(failure))
            return 1
        return 0


def _hint(failure: BaseException) -> str:
    """What the command line offers for a failure (the library's hint speaks Python)."""
    from voiceagent import AudioError

    if isinstance(failure, AudioError):
        return (
            "\n  no usable sound card? talk without one: --input-wav FILE.wav (say a file, "
            "with --output-wav REPLY.wav for the answer) or --text (type instead of speaking)"
        )
    return ""


async def _lines() -> AsyncIterator[str]:
    """Non-empty lines of stdin (a pipe, a file or a terminal), read without blocking the loop.

    A daemon thread reads, so that stdin stays blocking for the shell and an unfinished read
    never delays the exit.
    """
    if sys.stdin.isatty():
        print("type a message and press Enter (Ctrl+D or Ctrl+C to stop)", flush=True)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        try:
            for raw in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, raw)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="voiceagent-stdin", daemon=True).start()
    while (raw := await queue.get()) is not None:
        if raw.strip():
            yield raw.strip()
