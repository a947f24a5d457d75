"""Call tokens any replica can verify: an HMAC-SHA256 over (purpose, call id, expiry, nonce).

A webhook mints a token for one call and one purpose (a Twilio media stream, an ACS media
socket, ACS callbacks); whichever replica the carrier then reaches verifies it with the same
signing secret (``VOICEAGENT_SIGNING_SECRET``), no shared store. A token is
``v1.<expiry, unix seconds>.<nonce>.<mac>``, URL-safe; neither the call id nor the purpose is
in it (the verifier knows both, and the MAC binds them), and it is compared in constant time.

Across replicas a token is valid until its expiry: what keeps it single-use there is that only
the carrier has it (sent over TLS) and that it is bound to its call. Replicas compare expiries
on their wall clocks (keep them synchronized, as NTP does). Within one process
:class:`SpentTokens` remembers the redeemed ones until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable

from ..redaction import register_secret

__all__ = [
    "MIN_SIGNING_SECRET_CHARS",
    "SIGNING_SECRET_ENV",
    "SpentTokens",
    "TokenSigner",
    "check_secret_length",
    "check_signing_secret",
]

SIGNING_SECRET_ENV = "VOICEAGENT_SIGNING_SECRET"
MIN_SIGNING_SECRET_CHARS = 32
VERSION = "v1"
MAX_TOKEN_CHARS = 160  # a v1 token is ~80: anything longer is refused before any work


def check_secret_length(name: str, secret: str, minimum: int, where: str = "") -> None:
    """Raise ``ValueError`` (saying how to make one) for a secret too short to be guess-proof.

    Args:
        name: The setting, as the operator knows it (an environment variable).
        secret: Its value; the message gives its length, never the value.
        minimum: The fewest characters accepted.
        where: Appended to the advice (e.g. ", the same on every replica").
    """
    if len(secret) < minimum:
        raise ValueError(
            f"{name} has {len(secret)} characters; use at least {minimum} random ones{where}, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


def check_signing_secret(secret: str) -> None:
    """:func:`check_secret_length` for ``VOICEAGENT_SIGNING_SECRET`` (32+ characters)."""
    check_secret_length(
        SIGNING_SECRET_ENV, secret, MIN_SIGNING_SECRET_CHARS, ", the same on every replica"
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenSigner:
    """Mints and verifies call tokens with one signing secret (never shown by its repr)."""

    def __init__(self, secret: str | None = None, *, clock: Callable[[], float] = time.time):
        """Sign with ``secret`` (32+ characters), or with a random one of this instance's own.

        Args:
            secret: The secret every replica shares; None: a random one, so only tokens this
                instance minted verify (one replica).
            clock: Wall-clock seconds (replicas compare expiries, so not a monotonic clock).

        Raises:
            ValueError: ``secret`` is shorter than 32 characters.
        """
        if secret is not None:
            check_signing_secret(secret)
            register_secret(secret)  # redacted from every log record from now on
        self.shared = secret is not None
        self._key = secret.encode() if secret is not None else secrets.token_bytes(32)
        self._clock = clock

    def now(self) -> float:
        """The clock's current time."""
        return self._clock()

    def mint(self, purpose: str, call_id: str, ttl_s: float) -> str:
        """A token for ``call_id`` and ``purpose``, valid for ``ttl_s`` seconds."""
        expires = int(self._clock() + ttl_s + 0.999)
        nonce = _b64(secrets.token_bytes(12))
        return f"{VERSION}.{expires}.{nonce}.{self._mac(purpose, call_id, expires, nonce)}"

    def verify(self, token: str | None, purpose: str, call_id: str) -> float | None:
        """The expiry of a valid ``token``; None when not valid.

        Valid: minted with this secret for this ``purpose`` and ``call_id``, and not expired.
        """
        if not token or len(token) > MAX_TOKEN_CHARS or not call_id:
            return None
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != VERSION or not parts[1].isdigit():
            return None
        expires, nonce, mac = int(parts[1]), parts[2], parts[3]
        expected = self._mac(purpose, call_id, expires, nonce)
        if not hmac.compare_digest(expected.encode(), mac.encode()):
            return None
        if expires <= self._clock():
            return None
        return float(expires)

    def _mac(self, purpose: str, call_id: str, expires: int, nonce: str) -> str:
        message = json.dumps([VERSION, purpose, call_id, expires, nonce]).encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def __repr__(self) -> str:
        return f"TokenSigner({'shared secret' if self.shared else 'random secret'})"


class SpentTokens:
    """The tokens this process has redeemed, each kept until it expires (single use here)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        """Expiries are read on ``clock`` (the signer's)."""
        self._clock = clock
        self._spent: dict[str, float] = {}

    def spend(self, token: str, expires: float) -> bool:
        """True the first time ``token`` is spent; False while it is remembered."""
        now = self._clock()
        for old in [t for t, until in self._spent.items() if until <= now]:
            del self._spent[old]
        if token in self._spent:
            return False
        self._spent[token] = expires
        return True

    def __len__(self) -> int:
        return len(self._spent)

    def __repr__(self) -> str:
        return f"SpentTokens({len(self._spent)} remembered)"
