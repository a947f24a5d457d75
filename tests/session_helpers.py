"""Helpers for session tests: secrets to look for in logs, speech for the microphone."""

from __future__ import annotations

from voiceagent.emulator.voice import synthesize

TOKEN = "emulator-token-SECRET-1234567890abcdef"
KEY = "emulator-key-SECRET-abcdef1234567890"


def user_speech(text: str = "hello there how are you") -> bytes:
    """Speech-like PCM16 24 kHz followed by enough silence to end the turn."""
    return synthesize(text).audio + bytes(24000 * 2)  # + 1 s of silence
