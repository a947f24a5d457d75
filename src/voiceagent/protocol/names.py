"""Names the service uses: server event types, turn detection types, voices, modalities."""

from __future__ import annotations

__all__ = [
    "MODALITIES",
    "OPENAI_VOICES",
    "RESPONSE_CREATE_FIELDS",
    "SERVER_EVENT_TYPES",
    "SESSION_FIELDS",
    "TURN_DETECTION_FIELDS",
    "TURN_DETECTION_TYPES",
    "VOICE_LIVE_MODELS",
    "VOICE_TYPES",
]

SERVER_EVENT_TYPES: frozenset[str] = frozenset(
    (
        "conversation.item.created",
        "conversation.item.deleted",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.failed",
        "conversation.item.retrieved",
        "conversation.item.truncated",
        "error",
        "input_audio_buffer.cleared",
        "input_audio_buffer.committed",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
        "mcp_list_tools.in_progress",
        "output_audio_buffer.cleared",
        "response.animation_blendshapes.delta",
        "response.animation_blendshapes.done",
        "response.animation_viseme.delta",
        "response.animation_viseme.done",
        "response.audio.delta",
        "response.audio.done",
        "response.audio_timestamp.delta",
        "response.audio_timestamp.done",
        "response.audio_transcript.annotation.added",
        "response.audio_transcript.delta",
        "response.audio_transcript.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.created",
        "response.done",
        "response.file_search_call.completed",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.invocation.delta",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "response.mcp_call.in_progress",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.output_item.added",
        "response.output_item.done",
        "response.text.delta",
        "response.text.done",
        "response.video.delta",
        "response.web_search_call.completed",
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "session.avatar.connecting",
        "session.avatar.switch_to_idle",
        "session.avatar.switch_to_speaking",
        "session.created",
        "session.updated",
        "warning",
    )
)
"""Every server event ``type`` (azure-ai-voicelive 1.3.1's ``ServerEventType`` without its
tool-choice values). A test compares it with the installed SDK's enum, so an SDK upgrade that
adds an event fails the build instead of orphaning a handler."""

TURN_DETECTION_TYPES: tuple[str, ...] = (
    "server_vad",
    "semantic_vad",
    "azure_semantic_vad",
    "azure_semantic_vad_multilingual",
    "azure_semantic_vad_en",
)
"""``turn_detection.type`` values."""

OPENAI_VOICES: tuple[str, ...] = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
"""Bare OpenAI voice names (also valid as ``{"type": "openai", "name": ...}``)."""

VOICE_TYPES: tuple[str, ...] = ("openai", "azure-standard", "azure-custom", "azure-personal")
"""``voice.type`` values of object voices."""

MODALITIES: tuple[str, ...] = ("text", "audio", "animation", "avatar")
"""``modalities`` values."""

SESSION_FIELDS: frozenset[str] = frozenset(
    (
        "animation",
        "avatar",
        "include",
        "input_audio_echo_cancellation",
        "input_audio_format",
        "input_audio_noise_reduction",
        "input_audio_sampling_rate",
        "input_audio_transcription",
        "instructions",
        "interim_response",
        "max_response_output_tokens",
        "metadata",
        "modalities",
        "model",
        "output_audio_format",
        "output_audio_timestamp_types",
        "parallel_tool_calls",
        "reasoning_effort",
        "temperature",
        "tool_choice",
        "tools",
        "turn_detection",
        "voice",
    )
)
"""Fields of a ``session.update``'s ``session`` (the SDK's ``RequestSession``, 1.3.1)."""

RESPONSE_CREATE_FIELDS: frozenset[str] = frozenset(
    (
        "append_input_items",
        "cancel_previous",
        "commit",
        "input_items",
        "instructions",
        "interim_response",
        "invoke_input",
        "max_output_tokens",
        "metadata",
        "modalities",
        "output_audio_format",
        "pre_generated_assistant_message",
        "reasoning_effort",
        "temperature",
        "tool_choice",
        "tools",
        "voice",
    )
)
"""Fields of a ``response.create``'s ``response`` (the SDK's ``ResponseCreateParams``, 1.3.1)."""

VOICE_LIVE_MODELS: frozenset[str] = frozenset(
    (
        "gpt-realtime",
        "gpt-realtime-mini",
        "gpt-4o-realtime-preview",
        "gpt-4o-mini-realtime-preview",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "gpt-5-chat",
        "phi4-mm-realtime",
        "phi4-mini",
    )
)
"""Model names Microsoft's Voice Live docs list (supported models, realtime and cascaded)."""

TURN_DETECTION_FIELDS: frozenset[str] = frozenset(
    (
        "auto_truncate",
        "create_response",
        "eagerness",
        "end_of_utterance_detection",
        "interrupt_response",
        "languages",
        "prefix_padding_ms",
        "remove_filler_words",
        "silence_duration_ms",
        "speech_duration_ms",
        "threshold",
        "type",
    )
)
"""Fields of any ``turn_detection`` type (the SDK's VAD models, 1.3.1, plus ``semantic_vad``'s
``eagerness``)."""
