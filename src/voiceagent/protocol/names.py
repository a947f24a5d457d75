"""Names the service uses: server event types, turn detection types, voices, modalities."""

from __future__ import annotations

__all__ = [
    "MODALITIES",
    "OPENAI_VOICES",
    "SERVER_EVENT_TYPES",
    "TURN_DETECTION_TYPES",
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
