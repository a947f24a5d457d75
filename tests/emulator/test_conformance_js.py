"""Microsoft's JS SDK (@azure/ai-voicelive, Node 20+) parses every event the emulator sends.

The Node script (``js/conformance.mjs``) holds a whole conversation through the SDK in model
and agent mode and prints every event the SDK parsed; a ``MessageParsingError`` (what the SDK
hands an app when its generated deserializers throw) or a property its ``models.d.ts`` marks
required and the event lacks (``js/required.mjs``) fails the test.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from voiceagent.emulator import Emulator

from .conformance import EXPECTED_TYPES, MODEL_ONLY_TYPES, SPEED, scenario_script, turn_audio
from .helpers import KEY, TOKEN

JS_DIR = Path(__file__).parent / "js"
HOW = "run scripts/node-deps.sh (make install does)"


def _node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"node not installed: install Node.js 20+ and npm, then {HOW}")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.skip(f"Node.js {version} is too old: the JS SDK test needs Node.js 20+")
    if not (JS_DIR / "node_modules" / "@azure" / "ai-voicelive").is_dir():
        pytest.skip(f"@azure/ai-voicelive not installed in {JS_DIR}: {HOW}")
    return node


async def _run_node(node: str, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    proc = await asyncio.create_subprocess_exec(
        node,
        str(JS_DIR / "conformance.mjs"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=JS_DIR,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    records = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return int(proc.returncode or 0), records, err.decode()


@pytest.mark.parametrize("mode", ["model", "agent"])
async def test_js_sdk_parses_every_event(mode: str, tmp_path: Path) -> None:
    node = _node_or_skip()
    audio = tmp_path / "turn.pcm"
    audio.write_bytes(turn_audio())
    secret = KEY if mode == "model" else TOKEN
    async with Emulator(realtime=True, speed=SPEED, script=scenario_script(mode)) as emu:
        code, records, stderr = await _run_node(node, emu.endpoint, mode, secret, str(audio))
        sent = {e["type"] for e in emu.sessions[0].sent} if emu.sessions else set()
    errors = [r["parse_error"] for r in records if "parse_error" in r]
    assert errors == [], errors
    missing = sorted({f"{r['parsed']}: {m}" for r in records for m in r.get("missing", [])})
    assert missing == [], missing
    assert code == 0 and {"finished": True} in records, (records[-3:], stderr[-2000:])
    parsed = {r["parsed"] for r in records if "parsed" in r}
    expected = EXPECTED_TYPES | (MODEL_ONLY_TYPES if mode == "model" else set())
    assert expected <= parsed, f"not parsed: {sorted(expected - parsed)}"
    assert sent <= parsed, f"sent but not parsed by the SDK: {sorted(sent - parsed)}"
    done = [r["event"] for r in records if r.get("parsed") == "response.done"]
    assert {d["response"]["status"] for d in done} == {"completed", "cancelled"}
    usage = done[0]["response"]["usage"]
    assert usage["inputTokenDetails"]["cachedTokensDetails"]["textTokens"] == 0


async def test_the_js_checks_find_what_the_sdk_choked_on() -> None:
    node = _node_or_skip()
    # The usage the emulator sent before issue 16: no image_tokens, no cached_tokens_details.
    details = {"text_tokens": 1, "audio_tokens": 0, "cached_tokens": 0}
    usage = {"total_tokens": 1, "input_tokens": 1, "output_tokens": 0}
    usage |= {"input_token_details": details, "output_token_details": details}
    event = {"type": "response.done", "response": {"id": "resp_1", "usage": usage}}
    proc = await asyncio.create_subprocess_exec(
        node, str(JS_DIR / "check.mjs"), json.dumps(event), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert "text_tokens" in json.loads(out)["parse_error"]  # the SDK's own deserializer throws
    user_item = {"type": "message", "role": "user", "status": "completed"}
    user_item["content"] = [{"type": "input_audio", "transcript": None}]
    event = {"type": "conversation.item.created", "item": user_item}
    proc = await asyncio.create_subprocess_exec(
        node, str(JS_DIR / "check.mjs"), json.dumps(event), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert json.loads(out) == {"missing": [".item.content[0].audio"]}
