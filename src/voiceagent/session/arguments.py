"""Checks of the session's constructor arguments: every mistake is a clear error at once.

Each message names the argument, what was wrong with it and how to fix it, before anything is
opened or sent.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..audio.base import AudioBackend, native_format_of
from ..audio.format import AudioFormat
from ..errors import ConfigError
from ..protocol.formats import OUTPUT_SAMPLE_RATES
from .bargein import BargeInPolicy
from .greeting import LLM_GREETING

if TYPE_CHECKING:
    from ..config import AgentConfig, ClassicAgentConfig, SessionOptions

__all__ = [
    "LLM_GREETING",
    "check_agent",
    "check_audio",
    "check_barge_in",
    "check_batch_ms",
    "check_greeting",
    "check_native_format",
    "check_options",
    "check_text",
    "check_timeout",
]

_AUDIO_METHODS = ("start", "stop", "play", "flush", "played_frames")


def check_agent(agent: object) -> AgentConfig | ClassicAgentConfig | None:
    """``agent=``: an :class:`AgentConfig`, a :class:`ClassicAgentConfig` or None."""
    from ..config import AgentConfig, ClassicAgentConfig

    if agent is None or isinstance(agent, (AgentConfig, ClassicAgentConfig)):
        return agent
    if isinstance(agent, str):
        raise ConfigError(
            f"agent must be an AgentConfig, not the string {agent!r}: write "
            f"agent=AgentConfig(agent_name={agent!r}, project_name='<your Foundry project>')"
        )
    raise ConfigError(
        f"agent must be an AgentConfig (or a ClassicAgentConfig), got {type(agent).__name__}; "
        "pass None (model mode) to talk to a model instead"
    )


def check_options(options: object) -> SessionOptions:
    """``options=``: a :class:`SessionOptions` or None (the defaults)."""
    from ..config import SessionOptions

    if options is None:
        return SessionOptions()
    if isinstance(options, SessionOptions):
        return options
    if isinstance(options, dict):
        raise ConfigError(
            "options must be a SessionOptions, not a dict: write "
            "options=SessionOptions(**your_dict) (its fields are checked there, by name)"
        )
    raise ConfigError(f"options must be a SessionOptions, got {type(options).__name__}")


def check_greeting(greeting: object) -> str | None:
    """``greeting=``: None, ``"llm"`` (any case) or a non-empty text to speak verbatim."""
    if greeting is None:
        return None
    if not isinstance(greeting, str):
        raise ConfigError(
            f"greeting must be None, 'llm' or a text to speak, got {type(greeting).__name__} "
            f"{greeting!r}"
        )
    text = greeting.strip()
    if not text:
        raise ConfigError(
            "greeting is empty; pass None (the user speaks first), 'llm' (the agent greets in "
            "its own words) or the sentence to speak"
        )
    if text.lower() == LLM_GREETING:
        return LLM_GREETING  # "LLM" is the mode, not a one-word greeting to read out
    return greeting


def check_audio(audio: object) -> AudioBackend | None:
    """``audio=``: an :class:`~voiceagent.AudioBackend` or None (the default sound devices)."""
    if audio is None:
        return None
    missing = [name for name in _AUDIO_METHODS if not callable(getattr(audio, name, None))]
    if not missing:
        return audio  # type: ignore[return-value]  # structurally an AudioBackend
    if isinstance(audio, str):
        raise ConfigError(
            f"audio must be an audio backend object, not the string {audio!r}: pass None for "
            "the default devices, SoundDeviceAudio(input_device=..., output_device=...) to "
            "choose devices, or WavAudio/MemoryAudio/NullAudio"
        )
    raise ConfigError(
        f"audio must be an AudioBackend; {type(audio).__name__} lacks {', '.join(missing)} "
        "(see voiceagent.AudioBackend for the contract)"
    )


_FORMAT_FIELDS = ("input_audio_format", "input_audio_sampling_rate", "output_audio_format")


def check_native_format(options: SessionOptions, audio: object) -> SessionOptions:
    """The options to use with ``audio``: its native wire format, when it declares one.

    A :class:`~voiceagent.audio.NativeFormatBackend` decides the formats on the wire (both
    ways); options that leave them at their defaults get them, options that set them must agree.

    Raises:
        ConfigError: The backend's ``native_format`` is not one Voice Live speaks, or the options
            explicitly set a format or rate that contradicts it (the message names both).
    """
    native = native_format_of(audio)
    if native is None:
        return options
    backend = type(audio).__name__
    if not isinstance(native, AudioFormat):
        raise ConfigError(
            f"{backend}.native_format must be an AudioFormat, got {type(native).__name__}; "
            "build it with AudioFormat.native('g711_ulaw', 8000)"
        )
    try:
        AudioFormat.native(native.encoding, native.sample_rate)
    except ValueError as exc:
        raise ConfigError(f"{backend}.native_format: {exc}") from None
    wanted: dict[str, object] = {
        "input_audio_format": native.input_audio_format,
        "input_audio_sampling_rate": native.sample_rate,
        "output_audio_format": native.output_audio_format,
    }
    for name in _FORMAT_FIELDS:
        if name not in options.model_fields_set:
            continue
        given = getattr(options, name)
        if given is None or _same_format(name, given, wanted[name]):
            continue
        raise ConfigError(
            f"SessionOptions({name}={given!r}) contradicts the audio backend: {backend} speaks "
            f"{native.encoding} at {native.sample_rate} Hz natively (its native_format), which "
            f"needs {name}={wanted[name]!r}; leave {name} unset (the session takes the "
            "backend's format) or use a backend without a native format (the session converts)"
        )
    return options.model_copy(update=wanted)


def _same_format(name: str, given: object, wanted: object) -> bool:
    if given == wanted:
        return True
    # "pcm16" and "pcm16_24000hz" are the same output format
    return (
        name == "output_audio_format"
        and isinstance(given, str)
        and isinstance(wanted, str)
        and given.startswith("pcm16")
        and wanted.startswith("pcm16")
        and OUTPUT_SAMPLE_RATES.get(given) == OUTPUT_SAMPLE_RATES.get(wanted)
    )


def check_barge_in(policy: object) -> BargeInPolicy:
    """``barge_in=``: a :class:`BargeInPolicy` or None (the default)."""
    if policy is None:
        return BargeInPolicy()
    if isinstance(policy, BargeInPolicy):
        return policy
    raise ConfigError(
        f"barge_in must be a BargeInPolicy, got {type(policy).__name__}; e.g. "
        "BargeInPolicy(cancel_response='always')"
    )


def check_timeout(name: str, value: object) -> float:
    """A positive, finite number of seconds (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def check_batch_ms(value: object) -> float:
    """``send_batch_ms``: None (no batching: 0) or a positive, finite number of milliseconds."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"send_batch_ms must be a number of milliseconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"send_batch_ms must be a positive number of ms, got {value!r}")
    return float(value)


def check_text(name: str, text: Any) -> str:
    """A non-empty text to send (``send_text``, ``say``)."""
    if not isinstance(text, str):
        raise ConfigError(f"{name} needs a str, got {type(text).__name__} {text!r}")
    if not text.strip():
        raise ConfigError(f"{name} needs a non-empty text; nothing was sent")
    return text
