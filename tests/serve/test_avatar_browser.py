"""The avatar in the shipped page, in headless Chromium: video and voice over loopback WebRTC."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiortc", reason="aiortc not installed: pip install -e '.[dev]'")

from voiceagent import InputTranscription, SessionOptions
from voiceagent.serve import Hooks
from voiceagent.serve.settings import Choice

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


def _host_addresses() -> set[str]:
    import ifaddr

    return {str(ip.ip) for adapter in ifaddr.get_adapters() for ip in adapter.ips if ip.is_IPv4}


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
        # The avatar's end is 127.0.0.1; Chromium may pick one of this host's own addresses for
        # its end (it prefers them to loopback), which the kernel also carries over lo.
        local, remote = await page.evaluate(SELECTED_PAIR)
        assert remote == "127.0.0.1"
        assert local in _host_addresses(), local
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
