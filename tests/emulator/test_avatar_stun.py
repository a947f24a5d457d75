"""The emulator's ICE server: a real STUN server on 127.0.0.1 that clients of the avatar use.

``session.updated`` advertises it in ``avatar.ice_servers``; a client that passes those servers to
its peer connection sends it a Binding request, answered with the client's own address.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

aiortc = pytest.importorskip("aiortc", reason="aiortc not installed: pip install -e '.[dev]'")

from aioice import stun  # noqa: E402
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection  # noqa: E402
from azure.ai.voicelive import models as m  # noqa: E402

from voiceagent.emulator import Emulator  # noqa: E402
from voiceagent.emulator.avatar import use_loopback_candidates  # noqa: E402

from .helpers import model_connection, recv_until  # noqa: E402


async def _exchange(port: int, data: bytes) -> tuple[bytes | None, tuple[str, int]]:
    """Send ``data`` to 127.0.0.1:``port`` from a fresh UDP socket; the reply (or None)."""
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        await loop.sock_sendto(sock, data, ("127.0.0.1", port))
        try:
            reply = await asyncio.wait_for(loop.sock_recv(sock, 2048), 0.5)
        except asyncio.TimeoutError:
            reply = None
        return reply, sock.getsockname()


async def test_a_binding_request_is_answered_with_the_senders_address() -> None:
    async with Emulator(realtime=False) as emu:
        request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
        reply, mine = await _exchange(emu.stun.port, bytes(request))
        assert reply is not None
        answer = stun.parse_message(reply)
        assert answer.message_class == stun.Class.RESPONSE
        assert answer.transaction_id == request.transaction_id
        assert answer.attributes["XOR-MAPPED-ADDRESS"] == mine
        assert emu.stun.requests == [mine]


async def test_anything_but_a_binding_request_is_ignored() -> None:
    async with Emulator(realtime=False) as emu:
        indication = stun.Message(
            message_method=stun.Method.BINDING, message_class=stun.Class.INDICATION
        )
        for junk in (b"hello", bytes(20), bytes(indication)):
            reply, _ = await _exchange(emu.stun.port, junk)
            assert reply is None
        assert emu.stun.requests == []


async def test_a_client_using_the_advertised_ice_servers_reaches_the_stun_server() -> None:
    use_loopback_candidates()
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        avatar = m.AvatarConfig(character="lisa", customized=False)
        await conn.session.update(session=m.RequestSession(avatar=avatar))
        updated = (await recv_until(conn, "session.updated"))[-1]
        servers = [RTCIceServer(urls=s["urls"]) for s in updated.session["avatar"]["ice_servers"]]
        peer = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        try:
            peer.addTransceiver("video", direction="recvonly")
            await peer.setLocalDescription(await peer.createOffer())  # gathers the candidates
            assert emu.stun.requests, "the client never asked the advertised STUN server"
            assert all(host == "127.0.0.1" for host, _ in emu.stun.requests)
            assert "typ srflx" in peer.localDescription.sdp  # a usable answer came back
        finally:
            await peer.close()


async def test_the_stun_server_stops_with_the_emulator() -> None:
    emu = await Emulator(realtime=False).start()
    port = emu.stun.port
    await emu.stop()
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    reply, _ = await _exchange(port, bytes(request))
    assert reply is None


async def test_websocket_output_is_refused_with_what_the_service_does_and_the_fix() -> None:
    async with Emulator(realtime=False) as emu, model_connection(emu.endpoint) as conn:
        avatar = {"character": "lisa", "output_protocol": "websocket"}
        await conn.send({"type": "session.update", "session": {"avatar": avatar}})
        error = (await recv_until(conn, "error"))[-1].error
        assert error.param == "session.avatar.output_protocol"
        assert "not emulated" in error.message and "response.video.delta" in error.message
        assert "'webrtc'" in error.message
        await conn.send(
            {"type": "session.update", "session": {"avatar": {**avatar, "output_protocol": "x"}}}
        )
        error = (await recv_until(conn, "error"))[-1].error
        assert "Invalid output_protocol 'x'" in error.message
