"""Hang up or transfer a call: ACS through Call Automation, Twilio through its REST API.

The media socket only carries audio: ending the *call* (not just the stream) or handing the
caller to a person is call control. ACS identifies the call by the media socket's
``x-ms-call-connection-id`` header (:func:`acs_call_connection_id`); Twilio by ``CallSid``
(``TelephonyBackend.call.call_id``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from aiohttp import web

if TYPE_CHECKING:
    from azure.communication.callautomation.aio import CallAutomationClient

__all__ = [
    "acs_call_connection_id",
    "acs_hang_up",
    "acs_transfer",
    "twilio_hang_up",
    "twilio_transfer",
]


def acs_call_connection_id(request: web.Request) -> str:
    """The ACS call a media socket belongs to (its ``x-ms-call-connection-id`` header).

    Raises:
        ValueError: The header is missing (not a socket ACS opened).
    """
    value = request.headers.get("x-ms-call-connection-id")
    if not value:
        raise ValueError("no x-ms-call-connection-id header: this socket was not opened by ACS")
    return value


async def acs_hang_up(client: CallAutomationClient, call_connection_id: str) -> None:
    """End the ACS call for everyone."""
    await client.get_call_connection(call_connection_id).hang_up(is_for_everyone=True)


async def acs_transfer(
    client: CallAutomationClient, call_connection_id: str, phone_number: str
) -> None:
    """Transfer the ACS caller to ``phone_number`` (E.164, e.g. ``+15550123``)."""
    from azure.communication.callautomation import PhoneNumberIdentifier

    if not phone_number.startswith("+"):
        raise ValueError(f"phone_number={phone_number!r}: give it in E.164 form (+15550123)")
    connection = client.get_call_connection(call_connection_id)
    await connection.transfer_call_to_participant(PhoneNumberIdentifier(phone_number))


async def twilio_hang_up(client: Any, call_sid: str) -> None:
    """End the Twilio call (``client`` is a ``twilio.rest.Client``; its call runs in a thread)."""
    await asyncio.to_thread(client.calls(call_sid).update, status="completed")


async def twilio_transfer(client: Any, call_sid: str, phone_number: str) -> None:
    """Send the Twilio caller to ``phone_number`` (the call leaves the media stream)."""
    if not phone_number.startswith("+"):
        raise ValueError(f"phone_number={phone_number!r}: give it in E.164 form (+15550123)")
    twiml = f"<Response><Dial>{escape(phone_number)}</Dial></Response>"
    await asyncio.to_thread(client.calls(call_sid).update, twiml=twiml)
