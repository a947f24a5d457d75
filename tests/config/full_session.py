"""A SessionOptions with every field set and the session.update body it must produce."""

from __future__ import annotations

from typing import Any

from voiceagent.config import FunctionTool, LlmInterimResponse, SessionOptions, TurnDetection


def full_options() -> SessionOptions:
    """Every SessionOptions field set to a non-default value."""
    return SessionOptions(
        instructions="Be brief.",
        modalities=("text", "audio"),
        voice="en-US-Ava:DragonHDLatestNeural",
        voice_temperature=0.3,
        voice_style="cheerful",
        voice_rate="1.1",
        voice_pitch="+5%",
        voice_volume="+10%",
        voice_locale="en-GB",
        input_audio_format="pcm16",
        input_audio_sampling_rate=16000,
        output_audio_format="pcm16_16000hz",
        turn_detection=TurnDetection(
            type="azure_semantic_vad_multilingual",
            threshold=0.4,
            prefix_padding_ms=200,
            silence_duration_ms=350,
            auto_truncate=True,
            create_response=True,
            interrupt_response=False,
            end_of_utterance_detection={
                "model": "semantic_detection_v1_multilingual",
                "threshold_level": "low",
                "timeout_ms": 900,
            },
            speech_duration_ms=80,
            remove_filler_words=True,
            languages=("en", "fr"),
        ),
        noise_reduction="far_field",
        echo_cancellation=True,
        input_transcription={
            "model": "azure-speech",
            "language": "en-US",
            "phrase_list": ["Contoso"],
        },
        temperature=0.7,
        max_response_output_tokens=512,
        interim_response=LlmInterimResponse(
            triggers=("tool", "latency"),
            latency_threshold_ms=1500,
            model="gpt-4.1-mini",
            instructions="Say you are checking.",
            max_completion_tokens=30,
        ),
        tools=(
            FunctionTool(
                name="lookup_order",
                description="Find an order by id.",
                parameters={
                    "type": "object",
                    "properties": {"id": {"type": "string"}},
                    "required": ["id"],
                },
            ),
        ),
        tool_choice="lookup_order",
    )


FULL_SESSION_DICT: dict[str, Any] = {
    "instructions": "Be brief.",
    "modalities": ["text", "audio"],
    "voice": {
        "type": "azure-standard",
        "name": "en-US-Ava:DragonHDLatestNeural",
        "temperature": 0.3,
        "style": "cheerful",
        "rate": "1.1",
        "pitch": "+5%",
        "volume": "+10%",
        "locale": "en-GB",
    },
    "input_audio_format": "pcm16",
    "input_audio_sampling_rate": 16000,
    "output_audio_format": "pcm16_16000hz",
    "turn_detection": {
        "type": "azure_semantic_vad_multilingual",
        "threshold": 0.4,
        "prefix_padding_ms": 200,
        "silence_duration_ms": 350,
        "auto_truncate": True,
        "create_response": True,
        "interrupt_response": False,
        "end_of_utterance_detection": {
            "model": "semantic_detection_v1_multilingual",
            "threshold_level": "low",
            "timeout_ms": 900,
        },
        "speech_duration_ms": 80,
        "remove_filler_words": True,
        "languages": ["en", "fr"],
    },
    "input_audio_noise_reduction": {"type": "far_field"},
    "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
    "input_audio_transcription": {
        "model": "azure-speech",
        "language": "en-US",
        "phrase_list": ["Contoso"],
    },
    "temperature": 0.7,
    "max_response_output_tokens": 512,
    "interim_response": {
        "type": "llm_interim_response",
        "triggers": ["tool", "latency"],
        "latency_threshold_ms": 1500,
        "model": "gpt-4.1-mini",
        "instructions": "Say you are checking.",
        "max_completion_tokens": 30,
    },
    "tools": [
        {
            "type": "function",
            "name": "lookup_order",
            "description": "Find an order by id.",
            "parameters": {
                "type": "object",
                "properties": {"id": {"type": "string"}},
                "required": ["id"],
            },
        }
    ],
    "tool_choice": {"type": "function", "name": "lookup_order"},
}
