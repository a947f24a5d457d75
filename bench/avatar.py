"""The emulated avatar: connect -> first video frame, and barge-in -> the avatar's voice silent.

An aiortc client on loopback, the SDP through the real SDK, the emulator in real time. Each run:
``session.avatar.connect`` sent -> the first decoded video frame; then the agent speaks and
``output_audio_buffer.clear`` is sent -> the first silent 20 ms frame on the WebRTC audio track.

Usage: ``.venv/bin/python bench/avatar.py [--runs N]``; the last line is ``key=value`` figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from azure.ai.voicelive import models as m

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from emulator.helpers import model_connection, recv_until
from voiceagent.emulator import Emulator
from voiceagent.emulator.avatar import use_loopback_candidates

TEXT = "the quick brown fox jumps over the lazy dog and runs far away " * 3


def _loud(frame: Any) -> bool:
    samples = frame.to_ndarray().astype(np.float64)
    return bool(np.sqrt(np.mean(samples * samples)) > 300)


async def one_run(emu: Emulator) -> tuple[float, float]:
    """Seconds: connect -> first video frame; clear -> first silent audio frame."""
    peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tracks: dict[str, Any] = {}
    peer.on("track", lambda track: tracks.__setitem__(track.kind, track))
    peer.addTransceiver("video", direction="recvonly")
    peer.addTransceiver("audio", direction="recvonly")
    try:
        async with model_connection(emu.endpoint) as conn:
            avatar = m.AvatarConfig(character="lisa", customized=False)
            await conn.session.update(session=m.RequestSession(avatar=avatar))
            await recv_until(conn, "session.updated")
            started = time.perf_counter()
            await peer.setLocalDescription(await peer.createOffer())
            await conn.send(m.ClientEventSessionAvatarConnect(client_sdp=peer.localDescription.sdp))
            answer = (await recv_until(conn, "session.avatar.connecting"))[-1].server_sdp
            await peer.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            await asyncio.wait_for(tracks["video"].recv(), 20)
            first_frame = time.perf_counter() - started

            item = m.MessageItem(role="user", content=[m.InputTextContentPart(text=TEXT)])
            await conn.conversation.item.create(item=item)
            await conn.response.create()
            while not _loud(await asyncio.wait_for(tracks["audio"].recv(), 20)):
                pass
            for _ in range(25):  # half a second of the voice, read in real time
                await tracks["audio"].recv()
            cleared = time.perf_counter()
            await conn.send({"type": "output_audio_buffer.clear"})
            while _loud(await asyncio.wait_for(tracks["audio"].recv(), 20)):
                pass
            silent = time.perf_counter() - cleared
    finally:
        await peer.close()
    return first_frame, silent


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    use_loopback_candidates()
    frames, silences = [], []
    async with Emulator(realtime=True) as emu:
        for _ in range(args.runs):
            first_frame, silent = await one_run(emu)
            frames.append(first_frame * 1000)
            silences.append(silent * 1000)
            print(f"first_frame_ms={frames[-1]:.1f} bargein_silent_ms={silences[-1]:.1f}")
    print(
        f"avatar first_frame_p50_ms={statistics.median(frames):.1f} "
        f"first_frame_max_ms={max(frames):.1f} "
        f"bargein_silent_p50_ms={statistics.median(silences):.1f} "
        f"bargein_silent_max_ms={max(silences):.1f} runs={args.runs}"
    )


if __name__ == "__main__":
    asyncio.run(main())
