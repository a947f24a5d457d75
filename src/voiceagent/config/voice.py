"""Voices: the typed voice objects and the rule that turns a voice name into one."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Discriminator, Field, StrictFloat, Tag

from ..errors import ConfigError
from ..protocol.names import OPENAI_VOICES, VOICE_TYPES
from ._base import ConfigModel, Name, one_of

__all__ = [
    "AZURE_NEURAL_VOICE_PATTERN",
    "OPENAI_VOICE_NAMES",
    "AzureCustomVoiceConfig",
    "AzurePersonalVoiceConfig",
    "AzureStandardVoiceConfig",
    "OpenAIVoiceConfig",
    "TypedVoice",
    "VoiceConfig",
    "VoiceSetting",
    "resolve_voice",
    "voice_object",
]

OPENAI_VOICE_NAMES: frozenset[str] = frozenset(OPENAI_VOICES)
"""Bare voice names that mean an OpenAI voice."""

AZURE_NEURAL_VOICE_PATTERN = re.compile(
    r"(?P<language>[a-z]{2,3})"
    r"(?:-(?P<script>[A-Z][a-z]{3}))?"
    r"-(?P<region>[A-Z]{2}|[0-9]{3})"
    r"(?:-(?P<dialect>[a-z]+))?"
    r"-(?P<name>[A-Z][A-Za-z0-9]*?)"
    r"(?::(?P<variant>[A-Za-z0-9]+?))?"
    r"Neural"
)
"""An Azure neural voice name: ``<lang>[-<Script>]-<REGION>[-<dialect>]-<Name>[:<Variant>]Neural``.

Matches ``en-US-JennyNeural``, ``en-US-Ava:DragonHDLatestNeural``, ``zh-CN-shaanxi-XiaoniNeural``
and ``sr-Latn-RS-NicholasNeural`` (used with ``fullmatch``)."""

TUNING_FIELDS = ("temperature", "locale", "style", "pitch", "rate", "volume")
"""Azure voice settings that ``SessionOptions`` takes as ``voice_<name>`` for a named voice."""

_VOICE_FORMS = (
    "a bare OpenAI voice name (" + ", ".join(OPENAI_VOICES) + "); "
    "an Azure neural voice name such as 'en-US-JennyNeural' or 'en-US-Ava:DragonHDLatestNeural' "
    "(<lang>-<REGION>-<Name>[:<Variant>]Neural); "
    "any voice name together with voice_endpoint_id (Azure custom voice); "
    "or an explicit object/dict with type " + ", ".join(repr(t) for t in VOICE_TYPES)
)


class _AzureVoiceTuning(ConfigModel):
    temperature: StrictFloat | None = Field(default=None, ge=0, le=1)
    locale: Name | None = None
    prefer_locales: tuple[Name, ...] | None = None
    style: Name | None = None
    pitch: Name | None = None
    rate: Name | None = None
    volume: Name | None = None
    custom_lexicon_url: Name | None = None


class OpenAIVoiceConfig(ConfigModel):
    """An OpenAI voice (``{"type": "openai", "name": ...}``); ``name`` is one of the bare names."""

    type: Literal["openai"] = "openai"
    name: Annotated[str, one_of(OPENAI_VOICES, "an OpenAI voice")]


class AzureStandardVoiceConfig(_AzureVoiceTuning):
    """An Azure standard (neural or HD) voice, e.g. ``en-US-Ava:DragonHDLatestNeural``.

    Attributes:
        name: The voice name (not checked against the neural pattern: explicit is trusted).
        temperature: Variation of HD voices, 0..1.
        locale: Force this output locale (BCP-47).
        prefer_locales: Preferred accents for multilingual voices.
        style: Speaking style, e.g. ``"cheerful"``.
        pitch: SSML-style pitch, e.g. ``"+5%"`` or ``"high"``.
        rate: SSML-style rate, e.g. ``"1.1"`` or ``"+10%"``.
        volume: SSML-style volume, e.g. ``"+10%"``.
        custom_lexicon_url: A custom pronunciation lexicon.
    """

    type: Literal["azure-standard"] = "azure-standard"
    name: Name


class AzureCustomVoiceConfig(_AzureVoiceTuning):
    """An Azure custom neural voice deployed at ``endpoint_id`` (tuning as the standard voice)."""

    type: Literal["azure-custom"] = "azure-custom"
    name: Name
    endpoint_id: Name


class AzurePersonalVoiceConfig(_AzureVoiceTuning):
    """An Azure personal voice: speaker profile ``name`` rendered by ``model``."""

    type: Literal["azure-personal"] = "azure-personal"
    name: Name
    model: Name


VoiceConfig = Annotated[
    OpenAIVoiceConfig
    | AzureStandardVoiceConfig
    | AzureCustomVoiceConfig
    | AzurePersonalVoiceConfig,
    Field(discriminator="type"),
]
"""An explicit voice object (or a dict with ``type``), validated by its ``type``."""

TypedVoice: TypeAlias = (
    OpenAIVoiceConfig | AzureStandardVoiceConfig | AzureCustomVoiceConfig | AzurePersonalVoiceConfig
)
"""Any of the typed voice classes."""


def _voice_kind(value: Any) -> str:
    return "by-name" if isinstance(value, str) else "by-object"


VoiceSetting = Annotated[
    Annotated[Name, Tag("by-name")] | Annotated[VoiceConfig, Tag("by-object")],
    Discriminator(_voice_kind),
]
"""What ``SessionOptions.voice`` accepts: a name (see :func:`resolve_voice`) or a voice object."""


def voice_object(value: Any) -> Any:
    """Prepare a ``voice`` value for validation: SDK voice models are read as their dicts."""
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        value = as_dict()
    if isinstance(value, Mapping) and "type" not in value:
        raise ValueError(f"a voice object needs a 'type'; use {_VOICE_FORMS}")
    return value


def resolve_voice(
    voice: str | TypedVoice,
    *,
    endpoint_id: str | None = None,
    **tuning: Any,
) -> TypedVoice:
    """Turn a voice name into a typed voice, by the documented rule (never by guessing).

    1. With ``endpoint_id``: an Azure custom voice named ``voice``.
    2. A bare OpenAI name (case-insensitive): an OpenAI voice.
    3. A name matching :data:`AZURE_NEURAL_VOICE_PATTERN`: an Azure standard voice.
    4. Anything else: :class:`ConfigError` listing the accepted forms.

    Args:
        voice: A name, or an explicit voice object (returned as is).
        endpoint_id: The custom voice deployment id.
        **tuning: Azure voice tuning (temperature, locale, style, pitch, rate, volume).

    Returns:
        The typed voice.

    Raises:
        ConfigError: The name fits no rule, or tuning is given for an OpenAI voice.
    """
    if not isinstance(voice, str):
        return voice
    tuning = {k: v for k, v in tuning.items() if v is not None}
    if endpoint_id is not None:
        return AzureCustomVoiceConfig(name=voice, endpoint_id=endpoint_id, **tuning)
    if voice.lower() in OPENAI_VOICE_NAMES:
        if tuning:
            raise ConfigError(
                f"voice {voice!r} is an OpenAI voice; voice tuning "
                f"({', '.join('voice_' + k for k in tuning)}) applies to Azure voices only"
            )
        return OpenAIVoiceConfig(name=voice.lower())
    if AZURE_NEURAL_VOICE_PATTERN.fullmatch(voice):
        return AzureStandardVoiceConfig(name=voice, **tuning)
    raise ConfigError(
        f"voice {voice!r} is not a recognised voice{_hint(voice)}; use {_VOICE_FORMS}"
    )


def _hint(voice: str) -> str:
    """A likely intended name for a near miss, as ``" (did you mean 'X'?)"``, or ``""``."""
    if AZURE_NEURAL_VOICE_PATTERN.fullmatch(voice + "Neural"):
        return f" (did you mean {voice + 'Neural'!r}?)"
    close = difflib.get_close_matches(voice.lower(), OPENAI_VOICES, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
