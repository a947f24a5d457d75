"""How the session sounds and behaves: :class:`SessionOptions`, sent as ``session.update``.

The conversion to the SDK's ``RequestSession`` lives at the SDK edge
(:func:`voiceagent.voicelive.requests.build_request_session`): this module never imports the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictFloat, field_validator, model_validator

from ..errors import ConfigError
from ..protocol.formats import INPUT_FORMATS, INPUT_SAMPLE_RATES, OUTPUT_SAMPLE_RATES
from ..protocol.names import MODALITIES
from ._base import ConfigModel, Name, Text, build_from_env, env_value, environ_or_os, one_of
from .avatar import AvatarOptions
from .input import InputTranscription, TurnDetection
from .interim import InterimResponse
from .tools import FunctionTool
from .voice import TUNING_FIELDS, TypedVoice, VoiceSetting, resolve_voice, voice_object

__all__ = ["SessionOptions"]

Modality = Annotated[str, one_of(MODALITIES, "a modality")]


class SessionOptions(ConfigModel):
    """How the session sounds and behaves; sent as the ``session.update`` after connecting.

    Unset (``None``) fields are not sent, so the service's defaults apply. In model mode the
    defaults below are sent (server VAD, noise suppression and echo cancellation on, as the
    samples recommend). In agent mode only the fields the app set are sent, plus the audio
    formats, so the Voice Live settings configured on the agent in Foundry stand.

    Attributes:
        instructions: System instructions (model mode; agents bring their own).
        modalities: Any of ``text``, ``audio``, ``animation``, ``avatar``.
        voice: A name (see :func:`resolve_voice` for the rule) or an explicit voice object/dict.
        voice_endpoint_id: Makes a named voice an Azure custom voice deployed here.
        voice_temperature: Azure voice temperature, 0..1.
        voice_style: Azure voice speaking style.
        voice_rate: Azure voice rate, e.g. ``"1.1"`` or ``"+10%"``.
        voice_pitch: Azure voice pitch, e.g. ``"+5%"``.
        voice_volume: Azure voice volume.
        voice_locale: Azure voice output locale.
        input_audio_format: ``pcm16``, ``g711_ulaw`` or ``g711_alaw`` (what the app sends).
        input_audio_sampling_rate: Hz; pcm16 8000/16000/24000/44100 (default 24000), G.711 8000.
        output_audio_format: ``pcm16`` (24 kHz), ``pcm16_8000hz``, ``pcm16_16000hz``,
            ``pcm16_22050hz``, ``pcm16_24000hz``, ``pcm16_44100hz``, ``pcm16_48000hz``,
            ``g711_ulaw``, ``g711_alaw``.
        turn_detection: A :class:`TurnDetection`, a type name, or ``None`` to disable.
        noise_reduction: ``azure_deep_noise_suppression``, ``near_field``, ``far_field`` or
            ``None`` for off.
        echo_cancellation: Server echo cancellation (keeps the agent from hearing itself).
        input_transcription: A model name or :class:`InputTranscription`.
        temperature: Sampling temperature of the model (documented ranges: 0..1 for the
            session, 0.6..1.2 for realtime models; 0..1.2 accepted).
        max_response_output_tokens: A positive limit or ``"inf"``.
        interim_response: :class:`LlmInterimResponse` or :class:`StaticInterimResponse`.
        tools: Function tools.
        tool_choice: ``auto``, ``none``, ``required`` or the name of one of ``tools``.
        avatar: A talking avatar (:class:`AvatarOptions`); ``"avatar"`` is added to the
            modalities sent (see ``docs/avatar.md``).
    """

    instructions: Text | None = None
    modalities: tuple[Modality, ...] | None = None
    voice: VoiceSetting | None = None
    voice_endpoint_id: Name | None = None
    voice_temperature: StrictFloat | None = Field(default=None, ge=0, le=1)
    voice_style: Name | None = None
    voice_rate: Name | None = None
    voice_pitch: Name | None = None
    voice_volume: Name | None = None
    voice_locale: Name | None = None
    input_audio_format: Annotated[str, one_of(INPUT_FORMATS, "an input audio format")] = "pcm16"
    input_audio_sampling_rate: int | None = None
    output_audio_format: Annotated[str, one_of(OUTPUT_SAMPLE_RATES, "an output audio format")] = (
        "pcm16"
    )
    turn_detection: TurnDetection | None = TurnDetection()
    noise_reduction: Literal["azure_deep_noise_suppression", "near_field", "far_field"] | None = (
        "azure_deep_noise_suppression"
    )
    echo_cancellation: StrictBool = True
    input_transcription: InputTranscription | None = None
    temperature: StrictFloat | None = Field(default=None, ge=0, le=1.2)
    max_response_output_tokens: int | Literal["inf"] | None = None
    interim_response: InterimResponse | None = None
    tools: tuple[FunctionTool, ...] = ()
    tool_choice: str | None = None
    avatar: AvatarOptions | None = None

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_object(cls, value: Any) -> Any:
        return voice_object(value)

    @field_validator("turn_detection", mode="before")
    @classmethod
    def _turn_detection_shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("input_transcription", mode="before")
    @classmethod
    def _transcription_shorthand(cls, value: Any) -> Any:
        return {"model": value} if isinstance(value, str) else value

    @field_validator("input_audio_sampling_rate", mode="before")
    @classmethod
    def _whole_hertz(cls, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"must be a whole number of Hz such as 24000 (got {value!r})")
        return value

    @field_validator("max_response_output_tokens", mode="before")
    @classmethod
    def _positive_tokens(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value == "inf"):
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"must be a positive whole number of tokens or 'inf' (got {value!r})")
        return value

    @field_validator("modalities")
    @classmethod
    def _valid_modalities(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("must list each modality once, e.g. ('text', 'audio'), or be unset")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SessionOptions:
        rates = INPUT_SAMPLE_RATES[self.input_audio_format]
        rate = self.input_audio_sampling_rate
        if rate is not None and rate not in rates:
            allowed = ", ".join(str(r) for r in rates)
            raise ValueError(
                f"input_audio_sampling_rate {rate} is not supported with input_audio_format "
                f"{self.input_audio_format!r}; use {allowed}"
            )
        tuning = self._voice_tuning()
        if self.voice is None and (tuning or self.voice_endpoint_id):
            raise ValueError("voice_* settings need a voice name; set voice")
        explicit = self.voice is not None and not isinstance(self.voice, str)
        if explicit and (tuning or self.voice_endpoint_id):
            raise ValueError(
                "voice_* settings apply to a voice given by name; with an explicit voice "
                "object, set them on that object"
            )
        if self.voice is not None:
            try:
                self.resolved_voice()
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        if self.avatar is None and self.modalities is not None and "avatar" in self.modalities:
            raise ValueError("modalities has 'avatar' but avatar is unset; set avatar=...")
        names = [t.name for t in self.tools]
        if len(set(names)) != len(names):
            raise ValueError("tools: two tools have the same name; tool names must be unique")
        choice = self.tool_choice
        if choice is not None and choice not in ("auto", "none", "required", *names):
            raise ValueError(
                f"tool_choice {self.tool_choice!r} is neither 'auto', 'none', 'required' nor "
                f"the name of a tool in tools ({', '.join(names) or 'none given'})"
            )
        return self

    def _voice_tuning(self) -> dict[str, Any]:
        values = {f: getattr(self, f"voice_{f}") for f in TUNING_FIELDS}
        return {k: v for k, v in values.items() if v is not None}

    def resolved_voice(self) -> TypedVoice | None:
        """The typed voice that will be sent (``voice`` with the voice rule applied), if any."""
        if self.voice is None:
            return None
        return resolve_voice(self.voice, endpoint_id=self.voice_endpoint_id, **self._voice_tuning())

    @property
    def input_sample_rate(self) -> int:
        """Sample rate of the PCM the app captures and sends, in Hz."""
        if self.input_audio_sampling_rate is not None:
            return self.input_audio_sampling_rate
        return 24000 if self.input_audio_format == "pcm16" else 8000

    @property
    def output_sample_rate(self) -> int:
        """Sample rate of the PCM the app plays (after G.711 decoding, if any), in Hz."""
        return OUTPUT_SAMPLE_RATES[self.output_audio_format]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **fields: Any) -> SessionOptions:
        """Options from ``fields``, with ``voice`` from ``VOICE_NAME`` when not given.

        Args:
            environ: The mapping to read (default: ``os.environ``).
            **fields: Any other :class:`SessionOptions` fields (they take precedence).

        Returns:
            The options.
        """
        values = dict(fields)
        sources: dict[str, str] = {}
        if "voice" not in values:
            found = env_value(environ_or_os(environ), "VOICE_NAME")
            if found is not None:
                sources["voice"], values["voice"] = found
        return build_from_env(cls, values, sources)
