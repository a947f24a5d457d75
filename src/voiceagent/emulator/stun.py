"""A minimal STUN server on loopback: the ICE server the emulated avatar advertises.

The service sends TURN servers with short-lived credentials in ``session.updated``'s
``avatar.ice_servers``; the emulator sends one real, usable server instead: this STUN server on
127.0.0.1 UDP. It answers Binding requests (RFC 5389) with the sender's address in
``XOR-MAPPED-ADDRESS`` and ignores everything else, so a client that uses the advertised ICE
servers gathers a server-reflexive candidate (on loopback, the same address as its host
candidate) and the server counts its request. No credentials: a STUN Binding needs none.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from typing import Any

__all__ = ["StunServer"]

logger = logging.getLogger(__name__)

_SOFTWARE_NAME = "voiceagent emulator"


def binding_response(request: bytes, address: tuple[str, int]) -> bytes | None:
    """The Binding success response to ``request`` from ``address``, or ``None`` to ignore it.

    aioice (aiortc's ICE library, installed with the avatar extra) parses and packs the
    messages; anything but a well-formed Binding request is ignored.
    """
    from aioice import stun

    try:
        message = stun.parse_message(request)
    except ValueError:
        return None
    if message.message_method != stun.Method.BINDING or message.message_class != stun.Class.REQUEST:
        return None
    response = stun.Message(
        message_method=stun.Method.BINDING,
        message_class=stun.Class.RESPONSE,
        transaction_id=message.transaction_id,
    )
    response.attributes["XOR-MAPPED-ADDRESS"] = address
    response.attributes["SOFTWARE"] = _SOFTWARE_NAME
    return bytes(response)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: StunServer) -> None:
        self._server = server
        self._transport: Any = None  # the loop's datagram transport (sendto)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        answer = binding_response(data, (str(addr[0]), int(addr[1])))
        if answer is None or self._transport is None:
            return
        self._server.requests.append((str(addr[0]), int(addr[1])))
        self._transport.sendto(answer, addr)


class StunServer:
    """A STUN Binding server on ``127.0.0.1`` (UDP, a free port).

    Attributes:
        requests: The ``(host, port)`` of every Binding request answered, oldest first
            (observation for tests: a client that used the advertised ICE servers shows here).
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, int]] = []
        self._transport: asyncio.BaseTransport | None = None
        self.port = 0
        """The UDP port bound (0 until :meth:`start`)."""

    @staticmethod
    def available() -> bool:
        """Whether aioice is installed (with the avatar extra, ``aiortc``): else no STUN server."""
        return importlib.util.find_spec("aioice") is not None

    @property
    def url(self) -> str:
        """``stun:127.0.0.1:<port>``, as an ICE server's ``urls`` entry."""
        if self._transport is None:
            raise RuntimeError("the STUN server is not running")
        return f"stun:127.0.0.1:{self.port}"

    def ice_server(self) -> dict[str, Any]:
        """This server in the shape of ``avatar.ice_servers`` entries (``{"urls": [...]}``)."""
        return {"urls": [self.url]}

    async def start(self) -> StunServer:
        """Bind 127.0.0.1 on a free UDP port; returns ``self``."""
        if self._transport is not None:
            return self
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        logger.debug("STUN server listening on 127.0.0.1:%d (UDP)", self.port)
        return self

    def close(self) -> None:
        """Stop answering. Safe to call twice."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
