"""Every task the session runs: named, tracked, logged when they fail, cancelled on close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from ..logcontext import SessionLabel, context_for

__all__ = ["SessionTasks"]

log = logging.getLogger("voiceagent.session")

T = TypeVar("T")


class SessionTasks:
    """The session's tasks (its three loops and whatever handlers start through it).

    Each runs in a context where ``label`` is the current session, so its log records carry
    the session's id (:mod:`.logcontext`).
    """

    def __init__(self, label: SessionLabel | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._label = label

    def spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Start ``coro`` as ``voiceagent-<name>``, labelled with the session."""
        loop = asyncio.get_running_loop()
        if self._label is None:
            task = loop.create_task(coro, name=f"voiceagent-{name}")
        else:
            # A task copies the context it is created in (create_task(context=) is 3.11+).
            task = context_for(self._label).run(loop.create_task, coro, name=f"voiceagent-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    def cancel(self, *, keep: str) -> None:
        """Cancel every task but the caller and ``keep`` (by name: it ends by itself)."""
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current and task.get_name() != f"voiceagent-{keep}":
                task.cancel()

    async def wait(self, timeout: float = 2.0) -> None:
        """Wait for every task but the caller; cancel what is left after ``timeout``."""
        current = asyncio.current_task()
        pending = [t for t in self._tasks if t is not current]
        if pending:
            _, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
