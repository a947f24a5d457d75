"""The emulator's voice (espeak-ng) and ears (pocketsphinx), through the real SDK.

Needs the ``speech`` extra (``make test`` installs it); each test is skipped with the install
command when it is missing. Synthesis is cached by the emulator; recognition results of fixed
audio are cached here, so the module costs a few seconds.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive.models import (
    Animation,
    InputTextContentPart,
    RequestSession,
    ServerVad,
    UserMessageItem,
)

from voiceagent.emulator import Emulator
from voiceagent.emulator.listening import recognizer_available, transcribe
from voiceagent.emulator.voice import synthesize
from voiceagent.emulator.voices import espeak_available, speak
from voiceagent.protocol.formats import OUTPUT_FORMATS

from .helpers import model_connection, recv_until, send_audio, silence

needs_espeak = pytest.mark.skipif(
    not espeak_available(), reason="espeak-ng missing: pip install 'voiceagent[speech]'"
)
needs_recognizer = pytest.mark.skipif(
    not recognizer_available(), reason="pocketsphinx missing: pip install 'voiceagent[speech]'"
)

try:  # the demo's reply, as `make demo` speaks it
    from voiceagent.cli import DEMO_ANSWER
except ImportError:  # the CLI is being rebuilt elsewhere; the sentence is what matters
    DEMO_ANSWER = (
        "It is sunny and twenty two degrees in Paris. A perfect day for a walk by the river."
    )

SAID = "Hello there, the weather in Zurich is sunny."


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _recall(reference: str, heard: str) -> float:
    """Share of the reference's words that the hypothesis contains (bag of words)."""
    pool = _words(heard)
    hits = 0
    for word in _words(reference):
        if word in pool:
            pool.remove(word)
            hits += 1
    return hits / len(_words(reference))


@functools.cache
def _heard(pcm: bytes, rate: int) -> str:
    return transcribe(pcm, rate)


async def _reply(text: str, session: RequestSession | None = None, **kwargs: Any) -> list[Any]:
    async with (
        Emulator(realtime=False, script=lambda _: text, **kwargs) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        if session is not None:
            await conn.session.update(session=session)
            await recv_until(conn, "session.updated")
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="hi")])
        )
        await conn.response.create()
        return await recv_until(conn, "response.done")


def _audio(events: list[Any]) -> bytes:
    return b"".join(e.delta for e in events if e.type == "response.audio.delta")


@needs_espeak
@needs_recognizer
async def test_demo_reply_is_words_our_recogniser_transcribes() -> None:
    events = await _reply(DEMO_ANSWER)
    audio = _audio(events)
    heard = _heard(audio, 24000)
    # pocketsphinx hears most of the words: 8 to 14 of 18 (espeak-ng's output varies a little
    # from one synthesis to the next, and so does what is heard); of the old buzz: 1 of 18.
    # The bar sits between the two, well clear of both.
    assert _recall(DEMO_ANSWER, heard) >= 0.3, heard


@needs_espeak
async def test_word_timestamps_and_visemes_come_from_the_synthesiser() -> None:
    session = RequestSession(
        output_audio_timestamp_types=["word"], animation=Animation(outputs=["viseme_id"])
    )
    events = await _reply(SAID, session)
    audio = np.frombuffer(_audio(events), dtype="<i2").astype(np.float64)
    stamps = [e for e in events if e.type == "response.audio_timestamp.delta"]
    assert [s.text for s in stamps] == ["Hello", "there", "the", "weather", "in", "Zurich", "is", "sunny"]  # fmt: skip  # noqa: E501
    speech = speak(SAID, "pcm16")
    assert speech.engine == "espeak"
    assert [s.audio_offset_ms for s in stamps] == [round(t.start_ms) for t in speech.timings]
    previous_end = 0
    for stamp in stamps:
        assert stamp.audio_offset_ms >= previous_end
        previous_end = stamp.audio_offset_ms + stamp.audio_duration_ms
        # Every word's span is voiced: real speech energy where the synthesiser said the word is.
        begin, end = (stamp.audio_offset_ms * 24, previous_end * 24)
        span = audio[begin:end]
        assert 20 * np.log10(np.sqrt(np.mean(span * span)) / 32768) > -35, stamp.text
    assert previous_end <= len(audio) / 24
    visemes = [e for e in events if e.type == "response.animation_viseme.delta"]
    offsets = [v.audio_offset_ms for v in visemes]
    assert offsets == sorted(offsets)
    ids = {v.viseme_id for v in visemes}
    assert ids <= set(range(22)) and 0 in ids
    # Phoneme-based: "Hello" opens with h (12), "weather" has w (7), "sunny" s (15).
    assert {12, 7, 15} <= ids
    types = [e.type for e in events]
    assert types.index("response.audio_timestamp.done") > types.index("response.audio.done")


@needs_espeak
@pytest.mark.parametrize("fmt", sorted(OUTPUT_FORMATS))
async def test_espeak_speaks_every_output_format(fmt: str) -> None:
    rate, encoding = OUTPUT_FORMATS[fmt]
    events = await _reply(SAID, RequestSession(output_audio_format=fmt))
    audio = _audio(events)
    width = 1 if encoding in ("ulaw", "alaw") else 2
    reference = speak(SAID, "pcm16")
    # Same speech at every rate: the same length (within a sample or two) ...
    assert abs(len(audio) / (rate * width) - reference.duration_ms / 1000) < 0.002
    assert events[-1].response["output_audio_format"] == fmt
    if width == 2:
        # ... and at the right pitch: a voice's energy sits below 1 kHz at any rate.
        x = np.frombuffer(audio, dtype="<i2").astype(np.float64)
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(x.size, 1.0 / rate)
        assert spectrum[(freqs > 80) & (freqs < 1000)].sum() > 0.5 * spectrum.sum()


def test_synthetic_voice_fades_every_word_in_and_out() -> None:
    speech = synthesize("a I ok go, yes. no", "pcm16")
    x = np.frombuffer(speech.audio, dtype="<i2").astype(np.float64)
    peak = np.max(np.abs(x))
    for timing in speech.timings:
        end = int((timing.start_ms + timing.duration_ms) * 24)
        start = int(timing.start_ms * 24)
        # No step at either edge: the first and last millisecond are nearly silent.
        assert np.max(np.abs(x[start : start + 24])) < 0.05 * peak
        assert np.max(np.abs(x[end - 24 : end + 1])) < 0.05 * peak


async def test_auto_voice_falls_back_to_the_buzz(monkeypatch: pytest.MonkeyPatch) -> None:
    import voiceagent.emulator.voices as voices

    monkeypatch.setattr(voices, "espeak_available", lambda: False)
    events = await _reply("Fallback voice here.", RequestSession(output_audio_format="pcm16"))
    assert _audio(events) == synthesize("Fallback voice here.").audio


@needs_espeak
@needs_recognizer
async def test_unscripted_speech_is_recognised_and_answered_by_the_rules() -> None:
    question = speak("What is the weather like in Paris today?", "pcm16").audio
    async with (
        Emulator(realtime=False, script=None) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        emu.script.add_rule("weather", "It is sunny.")
        await conn.recv()
        await conn.session.update(session={"input_audio_transcription": {"model": "whisper-1"}})
        await recv_until(conn, "session.updated")
        await send_audio(conn, silence(300) + question + silence(800))
        events = await recv_until(conn, "response.done", timeout=30)
        heard = next(
            e for e in events if e.type == "conversation.item.input_audio_transcription.completed"
        )
        assert "weather" in heard.transcript
        assert emu.sessions[0].responses[0].reply.text == "It is sunny."


@needs_espeak
@needs_recognizer
async def test_remove_filler_words_with_the_recogniser_holds_speech_started_back() -> None:
    question = speak("What is the weather like in Paris today?", "pcm16").audio
    async with (
        Emulator(realtime=False, always_transcribe=True) as emu,
        model_connection(emu.endpoint) as conn,
    ):
        await conn.recv()
        vad = ServerVad()
        vad["remove_filler_words"] = True
        await conn.session.update(session=RequestSession(turn_detection=vad))
        await recv_until(conn, "session.updated")
        await send_audio(conn, silence(1000) + question + silence(800))
        events = await recv_until(conn, "response.done", timeout=30)
        types = [e.type for e in events]
        started = types.index("input_audio_buffer.speech_started")
        # Sent only once the recogniser heard words, right before speech_stopped, with the
        # utterance's real start (1000 ms of silence minus 300 ms of prefix padding).
        assert types[started + 1] == "input_audio_buffer.speech_stopped"
        assert 600 <= events[started].audio_start_ms <= 800
        assert "weather" in emu.sessions[0].conversation.items[0]["content"][0]["transcript"]


def test_speech_packages_load_only_when_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, voiceagent.emulator as e; e.Emulator(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pocketsphinx', 'espeakng_loader', 'soxr', 'sounddevice') "
        "or m in ('voiceagent.emulator.espeak', 'voiceagent.session')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_required_speech_that_is_missing_fails_at_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import voiceagent.emulator.server as server
    from voiceagent.emulator import SpeechUnavailableError

    monkeypatch.setattr(server, "espeak_available", lambda: False)
    monkeypatch.setattr(server, "recognizer_available", lambda: False)
    with pytest.raises(SpeechUnavailableError, match="voiceagent\\[speech\\]"):
        Emulator(voice="espeak")
    with pytest.raises(SpeechUnavailableError, match="pocketsphinx"):
        Emulator(listen=True)
    Emulator(voice="auto", listen="auto")  # auto never fails
    with pytest.raises(ValueError):
        Emulator(voice="robot")
    with pytest.raises(ValueError):
        Emulator(listen="maybe")


@pytest.mark.skipif(
    __import__("ctypes.util").util.find_library("espeak-ng") is None,
    reason="the Debian espeak-ng package is missing: apt-get install espeak-ng",
)
def test_system_espeak_ng_is_the_fallback_without_the_wheel() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['espeakng_loader'] = None\n"
        "from voiceagent.emulator import espeak\n"
        "from voiceagent.emulator.voices import speak\n"
        "s = speak('Hello there, the weather is sunny.', 'pcm16')\n"
        "print(espeak.source(), s.engine, len(s.timings))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["system", "espeak", "6"]
