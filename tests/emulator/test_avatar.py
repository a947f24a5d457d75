"""The emulated avatar: options checked, ICE servers reported, a real WebRTC peer over loopback.

The client is aiortc, as a Python app would use it, and the SDP goes through the real SDK's typed
``session.avatar.connect`` event.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest

aiortc = pytest.importorskip("aiortc", reason="aiortc not installed: pip install -e '.[dev]'")

from aiortc import (  # noqa: E402
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from azure.ai.voicelive import models as m  # noqa: E402

from voiceagent.emulator import Emulator  # noqa: E402
from voiceagent.emulator.avatar import use_loopback_candidates  # noqa: E402

from .helpers import model_connection, recv_until  # noqa: E402

AVATAR = m.AvatarConfig(
    character="lisa",
    style="casual-sitting",
    customized=False,
    video=m.VideoParams(codec="h264", resolution=m.VideoResolution(width=320, height=240)),
)


async def _configure(conn: Any, avatar: Any) -> Any:
    session = m.RequestSession(modalities=["text", "audio", "avatar"], avatar=avatar)
    await conn.session.update(session=session)
    events = await recv_until(conn, "session.updated")
    return events[-1]


async def test_ice_servers_are_reported_with_the_avatar() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        updated = await _configure(conn, AVATAR)
        avatar = updated.session["avatar"]
        assert avatar["character"] == "lisa"
        stun = [{"urls": [f"stun:127.0.0.1:{emu.stun.port}"]}]  # the emulator's own, loopback
        assert [dict(s) for s in avatar["ice_servers"]] == stun
        await conn.session.update(session=m.RequestSession(instructions="Be brief."))
        updated = (await recv_until(conn, "session.updated"))[-1]
        # Still there, with the avatar.
        assert [dict(s) for s in updated.session["avatar"]["ice_servers"]] == stun
        assert "ice_servers" not in str(await _no_avatar_view(emu))


async def _no_avatar_view(emu: Emulator) -> dict[str, Any]:
    async with model_connection(emu.endpoint) as other:
        created = (await recv_until(other, "session.created"))[-1]
        return dict(created.session)


@pytest.mark.parametrize(
    ("avatar", "param"),
    [
        ({"style": "casual-sitting"}, "session.avatar.character"),
        ({"character": "lisa", "type": "photo-avatar"}, "session.avatar.model"),
        ({"character": "lisa", "video": {"codec": "vp9"}}, "session.avatar.video.codec"),
        ({"character": "lisa", "video": {"bitrate": -1}}, "session.avatar.video.bitrate"),
        (
            {"character": "lisa", "video": {"resolution": {"width": 0, "height": 9}}},
            "session.avatar.video.resolution",
        ),
        (
            {"character": "lisa", "video": {"crop": {"top_left": [0, -1], "bottom_right": [4, 4]}}},
            "session.avatar.video.crop",
        ),
        (
            {"character": "lisa", "video": {"background": {"color": "#00FF00", "image_url": "x"}}},
            "session.avatar.video.background",
        ),
        ({"character": "lisa", "output_protocol": "websocket"}, "session.avatar.output_protocol"),
        ({"character": "lisa", "hat": True}, "session.avatar.hat"),
    ],
)
async def test_wrong_avatar_options_are_refused_with_the_field(
    avatar: dict[str, Any], param: str
) -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.send({"type": "session.update", "session": {"avatar": avatar}})
        error = (await recv_until(conn, "error"))[-1]
        assert error.error.param == param and error.error.code == "invalid_value"
        assert "avatar" not in emu.sessions[0].config  # nothing of the bad update applied


async def test_connect_without_avatar_configured_is_an_error() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        await conn.send(m.ClientEventSessionAvatarConnect(client_sdp="v=0\r\nm=video 9\r\n"))
        error = (await recv_until(conn, "error"))[-1]
        assert "session.update with avatar" in error.error.message
        assert emu.sessions[0].avatar.peer is None


@asynccontextmanager
async def _client_peer() -> AsyncIterator[tuple[RTCPeerConnection, dict[str, MediaStreamTrack]]]:
    use_loopback_candidates()  # the client gathers on loopback too (see the function)
    peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tracks: dict[str, MediaStreamTrack] = {}
    peer.on("track", lambda track: tracks.__setitem__(track.kind, track))
    peer.addTransceiver("video", direction="recvonly")
    peer.addTransceiver("audio", direction="recvonly")
    try:
        yield peer, tracks
    finally:
        await peer.close()


def _mouth_pixels(frame: Any) -> int:
    """Pixels of the mouth's dark red in a decoded frame."""
    rgb = frame.to_ndarray(format="rgb24").astype(np.int32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(np.count_nonzero((red > 100) & (green < 80) & (blue < 90)))


def _loud(frame: Any) -> bool:
    samples = frame.to_ndarray().astype(np.float64)
    return bool(np.sqrt(np.mean(samples * samples)) > 300)


async def test_sdp_exchange_then_video_and_the_agents_voice_arrive_over_loopback() -> None:
    async with (
        Emulator(realtime=False) as emu,
        model_connection(emu.endpoint) as conn,
        _client_peer() as (peer, tracks),
    ):
        await _configure(conn, AVATAR)
        await peer.setLocalDescription(await peer.createOffer())
        await conn.send(m.ClientEventSessionAvatarConnect(client_sdp=peer.localDescription.sdp))
        connecting = (await recv_until(conn, "session.avatar.connecting"))[-1]
        assert isinstance(connecting, m.ServerEventSessionAvatarConnecting)
        answer = connecting.server_sdp
        candidates = re.findall(r"a=candidate:\S+ \d+ udp \d+ (\S+) \d+ typ (\w+)", answer)
        assert candidates and all(c == ("127.0.0.1", "host") for c in candidates), candidates
        await peer.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        server_peer = emu.sessions[0].avatar.peer
        assert server_peer is not None

        assert set(tracks) == {"video", "audio"}  # the answer's tracks, announced on apply

        async def first_frames() -> tuple[Any, Any]:
            return await tracks["video"].recv(), await tracks["audio"].recv()

        video, audio = await asyncio.wait_for(first_frames(), 20)
        assert (video.width, video.height) == (320, 240)
        assert audio.sample_rate == 48000 and not _loud(audio)  # nobody speaks yet
        closed_mouth = _mouth_pixels(await tracks["video"].recv())
        assert closed_mouth > 0

        # The agent speaks (it echoes this long text: many seconds of voice, queued at once as
        # realtime=False streams it): the voice arrives on the audio track, the mouth opens.
        words = "the quick brown fox jumps over the lazy dog and runs far away " * 4
        await conn.conversation.item.create(
            item=m.MessageItem(role="user", content=[m.InputTextContentPart(text=words)])
        )
        await conn.response.create()

        async def voice() -> None:
            while not _loud(await tracks["audio"].recv()):
                pass

        async def open_mouth() -> None:
            # Frames queued while nobody read them come first: read on until the mouth opens.
            while _mouth_pixels(await tracks["video"].recv()) <= 2 * closed_mouth:
                pass

        await asyncio.wait_for(asyncio.gather(voice(), open_mouth()), 20)

        # Barge-in: the output buffer is cleared (the reply may still be streaming, or done)
        # and the avatar's voice goes silent.
        await conn.send({"type": "output_audio_buffer.clear"})

        async def silence() -> None:
            quiet = 0
            while quiet < 50:  # 1 s of silence in a row (longer than any pause in speech)
                quiet = 0 if _loud(await tracks["audio"].recv()) else quiet + 1

        # Well before the queued reply would have ended by itself.
        await asyncio.wait_for(silence(), 3)

        closed = asyncio.Event()
        server_peer.on(
            "connectionstatechange",
            lambda: closed.set() if server_peer.connectionState == "closed" else None,
        )
        await conn.close()
        await asyncio.wait_for(closed.wait(), 10)  # the peer closes with the session
        assert emu.sessions[0].avatar.peer is None


async def test_the_sdp_exchange_through_the_librarys_session() -> None:
    from azure.core.credentials import AzureKeyCredential

    from voiceagent import MemoryAudio, SessionOptions, VoiceAgentSession

    async with Emulator(api_key="k", realtime=False) as emu, _client_peer() as (peer, tracks):
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential("k"),
            audio=MemoryAudio(),
            options=SessionOptions(avatar={"character": "lisa", "style": "casual-sitting"}),
        )
        answered: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        session.on("session.avatar.connecting", lambda e: answered.set_result(e.server_sdp))
        async with session:
            await peer.setLocalDescription(await peer.createOffer())
            offer = peer.localDescription.sdp
            await session.send_event({"type": "session.avatar.connect", "client_sdp": offer})
            answer = await asyncio.wait_for(answered, 10)
            await peer.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            frame = await asyncio.wait_for(tracks["video"].recv(), 20)
            assert frame.width == 640  # the emulated avatar's default size
