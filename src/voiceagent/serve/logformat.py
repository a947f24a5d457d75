"""One JSON object per log record, for log collectors (``voiceagent serve --log-format json``).

Collectors (Loki, Cloud Logging, Azure Monitor's container insights) parse a line per record;
a multi-line traceback or a coloured console line breaks that. Each record becomes one line
with ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``session_id`` (set by
:mod:`voiceagent.logcontext`, ``"-"`` outside a conversation), ``voicelive_session_id``, and
``exception`` when there is one. :func:`json_log_handler` puts the library's
:class:`~voiceagent.redaction.SecretRedactingFilter` on the handler, so every record it
writes, whichever logger made it, is redacted first.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import TextIO

from ..logcontext import NO_SESSION
from ..redaction import SecretRedactingFilter, redact

__all__ = ["LOG_FORMATS", "JsonLogFormatter", "json_log_handler", "log_format"]

LOG_FORMATS = ("text", "json")
"""The values ``--log-format`` / ``VOICEAGENT_LOG_FORMAT`` accept."""


class JsonLogFormatter(logging.Formatter):
    """Format a record as one line of JSON (no newline inside: newlines are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a JSON object.

        Args:
            record: The record to render.

        Returns:
            The JSON text, one line.
        """
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "session_id": str(getattr(record, "session_id", NO_SESSION)),
            "voicelive_session_id": str(getattr(record, "voicelive_session_id", NO_SESSION)),
        }
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def json_log_handler(stream: TextIO | None = None) -> logging.Handler:
    """A handler writing :class:`JsonLogFormatter` lines, secrets redacted.

    Args:
        stream: Where to write (standard error when None).

    Returns:
        The handler, ready to be added to a logger.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(SecretRedactingFilter())
    return handler


def log_format(given: str | None, env: str | None) -> str:
    """The log format from the flag, else the environment, else ``text``.

    Args:
        given: ``--log-format``'s value (None: not given).
        env: ``VOICEAGENT_LOG_FORMAT``'s value (None or blank: not set).

    Returns:
        ``"text"`` or ``"json"``.

    Raises:
        ValueError: the value is neither (the message says which are accepted and where it
            came from).
    """
    source, value = ("--log-format", given) if given else ("VOICEAGENT_LOG_FORMAT", env)
    choice = (value or "text").strip().lower() or "text"
    if choice not in LOG_FORMATS:
        raise ValueError(f"{source}={value!r}: use one of {', '.join(LOG_FORMATS)}")
    return choice
