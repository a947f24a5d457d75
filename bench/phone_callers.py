"""Fake Twilio callers for ``bench/serve_load.py``: signed webhook, media stream, frame accounting.

Each :class:`Caller` does what Twilio does for one call: it POSTs the voice webhook signed with
the account's auth token (``X-Twilio-Signature``), reads the ``<Stream>`` URL and the one-time
token from the TwiML, and opens the media stream with a
:class:`~voiceagent.testing.carriers.FakeTwilioCall` (u-law 8 kHz, 20 ms frames on a carrier's
clock). It says a sentence every ``every`` seconds and timestamps every message the server sends
(by giving the call a :class:`TimedLog` as its public ``received`` list).

The agent's audio is then replayed on an ideal playout clock (:func:`audit`): each chunk plays
right after the one before it, or at once when the line was idle. A chunk that arrives more
than one 20 ms frame after the line ran dry, within ``REPLY_GAP_S`` of it, is **late**: the
caller heard a gap in the middle of a reply. A longer gap starts a new reply; a ``clear``
(barge-in) ends one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

from voiceagent.testing.carriers import FakeTwilioCall

FRAME_BYTES = 160  # 20 ms of u-law 8 kHz
FRAME_S = 0.02
REPLY_GAP_S = 1.5
"""A silence longer than this between two chunks separates two replies (not a late chunk)."""


class TimedLog(list[dict[str, Any]]):
    """``FakeCarrierCall.received`` that also notes when each message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, msg: dict[str, Any]) -> None:
        self.times.append(time.monotonic())
        super().append(msg)


@dataclass
class Audit:
    """What the callers heard in a window."""

    frames: int = 0
    """20 ms frames of agent audio received."""
    late_chunks: int = 0
    """Chunks that came after the line ran dry mid-reply (an audible gap)."""
    gap_ms: float = 0.0
    """Total length of those gaps."""
    replies: int = 0
    clears: int = 0
    gaps: list[float] = field(default_factory=list)


def audit(log: TimedLog, start: float, end: float, into: Audit) -> None:
    """Add what ``log`` received in ``[start, end)`` to ``into`` (see the module docstring)."""
    free_at = -1e9  # when the audio received so far has finished playing
    for when, msg in zip(log.times, log, strict=True):
        event = msg.get("event")
        counted = start <= when < end
        if event == "clear":
            free_at = -1e9
            into.clears += counted
        elif event == "media":
            size = len(base64.b64decode(msg["media"]["payload"]))
            dry_for = when - free_at
            if dry_for > REPLY_GAP_S:
                into.replies += counted
            elif dry_for > FRAME_S and counted:
                into.late_chunks += 1
                into.gap_ms += dry_for * 1000
                into.gaps.append(dry_for * 1000)
            if counted:
                into.frames += size // FRAME_BYTES
            free_at = max(free_at, when) + size / 8000


class Caller:
    """One fake Twilio call against ``public_url`` (see the module docstring)."""

    def __init__(self, public_url: str, auth_token: str, seed: int) -> None:
        self.public_url = public_url.rstrip("/")
        self.auth_token = auth_token
        self.seed = seed
        self.call: FakeTwilioCall | None = None
        self.log = TimedLog()
        self.sentences = 0

    async def dial(self, http: aiohttp.ClientSession) -> None:
        """The signed voice webhook, then the media stream its TwiML names."""
        form = {"CallSid": "CA" + secrets.token_hex(16), "From": "+15550100", "To": "+15550199"}
        webhook = self.public_url + "/twilio/voice"
        signature = RequestValidator(self.auth_token).compute_signature(webhook, form)
        async with http.post(
            webhook, data=form, headers={"X-Twilio-Signature": signature}
        ) as answer:
            twiml = await answer.text()
            if answer.status != 200:
                raise RuntimeError(f"webhook answered {answer.status}: {twiml[:200]}")
        stream = re.search(r'<Stream url="([^"]+)"', twiml)
        if stream is None:
            raise RuntimeError(f"no <Stream> in the TwiML: {twiml[:200]}")
        parameters = dict(re.findall(r'<Parameter name="([^"]+)" value="([^"]+)"', twiml))
        call = FakeTwilioCall(stream.group(1), parameters=parameters, seed=self.seed)
        call.call_sid = form["CallSid"]
        call.received = self.log
        await call.__aenter__()
        self.call = call

    async def talk(self, speech: bytes, every: float, stop: asyncio.Event) -> None:
        """Say ``speech`` (PCM16 24 kHz) every ``every`` seconds until ``stop``."""
        assert self.call is not None
        await asyncio.sleep(self.seed % 50 * every / 50)  # spread the sentences out
        while not stop.is_set():
            self.sentences += 1
            await self.call.speak(speech)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    async def first_reply(self, timeout: float) -> None:
        """Return once the server sent this call agent audio."""
        assert self.call is not None
        await self.call.wait_for_message(lambda m: m.get("event") == "media", timeout)

    @property
    def dropped_by_server(self) -> bool:
        return self.call is not None and self.call.closed_by_server.is_set()

    async def hang_up(self) -> None:
        if self.call is not None:
            await self.call.hang_up()
