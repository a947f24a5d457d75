"""The avatar in the shipped page, in headless Chromium: video and voice over loopback WebRTC."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiortc", reason="aiortc not installed: pip install -e '.[dev]'")

from voiceagent import InputTranscription, SessionOptions
from voiceagent.serve import Hooks
from voiceagent.serve.settings import Choice
from voiceagent.testing.netns import NamespaceUnavailable, only_loopback, run_in_loopback_namespace

from .browser import CHROMIUM, console_errors, require_browser, speech_wav
from .helpers import served

OPTIONS = SessionOptions(
    avatar={"character": "lisa", "style": "casual-sitting"},
    input_transcription=InputTranscription(model="azure-speech"),
)
AVATAR = Hooks(choose=lambda request: Choice(options=OPTIONS))

# The emulated avatar offers 127.0.0.1 host candidates only; Chromium pairs with them only when
# loopback is allowed and its host candidates are not hidden behind mDNS names.
WEBRTC_ON_LOOPBACK = [
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]

INBOUND_AUDIO_ENERGY = """async () => {
  const peer = window.voiceagentAvatarPeer;
  if (!peer) return 0;
  let energy = 0;
  (await peer.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "audio") energy = r.totalAudioEnergy || 0;
  });
  return energy;
}"""


VOICE_STOPPED = f"""async () => {{
  // True once the WebRTC voice's energy has not grown over 300 ms (4 polls 100 ms apart).
  const energy = await ({INBOUND_AUDIO_ENERGY})();
  const seen = (window.avatarEnergies = window.avatarEnergies || []);
  seen.push(energy);
  const last = seen.slice(-4);
  return last.length === 4 && last[3] - last[0] < 1e-6;
}}"""

SELECTED_PAIR = """async () => {
  const reports = new Map();
  (await window.voiceagentAvatarPeer.getStats()).forEach((r) => reports.set(r.id, r));
  for (const r of reports.values()) {
    if (r.type === "transport" && r.selectedCandidatePairId) {
      const pair = reports.get(r.selectedCandidatePairId);
      const local = reports.get(pair.localCandidateId);
      return [local.address, reports.get(pair.remoteCandidateId).address];
    }
  }
  return null;
}"""


BROWSER_TEST = "test_the_avatar_plays_in_the_page_and_closes_with_the_tab"


def test_the_avatar_runs_in_a_network_namespace_with_loopback_only() -> None:
    """Chromium gathers candidates on every interface and prefers this host's own address to
    127.0.0.1, so the avatar's ICE checks would target it. Every test here must stay on
    loopback: the browser test runs in a network namespace this test makes, whose only
    interface is ``lo``."""
    if only_loopback():
        pytest.skip("already inside a loopback-only network namespace: the browser test runs here")
    require_browser()
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    try:
        done = run_in_loopback_namespace([*argv, f"{__file__}::{BROWSER_TEST}"], timeout=110)
    except NamespaceUnavailable as exc:
        pytest.skip(f"the avatar browser test needs a network namespace: {exc}")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout, done.stdout[-4000:]


@contextlib.asynccontextmanager
async def chromium_for_webrtc(microphone: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={microphone}",
                "--autoplay-policy=no-user-gesture-required",
                "--no-sandbox",
                *WEBRTC_ON_LOOPBACK,
            ],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def test_the_avatar_plays_in_the_page_and_closes_with_the_tab(tmp_path: Path) -> None:
    if not only_loopback():
        pytest.skip(
            "runs inside a loopback-only network namespace, started by "
            "test_the_avatar_runs_in_a_network_namespace_with_loopback_only"
        )
    require_browser()
    # The looped speech comes again 3 s after it ended, over the agent's long reply: a barge-in.
    microphone = speech_wav(tmp_path / "mic.wav", "hello there, how are you today", 3.0)
    async with (
        served(hooks=AVATAR, realtime=True) as box,
        chromium_for_webrtc(microphone) as browser,
    ):
        for _ in range(5):
            box.emulator.script.user_says("hello there how are you today")
        page = await browser.new_page()
        errors = console_errors(page)
        await page.goto(box.url)
        await page.get_by_role("button", name="Start").click()
        await asyncio.wait_for(box.new_session.get(), 10)
        # The video plays: frames decoded and time advancing.
        await page.wait_for_function(
            "document.getElementById('avatar').videoWidth > 0", timeout=30_000
        )
        width = await page.evaluate("document.getElementById('avatar').videoWidth")
        assert width == 640
        first = await page.evaluate("document.getElementById('avatar').currentTime")
        await page.wait_for_function(
            f"document.getElementById('avatar').currentTime > {first} + 0.5", timeout=10_000
        )
        # Both ends on loopback (the namespace has no other interface).
        local, remote = await page.evaluate(SELECTED_PAIR)
        assert (local, remote) == ("127.0.0.1", "127.0.0.1")
        # The page created its peer with the ICE servers session.updated reported: it asked
        # the emulator's STUN server (127.0.0.1 UDP) for its address.
        assert box.emulator.stun.requests, "the page never used the advertised ICE servers"
        assert {host for host, _ in box.emulator.stun.requests} == {"127.0.0.1"}
        # The agent's voice arrives on the WebRTC audio track.
        await page.wait_for_function(
            f"({INBOUND_AUDIO_ENERGY})().then(e => e > 0.01)", timeout=30_000, polling=200
        )
        # Speaking over the avatar stops its WebRTC voice: its energy stops growing.
        clears = await page.evaluate("window.voiceagentStats.clears")
        await page.wait_for_function(f"window.voiceagentStats.clears > {clears}", timeout=30_000)
        await page.wait_for_function(VOICE_STOPPED, timeout=3_000, polling=100)
        server_peer = box.emulator.sessions[0].avatar.peer
        assert server_peer is not None
        closed = asyncio.Event()
        server_peer.on(
            "connectionstatechange",
            lambda: closed.set() if server_peer.connectionState == "closed" else None,
        )
        await page.close()  # closing the tab closes the avatar's peer
        await asyncio.wait_for(closed.wait(), 15)
        assert not errors, errors
