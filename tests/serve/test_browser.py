"""The shipped page in a real (headless) Chromium, against the emulator through the server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from .browser import chromium, console_errors, require_browser, speech_wav
from .helpers import served

FOREIGN_PAGE = "<!doctype html><title>elsewhere</title><p>another site</p>"

OPEN_SOCKET = """url => new Promise(resolve => {
  const ws = new WebSocket(url);
  ws.onopen = () => { ws.close(); resolve("open"); };
  ws.onerror = () => resolve("refused");
})"""

SEND_GARBAGE = """url => new Promise(resolve => {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const errors = [];
  ws.onopen = () => {
    ws.send("not json at all");
    ws.send('{"type": "played", "frames": {"x": "many"}}');
    ws.send(new Uint8Array([1, 2, 3]));
  };
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") return;
    const m = JSON.parse(e.data);
    if (m.type === "error") errors.push(m.message);
    if (errors.length === 3) { ws.close(); resolve(errors); }
  };
  ws.onclose = () => resolve(errors);
})"""


async def test_a_spoken_conversation_with_barge_in_in_chromium(tmp_path: Path) -> None:
    require_browser()
    microphone = speech_wav(tmp_path / "mic.wav", "hello there, how are you today", 3.0)
    async with served() as box, chromium(microphone) as browser:
        for _ in range(20):
            box.emulator.script.user_says("hello there how are you today")
        page = await browser.new_page()
        errors = console_errors(page)
        await page.goto(box.url)
        await page.get_by_role("button", name="Start").click()
        session = await asyncio.wait_for(box.new_session.get(), 10)

        # captions of both sides, and audio the page's worklet really output
        await page.locator(".caption.user").first.wait_for(timeout=20_000)
        await page.locator(".caption.assistant").first.wait_for(timeout=20_000)
        await page.wait_for_function("window.voiceagentStats.playedFrames > 4800", timeout=20_000)

        # the looped speech comes again over the long reply: the page drops its queue at once
        await page.wait_for_function("window.voiceagentStats.clears >= 1", timeout=30_000)
        server = box.emulator.sessions[0]
        truncated = await server.wait_for_server_event("conversation.item.truncated", timeout=10)
        cleared: dict[str, Any] = await page.evaluate("window.voiceagentStats.lastCleared")
        heard = cleared["frames"][truncated["item_id"]]
        assert truncated["audio_end_ms"] == heard * 1000 // 24000, (truncated, cleared)
        received = await page.evaluate("window.voiceagentStats.receivedFrames")
        assert heard < received, "the page reported everything as played: no real barge-in"
        await page.locator(".caption.assistant .interrupted").first.wait_for(timeout=15_000)
        # the next report (the next reply) still counts exactly what was heard of the cut item
        item = truncated["item_id"]
        await page.wait_for_function(
            f"(window.voiceagentStats.lastPlayed['{item}'] || 0) >= {heard}", timeout=20_000
        )
        later: dict[str, int] = await page.evaluate("window.voiceagentStats.lastPlayed")
        assert later[item] == heard, "the page played the cut reply on after the clear"
        assert await page.locator("#start").inner_text() == "Stop"

        # garbage on a socket of the same origin gets errors; the conversation goes on
        ws_url = box.url.replace("http://", "ws://") + "ws"
        garbage = await page.evaluate(SEND_GARBAGE, ws_url)
        assert len(garbage) == 3, garbage
        assert session.state.value == "ready"

        # a page of another origin cannot open a conversation
        foreign = await browser.new_page()
        await foreign.route("http://foreign.test/**", lambda r: r.fulfill(body=FOREIGN_PAGE))
        await foreign.goto("http://foreign.test/")
        assert await foreign.evaluate(OPEN_SOCKET, ws_url) == "refused"
        await foreign.close()
        assert len(box.sessions) == 2  # this tab's and the garbage socket's, none for foreign

        # closing the tab ends its session
        await page.close()
        await asyncio.wait_for(session.wait_closed(), 10)
        assert errors == []


async def test_two_tabs_hold_two_conversations(tmp_path: Path) -> None:
    require_browser()
    microphone = speech_wav(tmp_path / "mic.wav", "good morning", 3.0)
    async with served() as box, chromium(microphone) as browser:
        for _ in range(20):
            box.emulator.script.user_says("good morning")
        tabs = [await browser.new_page(), await browser.new_page()]
        errors = [console_errors(tab) for tab in tabs]
        for tab in tabs:
            await tab.goto(box.url)
            await tab.get_by_role("button", name="Start").click()
        for tab in tabs:
            await tab.locator(".caption.assistant").first.wait_for(timeout=20_000)
        first, second = box.sessions
        assert first is not second and len(box.emulator.sessions) == 2
        await tabs[0].close()
        await asyncio.wait_for(first.wait_closed(), 10)
        assert second.state.value == "ready"
        played = await tabs[1].evaluate("window.voiceagentStats.playedFrames")
        await tabs[1].wait_for_function(
            f"window.voiceagentStats.playedFrames > {played}", timeout=20_000
        )  # the other tab's conversation goes on
        assert errors == [[], []]


async def test_the_page_says_when_the_microphone_is_refused_or_the_server_is_gone(
    tmp_path: Path,
) -> None:
    require_browser()
    microphone = speech_wav(tmp_path / "mic.wav", "hello", 1.0)
    async with served() as box, chromium(microphone, allow_microphone=False) as browser:
        page = await browser.new_page()
        await page.goto(box.url)
        await page.get_by_role("button", name="Start").click()
        await page.wait_for_function("document.getElementById('message').textContent !== ''")
        assert "Microphone access was refused" in await page.locator("#message").inner_text()
        assert await page.locator("#start").inner_text() == "Start"
        assert not box.sessions  # no conversation without a microphone
    serve = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--emulator", "--port", "0",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert serve.stdout is not None
        line = (await asyncio.wait_for(serve.stdout.readline(), 30)).decode()
        url = line.split("open ", 1)[1].split()[0]
        async with chromium(microphone) as browser:
            page = await browser.new_page()
            errors = console_errors(page)
            await page.goto(url)
            await page.get_by_role("button", name="Start").click()
            await page.wait_for_function("window.voiceagentStats.state === 'listening'")
            serve.kill()  # the server process dies: no goodbye on the socket
            await page.wait_for_function("window.voiceagentStats.state === 'stopped'")
            message = await page.locator("#message").inner_text()
            assert "The server went away" in message and "Start" in message
            assert errors == []
    finally:
        if serve.returncode is None:
            serve.kill()
        await serve.wait()
