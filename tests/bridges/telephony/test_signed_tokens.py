"""Signed call tokens: bound to a secret, a purpose, a call and an expiry; the secret unshown."""

from __future__ import annotations

import pytest

from voiceagent.redaction import redact
from voiceagent.serve import PhoneSettings
from voiceagent.serve.acs_events import ACS_STREAM, CallbackTokens
from voiceagent.serve.signed_tokens import TokenSigner
from voiceagent.serve.twilio_voice import StreamTokens

SECRET = "signing-SECRET-shared-by-every-replica-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_verifies_with_the_same_secret_for_its_purpose_and_call_until_it_expires() -> None:
    clock = Clock()
    signer, replica = TokenSigner(SECRET, clock=clock), TokenSigner(SECRET, clock=clock)
    token = signer.mint("twilio-stream", "CA1234567", 60)
    assert set(token) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    assert "CA1234567" not in token and "twilio" not in token
    assert replica.verify(token, "twilio-stream", "CA1234567") is not None
    assert replica.verify(token, "acs-callback", "CA1234567") is None
    assert replica.verify(token, "twilio-stream", "CA2") is None
    assert (
        TokenSigner(SECRET[::-1], clock=clock).verify(token, "twilio-stream", "CA1234567") is None
    )
    version, expires, nonce, mac = token.split(".")
    for forged in (
        f"{version}.{int(expires) + 3600}.{nonce}.{mac}",  # a later expiry
        f"{version}.{expires}.{nonce}x.{mac}",
        f"{version}.{expires}.{nonce}.{mac[:-1]}",
        f"v2.{expires}.{nonce}.{mac}",
        "",
        "x" * 5000,
    ):
        assert replica.verify(forged, "twilio-stream", "CA1234567") is None
    clock.now += 59
    assert replica.verify(token, "twilio-stream", "CA1234567") is not None
    clock.now += 2
    assert replica.verify(token, "twilio-stream", "CA1234567") is None


def test_stream_tokens_are_single_use_here_and_bound_to_their_purpose() -> None:
    signer = TokenSigner(SECRET)
    twilio, acs = StreamTokens(signer=signer), StreamTokens(signer=signer, purpose=ACS_STREAM)
    callbacks = CallbackTokens(signer=signer)
    token = twilio.mint("call-1")
    assert not acs.redeem(token, "call-1") and not callbacks.valid(token, "call-1")
    assert twilio.redeem(token, "call-1")
    assert not twilio.redeem(token, "call-1")  # once on this instance
    assert StreamTokens(signer=TokenSigner(SECRET)).redeem(token, "call-1")  # another replica
    assert not StreamTokens().redeem(twilio.mint("call-2"), "call-2")  # a random secret of its own


def test_callback_tokens_last_the_call_and_end_here_at_its_hang_up() -> None:
    clock = Clock()
    here, there = (CallbackTokens(signer=TokenSigner(SECRET, clock=clock)) for _ in range(2))
    token = here.mint("corr-1")
    clock.now += 3 * 3600
    assert here.valid(token, "corr-1") and here.valid(token, "corr-1")  # every callback
    assert there.valid(token, "corr-1")
    here.forget("corr-1")  # CallDisconnected
    assert not here.valid(token, "corr-1")
    clock.now += 3 * 3600 + 1
    assert not there.valid(token, "corr-1")


def test_the_secret_is_checked_and_never_shown() -> None:
    with pytest.raises(ValueError, match="at least 32") as short:
        TokenSigner("too-short-SECRET")
    assert "too-short-SECRET" not in str(short.value) and "token_urlsafe" in str(short.value)
    with pytest.raises(ValueError, match="VOICEAGENT_SIGNING_SECRET"):
        PhoneSettings(public_url="https://voice.example.com", signing_secret="short")
    signer = TokenSigner(SECRET)
    tokens = StreamTokens(signer=signer)
    phone = PhoneSettings(public_url="https://voice.example.com", signing_secret=SECRET)
    for shown in (repr(signer), repr(tokens), repr(CallbackTokens(signer=signer)), repr(phone)):
        assert SECRET not in shown
    assert SECRET not in redact(f"a log line with {SECRET} in it")
