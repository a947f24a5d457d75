"""Credentials as the JS SDK's browser build sends them (query) and a plain GET's 426."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import aiohttp
import pytest

from voiceagent.emulator import Emulator

BASE = "/voice-live/realtime?api-version=2026-07-15&model=gpt-realtime"
AGENT = "/voice-live/realtime?api-version=2026-07-15&agent-name=a&agent-project-name=p"


async def _first_event(http: aiohttp.ClientSession, url: str) -> str:
    async with http.ws_connect(url) as ws:
        return str(json.loads((await ws.receive(timeout=5)).data)["type"])


async def _handshake_status(http: aiohttp.ClientSession, url: str) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await http.ws_connect(url)
    return info.value.status


async def test_query_api_key_and_bearer_are_accepted_and_checked() -> None:
    async with (
        Emulator(api_key="k-1", token="t-1", realtime=False) as emu,
        aiohttp.ClientSession() as http,
    ):
        assert await _first_event(http, emu.endpoint + BASE + "&api-key=k-1") == "session.created"
        bearer = "&authorization=" + quote("Bearer t-1")
        assert await _first_event(http, emu.endpoint + BASE + bearer) == "session.created"
        # Agent mode needs a bearer, which the browser build can only put in the query.
        assert await _first_event(http, emu.endpoint + AGENT + bearer) == "session.created"
        assert emu.sessions[-1].mode == "agent"
        assert await _handshake_status(http, emu.endpoint + BASE + "&api-key=wrong") == 401
        wrong = "&authorization=" + quote("Bearer wrong")
        assert await _handshake_status(http, emu.endpoint + BASE + wrong) == 401
        assert await _handshake_status(http, emu.endpoint + AGENT + "&api-key=k-1") == 401
        assert await _handshake_status(http, emu.endpoint + BASE) == 401


async def test_query_credentials_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        Emulator(api_key="key-SECRET-q", token="tok-SECRET-q", realtime=False) as emu,
        aiohttp.ClientSession() as http,
    ):
        await _first_event(http, emu.endpoint + BASE + "&api-key=key-SECRET-q")
        await _first_event(http, emu.endpoint + BASE + "&authorization=Bearer%20tok-SECRET-q")
        await _handshake_status(http, emu.endpoint + BASE + "&api-key=bad-SECRET-q")
    assert [r for r in caplog.records if r.name.startswith("voiceagent.emulator")]
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "SECRET" not in text


async def test_plain_get_without_credentials_gets_426() -> None:
    async with (
        Emulator() as emu,
        aiohttp.ClientSession() as http,
        http.get(emu.endpoint + BASE) as resp,
    ):
        assert resp.status == 426
        assert (await resp.json())["error"]["code"] == "UpgradeRequired"
