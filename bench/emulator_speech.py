"""Word error rate and CPU cost of the emulator's ears (pocketsphinx) on espeak-ng speech.

Run: .venv/bin/python bench/emulator_speech.py   (needs the speech extra; about a minute)

Each test sentence is spoken by espeak-ng as the emulator speaks (24 kHz PCM16, the default
input format of a Voice Live session) and transcribed by ``voiceagent.emulator.listening``, as
an unscripted user turn is. Reported: the word error rate (substitutions + deletions +
insertions over reference words, case and punctuation ignored) with the emulator's voice
(``en-us+f2``) and with espeak-ng's plain ``en-us`` voice, and the CPU seconds the recogniser
and the synthesiser spend per second of audio (process time, one thread).
"""

from __future__ import annotations

import re
import sys
import time

from voiceagent.emulator.espeak import DEFAULT_VOICE
from voiceagent.emulator.listening import transcribe
from voiceagent.emulator.voices import speak

SENTENCES = [
    "What is the weather like in Paris today?",
    "I would like to book a table for two tonight.",
    "Please call my mother tomorrow morning.",
    "The train to London leaves at nine in the morning.",
    "Can you turn off the lights in the kitchen?",
    "My favourite colour is green.",
    "We need to buy milk, bread and eggs.",
    "How long does it take to drive to the airport?",
    "Remind me to water the plants on Sunday.",
    "What time does the museum open?",
    "I lost my keys somewhere in the house.",
    "Play some relaxing music please.",
    "Is there a pharmacy near the station?",
    "The meeting has been moved to Friday afternoon.",
    "Send a message to John saying I am running late.",
    "How much does a ticket to Berlin cost?",
    "Set an alarm for seven o'clock.",
    "Tell me a joke about cats.",
    "I want to cancel my order.",
    "Where is the nearest coffee shop?",
    "Can I change my flight to next week?",
    "The children are playing in the garden.",
    "Open the window, it is too warm in here.",
    "Thank you very much, that is all for today.",
]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _edits(reference: list[str], hypothesis: list[str]) -> int:
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def measure(voice: str) -> tuple[float, float, float, float]:
    """(word error rate, recogniser CPU s per audio s, synthesiser CPU s per audio s, audio s)."""
    errors = words = 0
    recognise_cpu = synth_cpu = audio_s = 0.0
    for sentence in SENTENCES:
        start = time.process_time()
        speech = speak(sentence, "pcm16", voice="espeak", espeak_voice=voice)
        synth_cpu += time.process_time() - start
        audio_s += speech.duration_ms / 1000
        start = time.process_time()
        heard = transcribe(speech.audio, speech.sample_rate)
        recognise_cpu += time.process_time() - start
        reference = _words(sentence)
        errors += _edits(reference, _words(heard))
        words += len(reference)
        print(f"  [{voice}] {sentence!r} -> {heard!r}", file=sys.stderr)
    return errors / words, recognise_cpu / audio_s, synth_cpu / audio_s, audio_s


def main() -> None:
    transcribe(speak("warm up", "pcm16", voice="espeak").audio, 24000)  # load the model
    wer, cpu, synth, seconds = measure(DEFAULT_VOICE)
    plain_wer, _, _, _ = measure("en-us")
    print(f"sentences={len(SENTENCES)} audio_s={seconds:.1f}")
    print(
        f"emulator_speech wer={wer:.3f} wer_plain_en_us={plain_wer:.3f} "
        f"recognizer_cpu_per_audio_s={cpu:.3f} synth_cpu_per_audio_s={synth:.4f} "
        f"sentences={len(SENTENCES)} voice={DEFAULT_VOICE}"
    )


if __name__ == "__main__":
    main()
