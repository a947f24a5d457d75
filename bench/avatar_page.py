"""The avatar measured inside the page: Start -> first video frame, barge-in -> avatar voice silent.

Real headless Chromium (Debian's, driven by Playwright) opens the page of a real
``voiceagent serve --avatar lisa:casual-sitting`` child process, whose sessions go to an emulator
in this process (realtime audio, long replies). The whole run happens in a network namespace
whose only interface is ``lo`` (``voiceagent.testing.netns``; the script re-runs itself inside
one), so every ICE candidate, STUN request and media packet stays on 127.0.0.1.

The page is not changed: an init script (``MEASURE`` below) watches it from outside, with the
same clock as the page (``performance.now()``):

* **first frame**: the Start click (a capture-phase listener on ``#start``) to the first video
  frame the ``<video id="avatar">`` presents (``requestVideoFrameCallback``);
* **barge-in**: Chromium's fake microphone plays a WAV (a spoken question, then silence, looped).
  An AnalyserNode on the page's microphone source (in the page's AudioContext, next to its
  capture worklet) marks each speech onset that starts while the avatar's voice is audible; an
  AnalyserNode on the avatar's WebRTC audio track marks the first moment after it where that
  voice stays below the silence threshold for a whole second (pauses between words are
  shorter). The figure is the time between the two. Both are sampled every 5 ms over ~10 ms
  windows, so figures have about 10 ms of resolution. The time from the onset to the page's
  ``clear`` message (the server's barge-in reaching the page) is reported too, for the split
  between the way up (capture, socket, the emulator's VAD) and the way down (the WebRTC voice).

Each run is a new tab (a new conversation): one first-frame figure, ``--bargeins`` barge-ins.

Usage: ``.venv/bin/python bench/avatar_page.py [--runs N] [--bargeins K]``; the last line is
``key=value`` figures (p50 and p99 in ms; p99 of a few samples is close to the maximum).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import shutil
import statistics
import sys
import tempfile
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from voiceagent.emulator import AgentScript, Emulator
from voiceagent.emulator.voice import synthesize
from voiceagent.testing.netns import NamespaceUnavailable, only_loopback, run_in_loopback_namespace

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
QUESTION = "hello there, how are you today"
REPLY = (
    "Thank you for asking. Today I can tell you about the weather, the trains and the opening "
    "hours of the museum, and if you want I will also read you the news of the day, one story "
    "after another, until you tell me to stop. "
) * 2
MIC_ON = 0.003  # RMS (full scale 1.0, so -50 dBFS) above which the microphone carries speech
VOICE_ON = 0.005  # RMS above which the avatar's voice is audible

# Watches the unchanged page: the Start click, the first presented video frame, the microphone
# track the page opened and the avatar's WebRTC audio track (both through AnalyserNodes).
MEASURE = """
(() => {
  const MIC_ON = MIC_ON_RMS, VOICE_ON = VOICE_ON_RMS;
  const B = (window.avatarBench = {
    clickAt: null, firstFrameMs: null, bargeInMs: [], onsetToClearMs: [], unopposed: 0,
    missed: 0, iceServers: null,
  });
  const clears = [];
  let context = null, mic = null, voice = null, pending = null;
  let lastMicLoud = -1e9, lastVoiceLoud = -1e9;
  const createSource = AudioContext.prototype.createMediaStreamSource;
  const tap = (ctx, source) => {
    const node = ctx.createAnalyser();
    node.fftSize = ctx.sampleRate > 32000 ? 512 : 256; // about 10 ms
    source.connect(node);
    return { node, buffer: new Float32Array(node.fftSize) };
  };
  // The microphone is tapped where the page's capture worklet reads it: in the page's own
  // AudioContext, on the source node it makes from its getUserMedia stream.
  AudioContext.prototype.createMediaStreamSource = function (stream) {
    const source = createSource.call(this, stream);
    if (!mic && stream.getAudioTracks().length) mic = tap(this, source);
    return source;
  };
  const analyser = (track) => {
    context = context || new AudioContext();
    return tap(context, createSource.call(context, new MediaStream([track])));
  };
  const rms = (a) => {
    if (!a) return 0;
    a.node.getFloatTimeDomainData(a.buffer);
    let sum = 0;
    for (const x of a.buffer) sum += x * x;
    return Math.sqrt(sum / a.buffer.length);
  };
  const Peer = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Peer {
    constructor(config) {
      super(config);
      B.iceServers = (config && config.iceServers) || null;
      this.addEventListener("track", (e) => {
        if (e.track.kind === "audio") voice = analyser(e.track);
      });
    }
  };
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const text = typeof e.data === "string" ? e.data : "";
        if (text.includes('"clear"')) clears.push(performance.now());
      });
    }
  };
  document.addEventListener("click", (e) => {
    if (e.target && e.target.id === "start" && B.clickAt === null) B.clickAt = performance.now();
  }, true);
  document.addEventListener("DOMContentLoaded", () => {
    const video = document.getElementById("avatar");
    video.requestVideoFrameCallback((now) => (B.firstFrameMs = now - B.clickAt));
  });
  setInterval(() => {
    const t = performance.now();
    const micLevel = rms(mic), voiceLevel = rms(voice);
    if (voiceLevel > VOICE_ON) {
      lastVoiceLoud = t;
      if (pending) pending.quietFrom = null;
    } else if (pending && pending.quietFrom === null) {
      pending.quietFrom = t;
    }
    if (micLevel > MIC_ON) {
      if (t - lastMicLoud > 300) {  // an onset: speech after at least 300 ms of quiet
        if (t - lastVoiceLoud < 50 && !pending) pending = { onset: t, quietFrom: null };
        else if (!pending) B.unopposed += 1;
      }
      lastMicLoud = t;
    }
    if (pending && pending.quietFrom !== null && t - pending.quietFrom >= 1000) {
      B.bargeInMs.push(pending.quietFrom - pending.onset);
      const clear = clears.find((c) => c >= pending.onset);
      B.onsetToClearMs.push(clear === undefined ? null : clear - pending.onset);
      pending = null;
    } else if (pending && t - pending.onset > 6000) {
      B.missed += 1;  // the avatar never went quiet for a second
      pending = null;
    }
  }, 5);
})();
""".replace("MIC_ON_RMS", str(MIC_ON)).replace("VOICE_ON_RMS", str(VOICE_ON))


def _question_wav(path: Path, gap_s: float) -> Path:
    """The question, then ``gap_s`` of silence (Chromium loops the file), 24 kHz mono PCM16."""
    pcm = synthesize(QUESTION).audio + bytes(int(24000 * gap_s) * 2)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24000)
        out.writeframes(pcm)
    return path


@contextlib.asynccontextmanager
async def _serve(endpoint: str) -> AsyncIterator[str]:
    """``voiceagent serve --avatar`` as a child process in front of ``endpoint``; its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent", "serve", "--endpoint", endpoint,
        "--model", "gpt-realtime", "--api-key", "bench", "--avatar", "lisa:casual-sitting",
        "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        found = re.search(r"open (http://\S+/)", line)
        if not found:
            raise RuntimeError(f"voiceagent serve did not start: {line!r}")
        yield found.group(1)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 15)


async def _one_run(browser: Any, url: str, bargeins: int) -> dict[str, Any]:
    page = await browser.new_page()
    try:
        await page.add_init_script(MEASURE)
        await page.goto(url)
        await page.get_by_role("button", name="Start").click()
        await page.wait_for_function("window.avatarBench.firstFrameMs !== null", timeout=30_000)
        await page.wait_for_function(
            f"window.avatarBench.bargeInMs.length >= {bargeins}", timeout=30_000 * bargeins
        )
        result: dict[str, Any] = await page.evaluate(
            "JSON.parse(JSON.stringify(window.avatarBench))"
        )
        return result
    finally:
        await page.close()


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(runs: int, bargeins: int, gap_s: float) -> None:
    from playwright.async_api import async_playwright

    frames: list[float] = []
    silences: list[float] = []
    to_clear: list[float] = []
    missed = 0
    with tempfile.TemporaryDirectory() as tmp:
        microphone = _question_wav(Path(tmp) / "mic.wav", gap_s)
        script = AgentScript(default=REPLY)
        async with (
            Emulator(realtime=True, script=script, listen="off", record_events=False) as emu,
            _serve(emu.endpoint) as url,
            async_playwright() as pw,
        ):
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={microphone}",
                    "--autoplay-policy=no-user-gesture-required",
                    "--no-sandbox",
                    "--allow-loopback-in-peer-connection",
                    "--disable-features=WebRtcHideLocalIpsWithMdns",
                ],
            )
            try:
                for run in range(runs):
                    result = await _one_run(browser, url, bargeins)
                    frames.append(result["firstFrameMs"])
                    silences.extend(result["bargeInMs"][:bargeins])
                    to_clear.extend(x for x in result["onsetToClearMs"][:bargeins] if x is not None)
                    missed += result["missed"]
                    cut = [round(x, 1) for x in result["bargeInMs"]]
                    cleared = [x if x is None else round(x, 1) for x in result["onsetToClearMs"]]
                    print(
                        f"run={run + 1} first_frame_ms={result['firstFrameMs']:.1f} "
                        f"bargein_silent_ms={json.dumps(cut)} "
                        f"onset_to_clear_ms={json.dumps(cleared)} "
                        f"unopposed={result['unopposed']} "
                        f"ice_servers={json.dumps(result['iceServers'])}",
                        flush=True,
                    )
            finally:
                await browser.close()
            stun_requests = len(emu.stun.requests)
    print(
        f"avatar_page first_frame_p50_ms={statistics.median(frames):.1f} "
        f"first_frame_p99_ms={_p(frames, 0.99):.1f} "
        f"bargein_silent_p50_ms={statistics.median(silences):.1f} "
        f"bargein_silent_p99_ms={_p(silences, 0.99):.1f} "
        f"onset_to_clear_p50_ms={statistics.median(to_clear) if to_clear else float('nan'):.1f} "
        f"runs={runs} bargeins={len(silences)} missed={missed} stun_requests={stun_requests}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="tabs (conversations), default 5")
    parser.add_argument("--bargeins", type=int, default=3, help="barge-ins per run, default 3")
    parser.add_argument(
        "--gap", type=float, default=4.0, help="silence after the question in the WAV, seconds"
    )
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print("chromium not installed: run scripts/system-deps.sh (make install) as root")
        return 2
    if not only_loopback():
        try:
            done = run_in_loopback_namespace(
                [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]],
                timeout=120 + 60 * args.runs * args.bargeins,
                capture=False,
            )
        except NamespaceUnavailable as exc:
            print(f"bench/avatar_page.py needs a network namespace: {exc}")
            return 2
        return done.returncode
    asyncio.run(measure(args.runs, args.bargeins, args.gap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
