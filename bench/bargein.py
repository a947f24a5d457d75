"""Barge-in benchmark: how fast the agent goes silent, and how exact the truncation is.

Real parts only: the real SoundDeviceAudio on the paced virtual ALSA card (tests/audio_device.py),
the emulator in real time, the real VoiceAgentSession over a real WebSocket. The card's
microphone plays cycles of [user speech][pause]; every speech after the first starts while the
agent is talking, so each cycle is one interruption.

Per interruption:
* reaction: from the moment the session handles ``input_audio_buffer.speech_started`` (it calls
  ``flush()`` first thing on arrival) to the moment the card consumed the first sample after the
  cut (the pacer logs when each byte left the card's buffer);
* truncation error: ``audio_end_ms`` the session reports/sends minus the ms of the item that
  reached the card, located by content in the card's output (bit-exact).

* onset: from the user's first syllable in the microphone signal (the first 10 ms window of
  the speech above -40 dBFS; its time is that of the device callback that delivered it, minus
  its position in the block) to the same moment at the card: the whole path a listener hears.

Modes, all in the same invocation (same card, same emulator, same speech):

* ``service``: the session flushes on the service's ``speech_started`` (device blocks of
  ``--block-frames``, default 240 = 10 ms);
* ``service20``: the same with 20 ms blocks (the earlier default; full run only);
* ``local``: ``SoundDeviceAudio(local_interruption=LocalInterruption(echo_return_loss_db=40))``:
  an on-device Silero VAD pauses playback at the user's onset; the service's ``speech_started``
  confirms it. 40 dB is the headphones setting: the virtual card has no speaker-to-microphone
  path, and both voices are synthesised at the same digital level, so the speakers default
  (12 dB) would take the user for the agent's echo (the echo case is tested in
  ``tests/audio/test_local_interruption_device.py``);
* ``quickstart``: the baseline, mimicking the Azure quickstart: 50 ms packets in a queue, a
  speech start skips the packets queued so far by sequence number (the packet being played
  finishes), no truncation (the service then believes everything it sent was heard).

Usage: python bench/bargein.py [--interruptions 55] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import queue
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from azure.core.credentials import AzureKeyCredential  # noqa: E402

from audio_device import VirtualCard  # noqa: E402
from voiceagent import BargeInPolicy, VoiceAgentSession  # noqa: E402
from voiceagent.audio import AudioFormat, AudioListener, LocalInterruption  # noqa: E402
from voiceagent.audio.sounddevice_backend import SoundDeviceAudio  # noqa: E402
from voiceagent.emulator import Emulator  # noqa: E402
from voiceagent.emulator.voice import synthesize  # noqa: E402

RATE = 24000
USER_S = 1.0
PAUSE_S = 1.7
REPLY = (
    "Certainly. Let me tell you everything about the weather this week, day by day, with "
    "temperatures, winds, the chance of rain and what to wear when you go outside."
)


@dataclass
class Cut:
    t_flush: float
    item: str | None
    played: int  # frames of the item handed to the device
    handoff: float | None = None  # when the first silent block was handed to PortAudio


@dataclass
class Probe:
    """What a backend under test records: audio per item and each flush."""

    audio: dict[str, bytearray] = field(default_factory=dict)
    cuts: list[Cut] = field(default_factory=list)
    last_item: str | None = None
    mic_marks: list[tuple[float, int]] = field(default_factory=list)  # (when, samples so far)
    closing_at: float = float("inf")  # cuts after this are the session's close, not barge-ins


class TimedListener:
    """Passes microphone blocks on, noting when each one was delivered (monotonic s)."""

    def __init__(self, listener: AudioListener, probe: Probe) -> None:
        self._listener, self._probe = listener, probe
        self._samples = 0

    def on_input(self, pcm: bytes) -> None:
        self._samples += len(pcm) // 2
        self._probe.mic_marks.append((time.monotonic(), self._samples))
        self._listener.on_input(pcm)

    def on_playback_idle(self) -> None:
        self._listener.on_playback_idle()

    def on_closed(self, reason: str) -> None:
        self._listener.on_closed(reason)

    def on_error(self, exc: BaseException) -> None:
        self._listener.on_error(exc)


class ProbedAudio(SoundDeviceAudio):
    def __init__(self, probe: Probe, latency: float | str = "low", **options: Any) -> None:
        super().__init__(latency=latency, **options)
        self.probe = probe

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        await super().start(fmt, TimedListener(listener, self.probe))

    def play(self, item_id: str, pcm: bytes) -> None:
        self.probe.audio.setdefault(item_id, bytearray()).extend(pcm)
        self.probe.last_item = item_id
        super().play(item_id, pcm)

    def flush(self) -> None:
        t = time.monotonic()
        super().flush()
        item = self.probe.last_item
        cut = Cut(t, item, self.played_frames(item) if item else 0)
        self.probe.cuts.append(cut)

        def handed_off() -> None:
            cut.handoff = self.stats.last_flush_silent_at

        asyncio.get_running_loop().call_later(0.2, handed_off)


class QuickstartAudio:
    """The Azure quickstart's playback: 50 ms packets, skip-by-sequence on speech start."""

    PACKET = 1200  # 50 ms at 24 kHz

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self._packets: queue.Queue[tuple[int, str, np.ndarray]] = queue.Queue()
        self._seq = 0
        self._skip_below = 0
        self._pending = bytearray()
        self._pending_item = ""
        self._played: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stream: Any = None
        self._listener: AudioListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, fmt: AudioFormat, listener: AudioListener) -> None:
        import sounddevice as sd

        self._listener = TimedListener(listener, self.probe)  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()
        self._stream = sd.Stream(
            samplerate=RATE,
            blocksize=self.PACKET,
            dtype="int16",
            channels=1,
            latency="low",
            callback=self._callback,
        )
        self._stream.start()

    def _callback(self, indata: Any, outdata: Any, frames: int, t: Any, status: Any) -> None:
        out = outdata[:, 0]
        out[:] = 0
        while True:
            try:
                seq, item, pcm = self._packets.get_nowait()
            except queue.Empty:
                break
            if seq < self._skip_below:
                continue
            n = min(len(pcm), frames)
            out[:n] = pcm[:n]
            with self._lock:
                self._played[item] = self._played.get(item, 0) + n
            break
        assert self._loop is not None and self._listener is not None
        pcm = bytes(indata[:, 0].tobytes())
        for i in range(0, len(pcm), 960):  # the listener gets 20 ms blocks, as from any backend
            self._loop.call_soon_threadsafe(self._listener.on_input, pcm[i : i + 960])

    def play(self, item_id: str, pcm: bytes) -> None:
        self.probe.audio.setdefault(item_id, bytearray()).extend(pcm)
        self.probe.last_item = item_id
        if item_id != self._pending_item:
            self._pending.clear()
            self._pending_item = item_id
        self._pending.extend(pcm)
        size = self.PACKET * 2
        while len(self._pending) >= size:
            chunk = np.frombuffer(bytes(self._pending[:size]), dtype="<i2").astype(np.int16)
            del self._pending[:size]
            self._packets.put((self._seq, item_id, chunk))
            self._seq += 1

    def flush(self) -> None:
        t = time.monotonic()
        self._skip_below = self._seq  # the quickstart's "skip pending audio"
        self._pending.clear()
        item = self.probe.last_item
        self.probe.cuts.append(Cut(t, item, 0))

    def played_frames(self, item_id: str) -> int:
        with self._lock:
            return self._played.get(item_id, 0)

    @property
    def is_playing(self) -> bool:
        return not self._packets.empty()

    async def stop(self) -> None:
        if self._stream is not None:
            self._stream.abort(ignore_errors=True)
            self._stream.close(ignore_errors=True)
            self._stream = None


def user_speech() -> np.ndarray:
    speech = np.frombuffer(synthesize("Wait, stop, I have a question", "pcm16").audio, "<i2")
    user = np.zeros(int(USER_S * RATE), np.int16)
    user[: min(len(user), len(speech))] = speech[: len(user)]
    return user


def first_syllable(user: np.ndarray) -> int:
    """Sample index of the first 10 ms window above -40 dBFS (the user's first syllable)."""
    win = RATE // 100
    for i in range(0, len(user) - win, win):
        x = user[i : i + win].astype(np.float64)
        if np.sqrt(np.mean(x * x)) > 32768 * 10 ** (-40 / 20):
            return i
    raise ValueError("no speech in the user's audio")


def mic_timeline(cycles: int) -> tuple[np.ndarray, list[int]]:
    """The microphone signal and the sample index of each cycle's first syllable."""
    user = user_speech()
    cycle = np.concatenate([user, np.zeros(int(PAUSE_S * RATE), np.int16)])
    lead = RATE // 2
    onset = first_syllable(user)
    onsets = [lead + c * len(cycle) + onset for c in range(cycles)]
    return np.concatenate([np.zeros(lead, np.int16), np.tile(cycle, cycles)]), onsets


def onset_times(marks: list[tuple[float, int]], onsets: list[int]) -> list[float]:
    """When each onset was captured: the delivering block's time minus its position in it."""
    ends = np.array([m[1] for m in marks])
    times = []
    for s in onsets:
        i = int(np.searchsorted(ends, s, side="right"))
        if i >= len(marks):
            break
        t, end = marks[i]
        times.append(t - (end - s) / RATE)
    return times


def find(haystack: np.ndarray, needle: np.ndarray, start: int) -> int:
    candidates = np.flatnonzero(haystack[start : len(haystack) - len(needle) + 1] == needle[0])
    for i in candidates + start:
        if np.array_equal(haystack[i : i + len(needle)], needle):
            return int(i)
    return -1


def backend(kind: str, probe: Probe, args: argparse.Namespace) -> Any:
    latency: float | str = args.latency
    if latency not in ("low", "high"):
        latency = float(latency)
    if kind == "quickstart":
        return QuickstartAudio(probe)
    if kind == "service20":
        return ProbedAudio(probe, latency, block_frames=480)
    if kind == "local":
        local = LocalInterruption(echo_return_loss_db=args.echo_return_loss_db)
        return ProbedAudio(probe, latency, block_frames=args.block_frames, local_interruption=local)
    return ProbedAudio(probe, latency, block_frames=args.block_frames)


async def run(
    kind: str, cycles: int, root: Path, args: argparse.Namespace
) -> dict[str, list[float]]:
    log_path = root / "pacer.log"
    card = VirtualCard(root, pacer_log=log_path).start()
    mic, onsets = mic_timeline(cycles)
    card.set_input(mic)
    probe = Probe()
    audio = backend(kind, probe, args)
    barge: dict[str, int] = {}
    try:
        async with Emulator(realtime=True, speed=4.0, script=lambda *a, **k: REPLY) as emu:
            session = VoiceAgentSession(
                emu.endpoint,
                model="gpt-realtime",
                credential=AzureKeyCredential("bench"),
                audio=audio,
                barge_in=BargeInPolicy(truncate=kind != "quickstart"),
            )

            @session.on("voiceagent.barge_in")
            def on_barge_in(event: Any) -> None:
                if event.item_id:
                    barge[event.item_id] = event.played_ms if event.truncated else -1

            async with session:
                await asyncio.sleep(0.5 + cycles * (USER_S + PAUSE_S) + 1.0)
                probe.closing_at = time.monotonic()
    finally:
        card.close()
    result = analyse(card, probe, barge, log_path, onset_times(probe.mic_marks, onsets))
    if kind == "local":
        stats = audio.stats
        result["local"] = [stats.local_pauses, stats.local_confirmed, stats.local_resumes]
    return result


def analyse(
    card: VirtualCard,
    probe: Probe,
    barge: dict[str, int],
    log_path: Path,
    onsets: list[float],
) -> dict[str, list[float]]:
    out = card.output()
    log = np.loadtxt(log_path, dtype=np.int64).reshape(-1, 2)
    reactions: list[float] = []
    errors: list[float] = []
    handoffs: list[float] = []
    from_onset: list[float] = []
    pos = 0
    for cut in probe.cuts:
        if cut.t_flush >= probe.closing_at:
            continue  # aclose() cuts a reply still playing: not an interruption
        if cut.item is None or cut.item not in probe.audio:
            continue
        pcm = np.frombuffer(bytes(probe.audio[cut.item]), "<i2").astype(np.int16)
        k0 = int(np.flatnonzero(pcm)[0]) if pcm.any() else 0
        at = find(out, pcm[k0 : k0 + 480], pos)
        if at < 0:
            continue  # interrupted before any of it reached the card
        start = at - k0
        # Frames of the item that reached the card: the bit-exact common prefix.
        limit = min(len(pcm), len(out) - start)
        differ = np.flatnonzero(out[start : start + limit] != pcm[:limit])
        reached = int(differ[0]) if len(differ) else limit
        # The cut must silence the output: first post-cut sample is reached by the card when
        # the pacer has consumed it (32 bytes per frame after the plug stage).
        cut_frame = start + reached
        idx = np.searchsorted(log[:, 1], 32 * (cut_frame + 1))
        if idx >= len(log) or reached >= len(pcm):
            continue  # the reply ended before the interruption: nothing to measure
        silent_at = log[idx, 0] / 1e9
        reactions.append((silent_at - cut.t_flush) * 1000)
        k = int(np.searchsorted(onsets, silent_at)) - 1  # the speech that caused this cut
        if k >= 0 and silent_at - onsets[k] < USER_S + PAUSE_S:
            from_onset.append((silent_at - onsets[k]) * 1000)
        if cut.handoff is not None:
            handoffs.append((cut.handoff - cut.t_flush) * 1000)
        sent = barge.get(cut.item)
        received_ms = len(pcm) * 1000 / RATE
        end_ms = sent if sent is not None and sent >= 0 else received_ms
        errors.append(abs(end_ms - reached * 1000 / RATE))
        pos = cut_frame
    return {
        "reaction": reactions,
        "truncate_err": errors,
        "handoff": handoffs,
        "onset": from_onset,
    }


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def line(kind: str, r: dict[str, list[float]]) -> str:
    text = (
        f"{kind}: n={len(r['reaction'])} speech_started->silent at the card "
        f"p50={pct(r['reaction'], 50):.1f} p99={pct(r['reaction'], 99):.1f} ms; "
        f"first syllable->silent at the card p50={pct(r['onset'], 50):.1f} "
        f"p99={pct(r['onset'], 99):.1f} ms (n={len(r['onset'])}); truncation error "
        f"p50={pct(r['truncate_err'], 50):.1f} p99={pct(r['truncate_err'], 99):.1f} ms; "
        f"flush->silent block handed to PortAudio p50={pct(r['handoff'], 50):.1f} "
        f"p99={pct(r['handoff'], 99):.1f} ms"
    )
    if "local" in r:
        pauses, confirmed, resumed = r["local"]
        text += f"; local pauses={pauses:.0f} confirmed={confirmed:.0f} resumed={resumed:.0f}"
    return text


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interruptions", type=int, default=55)
    parser.add_argument("--quick", action="store_true", help="8 interruptions, 3 modes (< 2 min)")
    parser.add_argument(
        "--latency",
        default="low",
        help='PortAudio output latency for voiceagent: "low", "high" or seconds (e.g. 0.02)',
    )
    parser.add_argument("--block-frames", type=int, default=240, help="device block (frames)")
    parser.add_argument(
        "--echo-return-loss-db",
        type=float,
        default=40.0,
        help="LocalInterruption's echo guard in the local mode: 40 (headphones: the virtual "
        "card has no speaker-to-mic path), 12 for speakers (the library's default)",
    )
    parser.add_argument("--modes", default=None, help="comma-separated subset of the modes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    modes = ["service", "service20", "local", "quickstart"]
    if args.quick:
        args.interruptions = 8
        modes = ["service", "local", "quickstart"]
    if args.modes:
        modes = args.modes.split(",")
    cycles = args.interruptions + 1  # the first speech only starts the conversation
    results = {}
    for kind in modes:
        with tempfile.TemporaryDirectory() as tmp:
            results[kind] = await run(kind, cycles, Path(tmp), args)
        print(line(kind, results[kind]), flush=True)
    nan = {"reaction": [], "onset": [], "truncate_err": []}
    ours, base = results.get("service", nan), results.get("quickstart", nan)
    local = results.get("local", nan)
    p99, base_p99 = pct(ours["reaction"], 99), pct(base["reaction"], 99)
    print(
        f"bargein p50_ms={pct(ours['reaction'], 50):.1f} p99_ms={p99:.1f} "
        f"truncate_err_p50_ms={pct(ours['truncate_err'], 50):.1f} "
        f"truncate_err_p99_ms={pct(ours['truncate_err'], 99):.1f} "
        f"baseline_p99_ms={base_p99:.1f} ratio={base_p99 / p99:.1f} "
        f"onset_service_p99_ms={pct(ours['onset'], 99):.1f} "
        f"onset_local_p99_ms={pct(local['onset'], 99):.1f} "
        f"local_truncate_err_p99_ms={pct(local['truncate_err'], 99):.1f} "
        f"block_frames={args.block_frames} interruptions={args.interruptions}"
    )


if __name__ == "__main__":
    asyncio.run(main())
