"""Which session a log record belongs to: a context variable and a record factory.

Many sessions share one process (a server), so each log line must say whose it is. The session
sets :data:`CURRENT_SESSION` for every task it spawns (receive, dispatch, send, handlers' tasks)
and around :meth:`start` / :meth:`aclose`, which run in the caller's task. The record factory
installed by :func:`install_record_factory` copies it onto every :class:`logging.LogRecord`
as ``session_id`` (the library's own id, known before the service assigns one) and
``voicelive_session_id`` (the service's, once known); records made outside a session get
``"-"`` for both. So ``%(session_id)s`` works in any format, for the SDK's records and the
application's handlers alike.

The two names are defaults, not reserved: a call with ``extra={"session_id": ...}`` (or
``voicelive_session_id``) keeps the caller's value. :mod:`logging` refuses an ``extra`` key
already in the record's ``__dict__``, so the factory gives the record a ``__dict__`` that
holds the two attributes (attribute access, ``%``-formatting and pickling see a plain dict)
but answers "not there" to that one membership test for them, and ``extra`` overwrites them.

The factory is installed once, wraps whatever factory was in place (so another library's
attributes survive), and a factory installed later that wraps ours keeps working.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CURRENT_SESSION",
    "NO_SESSION",
    "SessionLabel",
    "context_for",
    "install_record_factory",
    "labelled",
    "new_local_id",
]

NO_SESSION = "-"
"""The ``session_id`` of a record made outside any session's work."""


@dataclass(frozen=True)
class SessionLabel:
    """A session's names for its log records."""

    local_id: str
    """The library's id, e.g. ``va-1f3a9c2e``: set at construction, never changes."""
    service_id: Callable[[], str | None] = field(default=lambda: None, compare=False)
    """The service's session id (``sess_...``), None until ``session.created``."""


CURRENT_SESSION: contextvars.ContextVar[SessionLabel | None] = contextvars.ContextVar(
    "voiceagent_session", default=None
)
"""The session whose work the current task does (None: none)."""


def new_local_id() -> str:
    """A fresh, short, unguessable session id for the logs (``va-`` + 8 hex digits)."""
    return f"va-{secrets.token_hex(4)}"


@contextmanager
def labelled(label: SessionLabel) -> Iterator[None]:
    """Mark the work inside the block (in this task) as ``label``'s."""
    token = CURRENT_SESSION.set(label)
    try:
        yield
    finally:
        CURRENT_SESSION.reset(token)


def context_for(label: SessionLabel) -> contextvars.Context:
    """A copy of the current context in which ``label`` is the current session (for tasks)."""
    context = contextvars.copy_context()
    context.run(CURRENT_SESSION.set, label)
    return context


_LABEL_KEYS = frozenset({"session_id", "voicelive_session_id"})


class _LabelledDict(dict[str, Any]):
    """A record's ``__dict__`` whose session labels ``extra=`` may overwrite.

    :meth:`logging.Logger.makeRecord` raises :class:`KeyError` for an ``extra`` key the record
    already has (``key in record.__dict__``); for the two labels this says "absent", so the
    caller's value replaces the factory's. Everything else behaves as a dict.
    """

    __slots__ = ()

    def __contains__(self, key: object) -> bool:
        return key not in _LABEL_KEYS and super().__contains__(key)

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        # pickled (QueueHandler, SocketHandler) as a plain dict: the reader needs no voiceagent
        return dict, (dict(self),)


_install_lock = threading.Lock()
_installed = False


def install_record_factory() -> None:
    """Give every log record ``session_id`` and ``voicelive_session_id`` (idempotent).

    A call that passes ``extra={"session_id": ...}`` keeps its own value (no :class:`KeyError`).
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            label = CURRENT_SESSION.get()
            attributes = _LabelledDict(record.__dict__)
            if label is None:
                attributes["session_id"] = NO_SESSION
                attributes["voicelive_session_id"] = NO_SESSION
            else:
                attributes["session_id"] = label.local_id
                attributes["voicelive_session_id"] = label.service_id() or NO_SESSION
            record.__dict__ = attributes
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
