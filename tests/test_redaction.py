"""Secret redaction in strings, URLs and log records."""

from __future__ import annotations

import logging
import sys

import pytest

from voiceagent.redaction import (
    SDK_LOGGER_NAMES,
    SecretRedactingFilter,
    install_sdk_log_redaction,
    redact,
    redact_url,
    register_secret,
    unregister_secret,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "wss://h/voice-live/realtime?api-version=2026-07-15&agent-id=a&agent-access-token=eyJ.x-y_z",
            "wss://h/voice-live/realtime?api-version=2026-07-15&agent-id=a&agent-access-token=***",
        ),
        ("https://h/?api-key=abc123&model=gpt", "https://h/?api-key=***&model=gpt"),
        ("https://h/?Token=abc&sig=s%2Bx#frag", "https://h/?Token=***&sig=***#frag"),
        ("https://user:p4ss@h/path", "https://user:***@h/path"),
        ("https://h/?monkey=banana&key=k", "https://h/?monkey=banana&key=***"),
        ("https://h/path?agent-name=a", "https://h/path?agent-name=a"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_inside_text_such_as_an_exception_message() -> None:
    text = (
        "Failed to establish WebSocket connection: 401, message='Invalid response status', "
        "url='ws://127.0.0.1:1/voice-live/realtime?agent-access-token=tok.en-123&agent-id=x'"
    )
    out = redact(text)
    assert "tok.en-123" not in out
    assert "agent-access-token=***&agent-id=x'" in out
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer ***"


def test_registered_secrets_are_redacted_raw_and_url_encoded_until_unregistered() -> None:
    secret = "s3cr3t+/value=="
    register_secret(secret)
    register_secret(secret)  # counted: two users of the same key
    try:
        assert redact(f"x {secret} y") == "x *** y"
        assert redact("q=s3cr3t%2B%2Fvalue%3D%3D") == "q=***"
        unregister_secret(secret)
        assert redact(secret) == "***"
    finally:
        unregister_secret(secret)
    assert redact(secret) == secret
    register_secret("abc")  # too short to redact safely: ignored
    assert redact("abcdef abc") == "abcdef abc"
    unregister_secret("abc")


def make_record(msg: object, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("boom at wss://h/?agent-access-token=exc-secret-1")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("t", logging.DEBUG, __file__, 1, msg, args or None, exc_info)


def test_filter_redacts_message_args_and_exception() -> None:
    flt = SecretRedactingFilter()
    record = make_record("Connecting to %s (%d)", "wss://h/?agent-access-token=arg-secret", 3)
    assert flt.filter(record)
    assert record.getMessage() == "Connecting to wss://h/?agent-access-token=*** (3)"

    record = make_record("url=%(url)s", {"url": "https://h/?api-key=map-secret"})
    flt.filter(record)
    assert "map-secret" not in record.getMessage()

    record = make_record("failed", exc=True)
    flt.filter(record)
    assert record.exc_info is None
    assert record.exc_text is not None and "RuntimeError" in record.exc_text
    assert "exc-secret-1" not in logging.Formatter().format(record)

    class Url:
        def __str__(self) -> str:
            return "https://h/?sig=obj-secret"

    record = make_record("to %s", Url())
    flt.filter(record)
    assert "obj-secret" not in record.getMessage()


def test_install_is_idempotent() -> None:
    first = install_sdk_log_redaction()
    second = install_sdk_log_redaction(["my.app.http"])
    assert first is second
    for name in (*SDK_LOGGER_NAMES, "my.app.http"):
        filters = logging.getLogger(name).filters
        assert filters.count(first) == 1
    assert "azure.ai.voicelive.aio._patch" in SDK_LOGGER_NAMES
