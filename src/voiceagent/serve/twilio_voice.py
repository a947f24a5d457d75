"""``POST /twilio/voice``: answer a Twilio call with TwiML that connects it to the media stream.

The webhook checks ``X-Twilio-Signature`` (HMAC-SHA1 with the account's auth token, over the URL
Twilio called and the POST parameters: ``twilio.request_validator.RequestValidator``) and mints a
one-time ``<Parameter name="token">`` the stream must present in ``start.customParameters``; the
media route's check (:meth:`StreamTokens.check`) refuses a stream without it. The token is signed
(HMAC-SHA256 over purpose, CallSid and expiry), so the stream may reach any replica that has the
same signing secret. When the app's
registry would refuse the conversation (full or draining), a signed webhook is answered
``<Reject reason="busy"/>`` instead (the caller hears busy; Twilio neither answers nor bills it)
and counted as a refusal.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ..bridges.telephony.backend import CallInfo
from .registry import find_registry
from .signed_tokens import SpentTokens, TokenSigner

__all__ = ["StreamTokens", "add_twilio_webhook", "websocket_url"]

log = logging.getLogger("voiceagent.serve")

TOKEN_PARAMETER = "token"
TWILIO_STREAM = "twilio-stream"
"""The purpose Twilio media-stream tokens are signed for."""


class StreamTokens:
    """One-time tokens a webhook mints for one call's media stream; any replica redeems them.

    Each token is signed (:class:`~voiceagent.serve.signed_tokens.TokenSigner`) for this
    ``purpose`` and one call id, so a replica with the same signing secret verifies it without
    shared state; this instance refuses one it has already redeemed (until it expires).
    """

    def __init__(
        self,
        ttl_s: float = 60.0,
        *,
        signer: TokenSigner | None = None,
        purpose: str = TWILIO_STREAM,
    ) -> None:
        """Tokens not redeemed within ``ttl_s`` seconds expire.

        Args:
            ttl_s: Seconds a token is valid from its minting.
            signer: Signs and verifies (give every replica one with the same secret);
                None: a random secret of this instance's own (one replica).
            purpose: What the tokens are for: a token minted for another purpose is refused.
        """
        self.ttl_s = ttl_s
        self.purpose = purpose
        self.signer = signer or TokenSigner()
        self._spent = SpentTokens(self.signer.now)

    def mint(self, call_id: str) -> str:
        """A new token for ``call_id``."""
        return self.signer.mint(self.purpose, call_id, self.ttl_s)

    def redeem(self, token: str | None, call_id: str) -> bool:
        """True once (here) for a token minted for ``call_id`` and not expired."""
        expires = self.signer.verify(token, self.purpose, call_id)
        return expires is not None and token is not None and self._spent.spend(token, expires)

    def check(self, call: CallInfo, request: web.Request) -> bool:
        """A ``check`` for :func:`~voiceagent.serve.telephony.hold_call`."""
        return self.redeem(call.custom_parameters.get(TOKEN_PARAMETER), call.call_id)

    def __repr__(self) -> str:
        return f"StreamTokens({self.purpose}, {len(self._spent)} redeemed, {self.signer!r})"


def websocket_url(public_url: str, stream_path: str) -> str:
    """``stream_path`` on ``public_url``, as the ws(s) URL a carrier connects to."""
    base = public_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return base + stream_path


def add_twilio_webhook(
    app: web.Application,
    *,
    public_url: str,
    auth_token: str | None,
    tokens: StreamTokens,
    path: str = "/twilio/voice",
    stream_path: str = "/media/twilio",
) -> None:
    """Mount ``POST path`` answering Twilio's voice webhook.

    Args:
        app: The aiohttp app.
        public_url: The address Twilio reaches (``https://example.com``): the signature covers
            the URL Twilio called, which a proxy in front of this server hides from it.
        auth_token: The account's auth token (``TWILIO_AUTH_TOKEN``); None accepts unsigned
            webhooks (development only: a warning says so).
        tokens: Mints the stream tokens (the media route's ``check`` is this one's, or that of
            one with a signer of the same secret on another replica).
        path: The webhook's path.
        stream_path: The media WebSocket's path, on the same ``public_url``.
    """
    from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
    from twilio.twiml.voice_response import (  # type: ignore[import-untyped]
        Connect,
        VoiceResponse,
    )

    if not public_url.startswith(("https://", "http://")):
        raise ValueError(f"public_url={public_url!r}: give the http(s) address Twilio reaches")
    validator = RequestValidator(auth_token) if auth_token else None
    if validator is None:
        log.warning("TWILIO_AUTH_TOKEN is not set: Twilio webhooks are accepted unsigned")
    stream_url = websocket_url(public_url, stream_path)

    async def voice(request: web.Request) -> web.Response:
        form: dict[str, Any] = {k: str(v) for k, v in (await request.post()).items()}
        if validator is not None:
            url = public_url.rstrip("/") + request.path_qs
            signature = request.headers.get("X-Twilio-Signature", "")
            if not validator.validate(url, form, signature):
                log.warning("refused a Twilio webhook without a valid signature")
                raise web.HTTPForbidden(text="invalid X-Twilio-Signature")
        call_sid = form.get("CallSid", "")
        if not call_sid:
            raise web.HTTPBadRequest(text="the webhook has no CallSid parameter")
        twiml = VoiceResponse()
        registry = find_registry(request.app)
        if registry is not None and registry.turn_away("twilio"):  # no stream to refuse later
            twiml.reject(reason="busy")
            return web.Response(text=str(twiml), content_type="text/xml")
        connect = Connect()
        stream = connect.stream(url=stream_url)
        stream.parameter(name=TOKEN_PARAMETER, value=tokens.mint(call_sid))
        twiml.append(connect)
        return web.Response(text=str(twiml), content_type="text/xml")

    app.router.add_post(path, voice)
