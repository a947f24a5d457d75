"""The service's schema: unknown and mistyped fields refused with ``param``, model names checked."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from azure.ai.voicelive import models as sdk_models

from voiceagent.emulator import Emulator
from voiceagent.emulator.cli import build_emulator, build_parser
from voiceagent.emulator.schema import RESPONSE_TYPES, SESSION_TYPES
from voiceagent.protocol.names import RESPONSE_CREATE_FIELDS, SESSION_FIELDS, TURN_DETECTION_FIELDS

from .helpers import KEY

URL = "/voice-live/realtime?api-version=2026-07-15&model="


def _rest_fields(cls: Any) -> set[str]:
    return {f._rest_name for f in cls()._attr_to_rest_field.values()}


def test_turn_detection_fields_are_the_sdk_models() -> None:
    vads = [sdk_models.ServerVad, sdk_models.AzureSemanticVad, sdk_models.AzureSemanticVadEn]
    vads.append(sdk_models.AzureSemanticVadMultilingual)
    assert set().union(*(_rest_fields(v) for v in vads)) | {"eagerness"} == TURN_DETECTION_FIELDS


def test_known_fields_are_the_sdk_models() -> None:
    assert _rest_fields(sdk_models.RequestSession) == SESSION_FIELDS == set(SESSION_TYPES)
    params = _rest_fields(sdk_models.ResponseCreateParams)
    assert params == RESPONSE_CREATE_FIELDS == set(RESPONSE_TYPES)


async def _connect(http: aiohttp.ClientSession, emu: Emulator, model: str = "gpt-realtime") -> Any:
    ws = await http.ws_connect(emu.endpoint + URL + model, headers={"api-key": KEY})
    assert json.loads((await ws.receive(timeout=5)).data)["type"] == "session.created"
    return ws


async def _answer(ws: Any, event: dict[str, Any], *expected: str) -> dict[str, Any]:
    await ws.send_str(json.dumps(event))
    while True:
        reply = json.loads((await ws.receive(timeout=5)).data)
        if reply["type"] in expected:
            return dict(reply)


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"temperature": "hot"}, "invalid_type", "session.temperature"),
        ({"instructions": 3}, "invalid_type", "session.instructions"),
        ({"modalities": "audio"}, "invalid_type", "session.modalities"),
        (
            {"max_response_output_tokens": "lots"},
            "invalid_type",
            "session.max_response_output_tokens",
        ),
        ({"instuctions": "typo"}, "unknown_parameter", "session.instuctions"),
        ({"audio": {"input": {"transcription": {}}}}, "unknown_parameter", "session.audio"),
        (
            {"turn_detection": {"type": "server_vad", "silence_duraton_ms": 900}},
            "unknown_parameter",
            "session.turn_detection.silence_duraton_ms",
        ),
    ],
)
async def test_session_update_refuses_with_param(
    session: dict[str, Any], code: str, param: str
) -> None:
    async with Emulator(realtime=False) as emu, aiohttp.ClientSession() as http:
        ws = await _connect(http, emu)
        event = {"type": "session.update", "event_id": "e1", "session": session}
        reply = await _answer(ws, event, "error", "session.updated")
        assert reply["type"] == "error"
        assert reply["error"]["code"] == code
        assert reply["error"]["param"] == param
        assert reply["error"]["event_id"] == "e1"
        # Nothing of the refused update was applied; the connection stays usable.
        ok = {"type": "session.update", "session": {"voice": "alloy"}}
        updated = await _answer(ws, ok, "session.updated", "error")
        assert updated["type"] == "session.updated"
        assert updated["session"]["voice"] == "alloy"
        for key, value in session.items():
            assert updated["session"].get(key) != value
        await ws.close()


@pytest.mark.parametrize(
    ("event", "param"),
    [
        ({"response": {"instructons": "x"}}, "response.instructons"),
        ({"response": {"temperature": "hot"}}, "response.temperature"),
        ({"response": []}, "response"),
        ({"respnse": {}}, "respnse"),
        ({"additional_instructions": 1}, "additional_instructions"),
    ],
)
async def test_response_create_refuses_with_param(event: dict[str, Any], param: str) -> None:
    async with Emulator(realtime=False) as emu, aiohttp.ClientSession() as http:
        ws = await _connect(http, emu)
        reply = await _answer(ws, {"type": "response.create", **event}, "error", "response.created")
        assert reply["type"] == "error" and reply["error"]["param"] == param
        assert emu.sessions[0].responses == []
        started = await _answer(ws, {"type": "response.create"}, "response.created", "error")
        assert started["type"] == "response.created"
        await ws.close()


async def test_unknown_model_refused_at_handshake_and_extendable() -> None:
    async with (
        Emulator(realtime=False, models=["my-deployment"]) as emu,
        aiohttp.ClientSession() as http,
    ):
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(emu.endpoint + URL + "no-such-model", headers={"api-key": KEY})
        assert info.value.status == 400
        for model in ("gpt-realtime", "gpt-4.1-mini", "phi4-mm-realtime", "my-deployment"):
            await (await _connect(http, emu, model)).close()


def test_cli_model_flag_extends_the_list() -> None:
    emu = build_emulator(build_parser().parse_args(["--model", "contoso-rt", "--model", "x"]))
    assert {"contoso-rt", "x", "gpt-realtime"} <= emu.models
