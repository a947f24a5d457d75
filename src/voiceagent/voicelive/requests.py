"""SessionOptions -> the SDK's ``RequestSession`` (the body of ``session.update``).

The one place where configuration becomes SDK models. Two modes:

* **model mode** (``agent_mode=False``): every set or defaulted option is sent, so
  ``SessionOptions()`` asks for server VAD, deep noise suppression and server echo cancellation.
* **agent mode** (``agent_mode=True``): only the options the app set explicitly are sent (pydantic
  ``model_fields_set``), so the Voice Live settings configured on the agent in Foundry stand.
  The audio formats and the input rate are always sent: the client's encoder and decoder depend
  on them. An explicit "off" (``turn_detection=None``, ``noise_reduction=None``,
  ``echo_cancellation=False``) is sent as JSON ``null``, which switches the agent's setting off.

Unset fields are left out rather than sent as ``None``: the SDK serialises an explicit ``None``
as JSON ``null``, which the service reads as "turn off".
"""

from __future__ import annotations

from typing import Any

from azure.ai.voicelive import models as m
from pydantic import BaseModel

from ..config import (
    FunctionTool,
    LlmInterimResponse,
    SessionOptions,
    TurnDetection,
    TypedVoice,
)

__all__ = ["build_request_session", "sdk_turn_detection", "sdk_voice"]

_VOICES: dict[str, Any] = {
    "openai": m.OpenAIVoice,
    "azure-standard": m.AzureStandardVoice,
    "azure-custom": m.AzureCustomVoice,
    "azure-personal": m.AzurePersonalVoice,
}

_TURN_DETECTIONS: dict[str, Any] = {
    "server_vad": m.ServerVad,
    "azure_semantic_vad": m.AzureSemanticVad,
    "azure_semantic_vad_multilingual": m.AzureSemanticVadMultilingual,
    "azure_semantic_vad_en": m.AzureSemanticVadEn,
}
"""Turn detection types with an SDK model; others (``semantic_vad``) are sent as plain dicts."""

_END_OF_UTTERANCE: dict[str, Any] = {
    "semantic_detection_v1": m.AzureSemanticDetection,
    "semantic_detection_v1_en": m.AzureSemanticDetectionEn,
    "semantic_detection_v1_multilingual": m.AzureSemanticDetectionMultilingual,
}


def build_request_session(options: SessionOptions, *, agent_mode: bool) -> m.RequestSession:
    """Build the ``RequestSession`` to send as ``session.update`` (see the module docstring).

    Args:
        options: The session options.
        agent_mode: True when talking to a Foundry agent (``AgentConfig`` or
            ``ClassicAgentConfig``): only what the app set is sent, the agent's settings stand.

    Returns:
        The SDK model, ready for ``connection.session.update(session=...)``.
    """
    explicit = options.model_fields_set

    def chosen(field: str) -> bool:
        return not agent_mode or field in explicit

    kwargs: dict[str, Any] = {
        "input_audio_format": options.input_audio_format,
        "output_audio_format": options.output_audio_format,
    }
    nulls: list[str] = []
    if agent_mode:
        kwargs["input_audio_sampling_rate"] = options.input_sample_rate
    elif options.input_audio_sampling_rate is not None:
        kwargs["input_audio_sampling_rate"] = options.input_audio_sampling_rate
    if chosen("instructions") and options.instructions is not None:
        kwargs["instructions"] = options.instructions
    if chosen("modalities") and options.modalities is not None:
        kwargs["modalities"] = list(options.modalities)
    if chosen("avatar") and options.avatar is not None:
        # The raw JSON mapping form: the SDK maps "type" onto AvatarConfig.avatar_type itself.
        kwargs["avatar"] = m.AvatarConfig(options.avatar.wire())
        modalities = kwargs.get("modalities") or list(options.modalities or ("text", "audio"))
        kwargs["modalities"] = [*modalities, *(["avatar"] if "avatar" not in modalities else [])]
    voice = options.resolved_voice()
    if chosen("voice") and voice is not None:
        kwargs["voice"] = sdk_voice(voice)
    if chosen("noise_reduction"):
        if options.noise_reduction is not None:
            kwargs["input_audio_noise_reduction"] = m.AudioNoiseReduction(
                type=options.noise_reduction
            )
        elif agent_mode:
            nulls.append("input_audio_noise_reduction")
    if chosen("echo_cancellation"):
        if options.echo_cancellation:
            kwargs["input_audio_echo_cancellation"] = m.AudioEchoCancellation()
        elif agent_mode:
            nulls.append("input_audio_echo_cancellation")
    if chosen("input_transcription") and options.input_transcription is not None:
        kwargs["input_audio_transcription"] = m.AudioInputTranscriptionOptions(
            **_set_fields(options.input_transcription)
        )
    if chosen("temperature") and options.temperature is not None:
        kwargs["temperature"] = options.temperature
    if chosen("max_response_output_tokens") and options.max_response_output_tokens is not None:
        kwargs["max_response_output_tokens"] = options.max_response_output_tokens
    if chosen("interim_response") and options.interim_response is not None:
        kwargs["interim_response"] = _sdk_interim(options.interim_response)
    if chosen("tools") and options.tools:
        kwargs["tools"] = [_sdk_tool(t) for t in options.tools]
    if chosen("tool_choice") and options.tool_choice is not None:
        choice = options.tool_choice
        kwargs["tool_choice"] = (
            choice
            if choice in ("auto", "none", "required")
            else m.ToolChoiceFunctionSelection(name=choice)
        )
    session = m.RequestSession(**kwargs)
    if chosen("turn_detection"):
        if options.turn_detection is None:
            nulls.append("turn_detection")
        else:
            session["turn_detection"] = sdk_turn_detection(options.turn_detection)
    for key in nulls:
        # Item assignment: the SDK sends an explicit None as JSON null ("off").
        session[key] = None
    return session


def _set_fields(model: BaseModel) -> dict[str, Any]:
    """The model's set-or-defaulted non-None fields as plain JSON-ready values."""
    return {k: v for k, v in model.model_dump(mode="json").items() if v is not None}


def sdk_voice(voice: TypedVoice) -> Any:
    """The SDK voice model of a typed voice (``OpenAIVoice``, ``AzureStandardVoice``, ...)."""
    fields = _set_fields(voice)
    return _VOICES[fields.pop("type")](**fields)


def sdk_turn_detection(td: TurnDetection) -> Any:
    """The SDK turn detection model (``ServerVad``, ``AzureSemanticVad``, ...) or a dict."""
    fields = _set_fields(td)
    cls = _TURN_DETECTIONS.get(fields["type"])
    if cls is None:
        return fields
    del fields["type"]
    eou = fields.pop("end_of_utterance_detection", None)
    if eou is not None:
        fields["end_of_utterance_detection"] = _END_OF_UTTERANCE[eou.pop("model")](**eou)
    return cls(**fields)


def _sdk_interim(interim: BaseModel) -> Any:
    fields = _set_fields(interim)
    del fields["type"]
    if isinstance(interim, LlmInterimResponse):
        return m.LlmInterimResponseConfig(**fields)
    return m.StaticInterimResponseConfig(**fields)


def _sdk_tool(tool: FunctionTool) -> Any:
    fields = _set_fields(tool)
    del fields["type"]
    return m.FunctionTool(**fields)
