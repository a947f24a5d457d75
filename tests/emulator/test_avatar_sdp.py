"""The avatar's SDP in both forms: plain SDP text, or base64 JSON as Microsoft's samples send it.

The emulator reads either and answers in the form of the offer; a ``client_sdp`` that is neither
is an ``invalid_value`` error saying which forms are read.
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

aiortc = pytest.importorskip("aiortc", reason="aiortc not installed: pip install -e '.[dev]'")

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from azure.ai.voicelive import models as m  # noqa: E402

from voiceagent.emulator import Emulator  # noqa: E402
from voiceagent.emulator.avatar import use_loopback_candidates  # noqa: E402
from voiceagent.protocol.avatar_sdp import decode_sdp, encode_sdp  # noqa: E402

from .helpers import model_connection, recv_until  # noqa: E402


def test_the_encoded_form_is_base64_of_the_session_description_json() -> None:
    encoded = encode_sdp("v=0\r\nm=video 9\r\n", "offer")
    assert json.loads(base64.b64decode(encoded)) == {"type": "offer", "sdp": "v=0\r\nm=video 9\r\n"}
    assert decode_sdp(encoded) == "v=0\r\nm=video 9\r\n"
    assert decode_sdp("v=0\r\nm=audio 9\r\n") == "v=0\r\nm=audio 9\r\n"  # plain text as is


@pytest.mark.parametrize(
    "value",
    ["not base64!", base64.b64encode(b"[1, 2]").decode(), encode_sdp("hello", "offer")],
)
def test_neither_form_is_refused_saying_which_forms_are_read(value: str) -> None:
    with pytest.raises(ValueError, match=r"SDP text \(v=0...\) or base64"):
        decode_sdp(value)


async def test_an_encoded_offer_gets_an_encoded_answer_and_the_video_flows() -> None:
    use_loopback_candidates()
    peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tracks: dict[str, object] = {}
    peer.on("track", lambda track: tracks.__setitem__(track.kind, track))
    peer.addTransceiver("video", direction="recvonly")
    peer.addTransceiver("audio", direction="recvonly")
    try:
        async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
            avatar = m.AvatarConfig(character="lisa", customized=False)
            await conn.session.update(session=m.RequestSession(avatar=avatar))
            await recv_until(conn, "session.updated")
            await peer.setLocalDescription(await peer.createOffer())
            offer = encode_sdp(peer.localDescription.sdp, "offer")
            await conn.send(m.ClientEventSessionAvatarConnect(client_sdp=offer))
            server_sdp = (await recv_until(conn, "session.avatar.connecting"))[-1].server_sdp
            answer = json.loads(base64.b64decode(server_sdp))
            assert answer["type"] == "answer" and answer["sdp"].startswith("v=0")
            await peer.setRemoteDescription(RTCSessionDescription(**answer))
            frame = await asyncio.wait_for(tracks["video"].recv(), 20)  # type: ignore[attr-defined]
            assert frame.width > 0
    finally:
        await peer.close()


async def test_a_client_sdp_in_neither_form_is_an_invalid_value() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        avatar = m.AvatarConfig(character="lisa", customized=False)
        await conn.session.update(session=m.RequestSession(avatar=avatar))
        await recv_until(conn, "session.updated")
        await conn.send(m.ClientEventSessionAvatarConnect(client_sdp="bm90IEpTT04="))
        error = (await recv_until(conn, "error"))[-1].error
        assert error.code == "invalid_value" and error.param == "client_sdp"
        assert "base64" in error.message and "v=0" in error.message
        assert emu.sessions[0].avatar.peer is None
