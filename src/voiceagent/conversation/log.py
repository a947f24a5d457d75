"""The conversation log: session metadata and the turns as the user experienced them.

Assistant turns record what the user *heard*: when the user interrupted, ``text`` is the heard
part and ``full_text`` what the agent would have said. With a ``path``, the log is also written
as JSON Lines (one ``{"kind": "session"}`` line per connection, one ``{"kind": "turn"}`` line
per turn). Lines are written by one writer thread (:mod:`.writer`), never on the event loop,
each handed to the kernel as soon as it is queued, so nothing already said is lost if the app
dies; :meth:`ConversationLog.close` writes what is left.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from ..events import AgentInfo
from .writer import LogWriter

__all__ = ["ConversationLog", "SessionInfo", "Turn"]

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class SessionInfo:
    """What the service told us about the session (from ``session.updated`` and responses)."""

    session_id: str | None = None
    conversation_id: str | None = None
    agent: AgentInfo | None = None
    voice: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class Turn:
    """One finished turn of the conversation."""

    role: Literal["user", "assistant"]
    text: str
    item_id: str | None = None
    interrupted: bool = False
    full_text: str | None = None
    at: str = field(default_factory=_now)


class ConversationLog:
    """Session metadata and turns, in memory and optionally as a JSON Lines file.

    Args:
        path: Where to append the log; None keeps it in memory only.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = _check_path(path) if path is not None else None
        self.sessions: list[SessionInfo] = []
        self.turns: list[Turn] = []
        self.metrics: list[dict[str, Any]] = []
        """Per-turn latency figures (see ``voiceagent.observe.metrics``), oldest first."""
        self._writer = LogWriter(self.path, self._write_failed) if self.path is not None else None

    def add_session(self, info: SessionInfo) -> None:
        """Record a (re)connected session's metadata."""
        self.sessions.append(info)
        log.info(
            "session %s conversation %s agent %s voice %s",
            info.session_id,
            info.conversation_id,
            info.agent.name if info.agent else None,
            info.voice,
        )
        self._write({"kind": "session", "at": _now(), **asdict(info)})

    def add_turn(self, turn: Turn) -> None:
        """Record a finished turn."""
        self.turns.append(turn)
        self._write({"kind": "turn", **asdict(turn)})

    def add_metrics(self, record: dict[str, Any]) -> None:
        """Record one turn's latency figures (``{"kind": "metrics", ...}``; no transcript)."""
        self.metrics.append(record)
        self._write({"at": _now(), **record, "kind": "metrics"})

    def as_text(self) -> str:
        """The turns as ``role: text`` lines (interrupted agent turns marked)."""
        lines = []
        for t in self.turns:
            mark = " [interrupted]" if t.interrupted else ""
            lines.append(f"{t.role}: {t.text}{mark}")
        return "\n".join(lines)

    def close(self) -> None:
        """Write the queued lines and close the file (blocks until written).

        A later turn reopens the file. Sessions call it (through :meth:`aclose`) when they close.
        """
        if self._writer is not None:
            self._writer.close()

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop."""
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.close)

    async def written(self) -> None:
        """Return once every line added so far is on disk (handed to the kernel).

        The session waits for it before telling handlers a turn was logged, so a turn a
        handler saw survives the process being killed the next instant.
        """
        writer = self._writer
        if writer is not None and writer.pending:
            last = writer.appended
            await asyncio.get_running_loop().run_in_executor(None, writer.wait_written, last)

    def _write(self, record: dict[str, Any]) -> None:
        if self._writer is not None:
            self._writer.append(json.dumps(record, ensure_ascii=False))

    def _write_failed(self, exc: OSError) -> None:
        # A full disk must not stop the conversation; the turn stays in memory. Said once
        # (the writer stops after the first failure), not once per line.
        log.error(
            "could not write the conversation log to %s (%s); turns are kept in memory "
            "(ConversationLog.turns) only from now on",
            self.path,
            exc,
        )


def _check_path(path: str | Path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(
            f"log_path must be a file path (str or pathlib.Path), got {type(path).__name__}"
        )
    resolved = Path(path)
    if not str(path).strip():
        raise ConfigError("log_path is empty; pass a file path such as 'logs/conversation.jsonl'")
    if resolved.is_dir():
        raise ConfigError(
            f"log_path {str(resolved)!r} is a directory; pass a file path inside it, such as "
            f"{str(resolved / 'conversation.jsonl')!r}"
        )
    for parent in resolved.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"log_path {str(resolved)!r} cannot be created: {str(parent)!r} is a file, "
                    "not a directory"
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise ConfigError(
                    f"log_path {str(resolved)!r} cannot be created: no write permission in "
                    f"{str(parent)!r}; choose another directory"
                )
            break
    return resolved
