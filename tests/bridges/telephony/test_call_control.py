"""Hang-up and transfer: the real Call Automation SDK (HTTPS fake) and Twilio's REST client."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest
from acs_rest_fake import fake_acs_rest
from azure.communication.callautomation.aio import CallAutomationClient
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from voiceagent.serve.call_control import acs_hang_up, acs_transfer, twilio_hang_up, twilio_transfer

ACCESS_KEY = base64.b64encode(b"acs-access-key-SECRET").decode()


async def test_acs_hang_up_and_transfer_go_through_call_automation(tmp_path: Path) -> None:
    async with fake_acs_rest(tmp_path) as (rest, ca_file):
        conn = f"endpoint={rest.url};accesskey={ACCESS_KEY}"
        async with CallAutomationClient.from_connection_string(
            conn, connection_verify=str(ca_file)
        ) as client:
            await acs_transfer(client, "conn-7", "+15550123")
            await acs_hang_up(client, "conn-7")
            with pytest.raises(ValueError, match="E.164"):
                await acs_transfer(client, "conn-7", "5550123")
    (transfer, body), (terminate, _) = rest.operations
    assert transfer == "conn-7:transferToParticipant"
    assert body["targetParticipant"]["phoneNumber"]["value"] == "+15550123"
    assert terminate == "conn-7:terminate"


class RecordingHttp(HttpClient):  # type: ignore[misc]
    """Twilio's cloud cannot exist here: record what the real client would send it."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("twilio.fake"), is_async=False)
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def request(
        self, method: str, url: str, params: Any = None, data: Any = None, **kw: Any
    ) -> Response:
        self.requests.append((method, url, dict(data or {})))
        return Response(200, '{"sid": "CA1", "status": "completed"}')


async def test_twilio_hang_up_and_transfer_update_the_call() -> None:
    http = RecordingHttp()
    client = Client("AC" + "0" * 32, "auth-SECRET", http_client=http)
    await twilio_transfer(client, "CA1", "+15550123")
    await twilio_hang_up(client, "CA1")
    (m1, url1, data1), (m2, url2, data2) = http.requests
    assert (m1, m2) == ("POST", "POST")
    assert url1.endswith("/Calls/CA1.json") and url2.endswith("/Calls/CA1.json")
    assert data1["Twiml"] == "<Response><Dial>+15550123</Dial></Response>"
    assert data2["Status"] == "completed"
