"""``voiceagent serve --log-format json``: every stderr line is a JSON record, a conversation's
records carry its session id, and the key never appears."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
from typing import Any

import aiohttp
import pytest

from voiceagent.serve.logformat import JsonLogFormatter, json_log_handler, log_format

SECRET = "sk-serve-SECRET-json-0123456789abcdef"


async def _conversation(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
        async with asyncio.timeout(20):
            while True:
                msg = await ws.receive()
                assert msg.type is aiohttp.WSMsgType.TEXT, msg
                if json.loads(msg.data) == {"type": "state", "state": "listening"}:
                    break
        await ws.close()


async def test_serve_writes_one_json_object_per_record_with_the_session_id() -> None:
    env = {**os.environ, "AZURE_VOICELIVE_API_KEY": SECRET, "VOICEAGENT_LOG_FORMAT": "json"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "-vv", "serve", "--emulator", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    stderr = asyncio.ensure_future(proc.stderr.read())  # -vv can fill the pipe: read all along
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        found = re.search(r"open (http://\S+/)", line)
        if not found:
            proc.kill()
            raise AssertionError(line + (await stderr).decode()[-3000:])
        await _conversation(found.group(1))
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 15) == 0
    err = (await asyncio.wait_for(stderr, 15)).decode()
    assert SECRET not in err
    records: list[dict[str, Any]] = [json.loads(text) for text in err.splitlines() if text]
    assert records, "no log records on stderr"
    for record in records:
        assert {"time", "level", "logger", "message", "session_id"} <= record.keys(), record
    ids = {r["session_id"] for r in records} - {"-"}
    assert len(ids) == 1, ids  # one conversation: its records, and only its id
    (session_id,) = ids
    assert re.fullmatch(r"va-[0-9a-f]{8}", session_id)
    assert sum(r["session_id"] == session_id for r in records) >= 2
    draining = [r for r in records if r["message"].startswith("draining")]
    assert len(draining) == 1 and draining[0]["logger"] == "voiceagent.serve"  # once, as JSON


def test_a_record_is_one_redacted_line_with_its_exception() -> None:
    record = logging.LogRecord(
        "azure.ai.voicelive", logging.ERROR, __file__, 1,
        "Connecting to %s\nfailed", ("wss://x/?api-key=" + SECRET,), None,
    )  # fmt: skip
    try:
        raise RuntimeError("token=" + SECRET)
    except RuntimeError:
        record.exc_info = sys.exc_info()
    text = JsonLogFormatter().format(record)
    assert "\n" not in text and SECRET not in text
    parsed = json.loads(text)
    assert parsed["level"] == "ERROR" and parsed["logger"] == "azure.ai.voicelive"
    assert parsed["message"].startswith("Connecting to wss://x/?api-key=***")
    assert "RuntimeError" in parsed["exception"] and parsed["session_id"] == "-"
    assert json_log_handler().formatter is not None


def test_the_format_setting_is_checked() -> None:
    assert log_format(None, None) == "text"
    assert log_format(None, "JSON") == "json"
    assert log_format("text", "json") == "text"
    with pytest.raises(ValueError, match="VOICEAGENT_LOG_FORMAT='xml': use one of text, json"):
        log_format(None, "xml")
