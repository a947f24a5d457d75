"""Responses of one session.

``response.create`` and ``response.cancel``, barge-in, and the task that streams the active
response.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .ids import new_id
from .interim import plan_interim
from .invocations import voice_invocation
from .items import truncate
from .replies import decide_reply, reply_user_text
from .response import ResponseRecord, ResponseRun
from .schema import SchemaError, check_response_create

if TYPE_CHECKING:
    from .session import EmulatedSession

__all__ = ["Responder"]

_PER_RESPONSE_CONFIG = ("modalities", "voice", "output_audio_format")


class Responder:
    """Starts, streams and cancels the responses of one session (one active at a time).

    Args:
        session: The session the responses belong to.

    Attributes:
        records: One record per response, in order.
        active: The response being streamed, if any.
    """

    def __init__(self, session: EmulatedSession) -> None:
        self._session = session
        self.records: list[ResponseRecord] = []
        self.active: ResponseRun | None = None
        self._active_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._rng = random.Random(session.settings.timing.seed)
        # conversation.items index after the last response was created (history counts as answered)
        self._answered = len(session.conversation.items)

    # -- client events -----------------------------------------------------------------------

    async def on_create(self, event: dict[str, Any]) -> None:
        """``response.create``: start a response unless one is active."""
        session = self._session
        if self.active is not None:
            await session.send_error(
                f"Conversation already has an active response in progress: {self.active.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
                event_id=event.get("event_id"),
            )
            return
        try:
            check_response_create(event)
        except SchemaError as exc:
            await session.send_error(
                str(exc), code=exc.code, param=exc.param, event_id=event.get("event_id")
            )
            return
        params = event.get("response") or {}
        additional = event.get("additional_instructions")
        self.start(
            params, additional_instructions=additional if isinstance(additional, str) else None
        )

    async def on_cancel(self, event: dict[str, Any]) -> None:
        """``response.cancel``: cancel the active response (``client_cancelled``)."""
        run = self.active
        wanted = event.get("response_id")
        if run is None or (wanted and wanted != run.id):
            await self._session.send_error(
                "Cancellation failed: no active response found",
                code="response_cancel_not_active",
                event_id=event.get("event_id"),
            )
            return
        await self._cancel(run, "client_cancelled")

    async def barge_in(self, *, auto_truncate: bool) -> None:
        """The user started speaking: cancel the active response (``turn_detected``).

        With ``auto_truncate`` the item is truncated to all the audio sent so far, as the service
        assumes real-time playback.
        """
        run = self.active
        if run is None:
            return
        audio = run.current_audio
        heard_ms = audio[1].sent_ms if audio is not None else None
        await self._cancel(run, "turn_detected")
        if auto_truncate and audio is not None and heard_ms is not None:
            await truncate(self._session, audio[0], audio[1], heard_ms)

    def cancel_active(self, reason: str) -> None:
        """Stop the active response without waiting (the connection is going away)."""
        if self.active is not None:
            self.active.cancel(reason)

    async def _cancel(self, run: ResponseRun, reason: str) -> None:
        """Cancel ``run`` and wait until its ``response.done`` is sent."""
        run.cancel(reason)
        task = self._active_task
        if task is not None and not task.done() and task is not asyncio.current_task():
            await asyncio.wait([task])

    # -- running -----------------------------------------------------------------------------

    def start(
        self,
        params: dict[str, Any],
        *,
        pre_events: list[dict[str, Any]] | None = None,
        additional_instructions: str | None = None,
    ) -> None:
        """Decide the reply and stream a new response in its own task."""
        session = self._session
        config = copy.deepcopy(session.config)
        for key in _PER_RESPONSE_CONFIG:
            if key in params:
                config[key] = copy.deepcopy(params[key])
        items = session.conversation.items
        reply = decide_reply(
            conversation=session.conversation,
            answered=self._answered,
            params=params,
            config=session.config,
            script=session.script,
            mode=session.mode,
            agent_name=session.agent_name,
            additional_instructions=additional_instructions,
        )
        # Only a reply that was decided consumes the new items (a failing script can retry).
        self._answered = len(items)
        instructions = params.get("instructions")
        record = ResponseRecord(
            id=new_id("resp"),
            reply=reply,
            instructions=instructions if isinstance(instructions, str) else None,
            additional_instructions=additional_instructions,
        )
        self.records.append(record)
        settings = session.settings
        run = ResponseRun(
            session,
            record,
            conversation_id=session.conversation_id,
            config=config,
            pre_events=pre_events or [],
            realtime=settings.realtime,
            speed=settings.speed,
            chunk_ms=settings.chunk_ms,
            ms_per_char=settings.ms_per_char,
            timing=settings.timing,
            rng=self._rng,
            voice=settings.voice,
            interim=plan_interim(
                config,
                params,
                rng=self._rng,
                script_interim=self._script_interim(reply_user_text(items)),
            ),
        )
        self.active = run
        self._active_task = self._track(self._run(run))

    def _script_interim(self, user_text: str) -> Callable[[str], str | None] | None:
        """The script's LLM-style interim text for a trigger, if it has an ``interim``."""
        script = self._session.script
        if script.interim is None:
            return None

        def text_for(trigger: str) -> str | None:
            return script.interim_text(trigger, user_text)

        return text_for

    def start_after_active(self) -> None:
        """Start a response once the active one (if any) has finished."""
        self._track(self._start_after_active())

    async def _start_after_active(self) -> None:
        while self._active_task is not None and not self._active_task.done():
            await asyncio.wait([self._active_task])
        if not self._session.closed:
            self.start({})

    async def _run(self, run: ResponseRun) -> None:
        try:
            if self._session.settings.invocations_url is not None:
                await voice_invocation(self._session, run)
            await run.run()
        finally:
            if self.active is run:
                self.active = None

    def _track(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def shutdown(self) -> None:
        """Cancel every task of this session and wait for them."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
