"""Keep secrets (API keys, Entra tokens, ``agent-access-token``) out of logs and messages.

The Voice Live SDK logs ``Connecting to <full URL>`` at DEBUG, and that URL can carry
``agent-access-token`` (classic agents) or anything passed through ``query=``; a failed
handshake's exception text contains the same URL. This module redacts two kinds of secrets:

* values of query parameters whose names are known to carry secrets (:data:`SECRET_QUERY_PARAMS`),
  and ``Bearer <token>`` fragments, wherever they appear in a string;
* every value registered with :func:`register_secret` (the key or tokens a live connection uses),
  raw and URL-encoded.

:class:`SecretRedactingFilter` applies both to log records (message, arguments, exception text);
:func:`install_sdk_log_redaction` attaches it to the SDK's and its transport's loggers.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "REDACTED",
    "SDK_LOGGER_NAMES",
    "SECRET_QUERY_PARAMS",
    "SecretRedactingFilter",
    "install_sdk_log_redaction",
    "redact",
    "redact_url",
    "register_secret",
    "unregister_secret",
]

REDACTED = "***"
"""What a secret is replaced with."""

SECRET_QUERY_PARAMS: frozenset[str] = frozenset(
    {
        "agent-access-token",
        "api-key",
        "api_key",
        "apikey",
        "key",
        "subscription-key",
        "ocp-apim-subscription-key",
        "token",
        "access_token",
        "access-token",
        "id_token",
        "refresh_token",
        "authorization",
        "sig",
        "signature",
        "client_secret",
        "password",
        "secret",
    }
)
"""Query parameter names (compared case-insensitively) whose values are always redacted."""

SDK_LOGGER_NAMES: tuple[str, ...] = (
    "azure.ai.voicelive",
    "azure.ai.voicelive.aio",
    "azure.ai.voicelive.aio._patch",
    "azure.ai.voicelive._patch",
    "azure.ai.voicelive._utils.model_base",
    "azure.ai.voicelive._utils.serialization",
    "azure.ai.voicelive.telemetry._voicelive_instrumentor",
    "azure.ai.voicelive.telemetry._utils",
    "aiohttp.client",
    "aiohttp.websocket",
    "aiohttp.internal",
    "azure.identity",
    "azure.core.pipeline.policies.http_logging_policy",
)
"""Loggers the filter is attached to. A logger's filters only see records logged on that exact
logger (not on its children), hence the explicit list, led by the SDK's ``_patch`` module logger."""

# name=value inside a URL or any text quoting one: the value runs to the next separator or quote.
_PARAM_RE = re.compile(
    r"(?P<prefix>(?:^|[?&;\s'\"(,])(?P<name>[A-Za-z0-9_.\-]+)=)(?P<value>[^&#\s'\"<>;,)]+)"
)
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_USERINFO_RE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@")

# Registered secrets shorter than this are ignored: redacting "a" everywhere would destroy logs.
_MIN_SECRET_LEN = 6

_lock = threading.Lock()
_secrets: Counter[str] = Counter()


def register_secret(value: str) -> None:
    """Redact ``value`` (and its URL-encoded forms) from logs until it is unregistered.

    Registrations are counted, so two connections using the same key can each register and
    unregister it. Values shorter than 6 characters are ignored.

    Args:
        value: The secret, e.g. an API key or an access token.
    """
    if len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        for form in _forms(value):
            _secrets[form] += 1


def unregister_secret(value: str) -> None:
    """Undo one :func:`register_secret` call for ``value``.

    Args:
        value: A value passed to :func:`register_secret` before.
    """
    if len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        for form in _forms(value):
            _secrets[form] -= 1
            if _secrets[form] <= 0:
                del _secrets[form]


def _forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value, safe="")}


def redact(text: str) -> str:
    """Return ``text`` with every known secret replaced by ``***``.

    Redacts the values of secret query parameters (:data:`SECRET_QUERY_PARAMS`), ``Bearer``
    tokens, passwords in URL user-info and every registered secret.

    Args:
        text: Any text, e.g. a log message or an exception message quoting a URL.

    Returns:
        The redacted text (the same object if nothing needed redacting).
    """
    with _lock:
        registered = sorted(_secrets, key=len, reverse=True)
    for secret in registered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "=" in text:
        text = _PARAM_RE.sub(_redact_param, text)
    text = _BEARER_RE.sub(lambda m: m.group(1) + REDACTED, text)
    if "@" in text:
        text = _USERINFO_RE.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{REDACTED}@", text)
    return text


def _redact_param(match: re.Match[str]) -> str:
    if match.group("name").lower() in SECRET_QUERY_PARAMS:
        return match.group("prefix") + REDACTED
    return match.group(0)


def redact_url(url: str) -> str:
    """Return ``url`` with secret query values, user-info passwords and registered secrets hidden.

    Example: ``wss://h/voice-live/realtime?agent-access-token=eyJ...&agent-name=a`` becomes
    ``wss://h/voice-live/realtime?agent-access-token=***&agent-name=a``.

    Args:
        url: A URL (or any text containing URLs).

    Returns:
        The URL, safe to log or show.
    """
    return redact(url)


class SecretRedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from a record's message, arguments and exception.

    It never drops a record. Exception text is rendered, redacted and stored in ``exc_text``, and
    ``exc_info`` is cleared, so no handler can format the original exception (whose message may
    quote a URL with a token). Attach it to loggers or handlers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place.

        Args:
            record: The record being logged.

        Returns:
            Always ``True``: the record is kept.
        """
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        elif record.msg is not None and not isinstance(record.msg, (int, float)):
            text = str(record.msg)
            redacted = redact(text)
            if redacted != text:
                record.msg = redacted
        if record.args:
            if isinstance(record.args, Mapping):
                record.args = {k: _redact_arg(v) for k, v in record.args.items()}
            else:
                record.args = tuple(_redact_arg(a) for a in record.args)
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redact_arg(arg: Any) -> Any:
    if arg is None or isinstance(arg, (bool, int, float)):
        return arg
    # Other objects (URLs, exceptions, bytes) are stringified only when that reveals a secret,
    # so %d/%r formatting of harmless arguments stays unchanged.
    text = arg if isinstance(arg, str) else str(arg)
    redacted = redact(text)
    if isinstance(arg, str) or redacted != text:
        return redacted
    return arg


_FILTER = SecretRedactingFilter()


def install_sdk_log_redaction(extra_logger_names: Iterable[str] = ()) -> SecretRedactingFilter:
    """Attach the redacting filter to the SDK's loggers (idempotent; safe to call many times).

    Args:
        extra_logger_names: More logger names to protect, e.g. an application's HTTP tracer.

    Returns:
        The shared filter instance, which can also be added to handlers.
    """
    for name in (*SDK_LOGGER_NAMES, *extra_logger_names):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER
