"""The avatar through the server: ICE servers to the page, its SDP offer and the answer relayed.

The page is played by aiohttp (its WebSocket) and aiortc (its RTCPeerConnection), on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import aiohttp
import pytest

pytest.importorskip("aiortc", reason="aiortc not installed: pip install -e '.[dev]'")

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from voiceagent import SessionOptions
from voiceagent.emulator.avatar import use_loopback_candidates
from voiceagent.serve import Hooks
from voiceagent.serve.settings import Choice

from .helpers import served
from .test_protocol import Page, of_type, open_page

AVATAR = Hooks(choose=lambda request: Choice(options=SessionOptions(avatar={"character": "lisa"})))


async def test_the_page_gets_ice_servers_and_its_offer_is_answered() -> None:
    use_loopback_candidates()
    async with served(hooks=AVATAR) as box, aiohttp.ClientSession() as http:
        page = Page(await open_page(box, http))
        announced = await page.until(of_type("avatar"))
        # The emulator's loopback STUN server, relayed as the service's shape (urls[, username,
        # credential]) for the page's RTCPeerConnection.
        stun = [{"urls": [f"stun:127.0.0.1:{box.emulator.stun.port}"]}]
        assert announced["ice_servers"] == stun
        servers = [RTCIceServer(**s) for s in announced["ice_servers"]]
        peer = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        tracks: dict[str, Any] = {}
        peer.on("track", lambda track: tracks.__setitem__(track.kind, track))
        peer.addTransceiver("video", direction="recvonly")
        peer.addTransceiver("audio", direction="recvonly")
        try:
            await peer.setLocalDescription(await peer.createOffer())
            offer = {"type": "avatar.offer", "sdp": peer.localDescription.sdp}
            await page.ws.send_str(json.dumps(offer))
            answer = await page.until(of_type("avatar.answer"))
            # On to the service as Microsoft's samples send it (base64 of the description's
            # JSON); back to the page as plain SDP text.
            [connect] = [
                e
                for e in box.emulator.sessions[0].received
                if e["type"] == "session.avatar.connect"
            ]
            described = json.loads(base64.b64decode(connect["client_sdp"]))
            assert described == {"type": "offer", "sdp": peer.localDescription.sdp}
            assert answer["sdp"].startswith("v=0")
            await peer.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
            frame = await asyncio.wait_for(tracks["video"].recv(), 20)
            assert frame.width > 0
            server_peer = box.emulator.sessions[0].avatar.peer
            assert server_peer is not None
            closed = asyncio.Event()
            server_peer.on(
                "connectionstatechange",
                lambda: closed.set() if server_peer.connectionState == "closed" else None,
            )
            await page.ws.close()  # the tab closes: the avatar's peer closes with the session
            await asyncio.wait_for(closed.wait(), 15)
        finally:
            await peer.close()


async def test_without_an_avatar_an_offer_is_refused_and_nothing_is_sent() -> None:
    async with served() as box, aiohttp.ClientSession() as http:
        page = Page(await open_page(box, http))
        await page.until(of_type("state", state="listening"))
        await page.ws.send_str(json.dumps({"type": "avatar.offer", "sdp": "v=0\r\n"}))
        error = await page.until(of_type("error"))
        assert "no avatar is set" in error["message"]
        assert not any(m["type"] == "avatar" for m in page.messages)
        received = [e["type"] for e in box.emulator.sessions[0].received]
        assert "session.avatar.connect" not in received


async def test_serve_avatar_flag_gives_the_page_an_avatar() -> None:
    from .test_cli import serve

    async with (
        serve("--avatar", "lisa:casual-sitting") as (url, _proc),
        aiohttp.ClientSession() as http,
    ):
        ws = await http.ws_connect(url + "ws", headers={"Origin": url.rstrip("/")})
        await ws.send_str(json.dumps({"type": "hello", "sample_rate": 24000}))
        announced = await Page(ws).until(of_type("avatar"), timeout=20)
        [server] = announced["ice_servers"]
        assert [url.rsplit(":", 1)[0] for url in server["urls"]] == ["stun:127.0.0.1"]
        await ws.close()
