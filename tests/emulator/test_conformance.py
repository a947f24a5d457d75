"""Every event type the emulator emits, as Microsoft's SDKs' generated models require it."""

from __future__ import annotations

import aiohttp
import pytest

from voiceagent.emulator import Emulator

from .conformance import (
    EXPECTED_TYPES,
    MODEL_ONLY_TYPES,
    SPEED,
    check_with_python_sdk,
    drive,
    scenario_script,
)
from .helpers import KEY, TOKEN

MODEL_URL = "/voice-live/realtime?api-version=2026-07-15&model=gpt-realtime"
AGENT_URL = "/voice-live/realtime?api-version=2026-07-15&agent-name=a&agent-project-name=p"


@pytest.mark.parametrize("mode", ["model", "agent"])
async def test_python_sdk_parses_every_event_with_its_required_fields(mode: str) -> None:
    url, headers = (
        (MODEL_URL, {"api-key": KEY})
        if mode == "model"
        else (AGENT_URL, {"Authorization": f"Bearer {TOKEN}"})
    )
    async with (
        Emulator(realtime=True, speed=SPEED, script=scenario_script(mode)) as emu,
        aiohttp.ClientSession() as http,
        http.ws_connect(emu.endpoint + url, headers=headers) as ws,
    ):
        events = await drive(ws, mode)
    seen = {e["type"] for e in events}
    expected = EXPECTED_TYPES | (MODEL_ONLY_TYPES if mode == "model" else set())
    assert expected <= seen, f"not emitted: {sorted(expected - seen)}"
    statuses = {e["response"]["status"] for e in events if e["type"] == "response.done"}
    assert statuses == {"completed", "cancelled"}
    problems = sorted({p for e in events for p in check_with_python_sdk(e)})
    assert problems == []


def test_the_check_finds_what_the_js_sdk_choked_on() -> None:
    # The usage the emulator sent before issue 16: no image_tokens, no cached_tokens_details.
    old_usage = {
        "total_tokens": 3,
        "input_tokens": 1,
        "output_tokens": 2,
        "input_token_details": {"text_tokens": 1, "audio_tokens": 0, "cached_tokens": 0},
        "output_token_details": {"text_tokens": 2, "audio_tokens": 0},
    }
    response = {"id": "resp_1", "object": "realtime.response", "status": "completed"}
    event = {"type": "response.done", "response": {**response, "usage": old_usage}}
    problems = check_with_python_sdk(event)
    assert "response.done: missing .response.usage.input_token_details.image_tokens" in problems
    assert any("cached_tokens_details" in p for p in problems)
