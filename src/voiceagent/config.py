"""Configuration as data: who to talk to (agent or model), how to connect, how the session sounds.

Every model here is a frozen pydantic model that rejects unknown fields. Invalid values raise
:class:`~voiceagent.errors.ConfigError` (a ``ValueError``) whose message names the field, says
what is wrong and how to fix it, and never quotes a secret. Nothing here does I/O: the environment
is read only by the ``from_env()`` constructors, and the conversion to SDK models
(:meth:`SessionOptions.to_request_session`) is called by the connection edge only.

See ``docs/configuration.md`` for every field, the environment variables and the voice rule.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError
from .protocol.formats import OUTPUT_SAMPLE_RATES
from .redaction import redact_url

if TYPE_CHECKING:
    from azure.ai.voicelive.models import RequestSession

__all__ = [
    "AZURE_NEURAL_VOICE_PATTERN",
    "DEFAULT_API_VERSION",
    "OPENAI_VOICE_NAMES",
    "AgentConfig",
    "AzureCustomVoiceConfig",
    "AzurePersonalVoiceConfig",
    "AzureStandardVoiceConfig",
    "ClassicAgentConfig",
    "ConnectionConfig",
    "EndOfUtteranceDetection",
    "FunctionTool",
    "InputTranscription",
    "LlmInterimResponse",
    "OpenAIVoiceConfig",
    "ReconnectPolicy",
    "SessionOptions",
    "StaticInterimResponse",
    "TurnDetection",
    "TypedVoice",
    "VoiceConfig",
    "resolve_voice",
]

DEFAULT_API_VERSION = "2026-07-15"
"""The GA ``api-version`` that ``azure-ai-voicelive`` 1.3.x sends by default."""

AI_FOUNDRY_SCOPE = "https://ai.azure.com/.default"
"""Entra scope of the ``agent-access-token`` for Foundry projects (classic agents)."""

ML_SCOPE = "https://ml.azure.com/.default"
"""Entra scope of the ``agent-access-token`` for hub-based projects (classic agents)."""

OPENAI_VOICE_NAMES: frozenset[str] = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
)
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

_ENV_HINT = "set it to a value or unset it"


# --------------------------------------------------------------------------- validation helpers


def _check_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace; leave it unset (None) instead")
    if value != value.strip():
        raise ValueError(f"has leading or trailing whitespace ({value!r}); remove it")
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace; leave it unset (None) instead")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""A non-empty identifier-like string without surrounding whitespace."""
Text = Annotated[str, AfterValidator(_check_text)]
"""Free text that must not be blank."""


def _describe(model: str, exc: ValidationError) -> str:
    """Render pydantic errors as 'what is wrong + how to fix it', without echoing secrets."""
    problems: list[str] = []
    fields = _field_names(model)
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"] if _is_field_part(p)]
        where = ".".join(loc)
        kind = err["type"]
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            # A nested model's own ConfigError: keep its detail, drop its "invalid X:" prefix.
            msg = re.sub(r"^invalid \w+:\s*", "", msg[len("Value error, ") :])
        if kind == "extra_forbidden":
            field = loc[-1] if loc else where
            close = difflib.get_close_matches(field, fields, n=1) if len(loc) == 1 else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            valid = f"; valid fields: {', '.join(sorted(fields))}" if len(loc) == 1 else ""
            problems.append(f"unknown field {where!r}{hint}{valid}")
            continue
        if kind == "missing":
            problems.append(f"{where}: is required")
            continue
        value = err.get("input")
        secret = any(s in where for s in ("api_key", "secret", "token", "password"))
        if (
            not secret
            and kind not in ("value_error", "assertion_error")
            and isinstance(value, (str, int, float, bool))
            and len(repr(value)) <= 80
        ):
            msg = f"{msg} (got {value!r})"
        problems.append(f"{where}: {msg}" if where else msg)
    if len(problems) == 1:
        return f"invalid {model}: {problems[0]}"
    return f"invalid {model}:\n" + "\n".join(f"  - {p}" for p in problems)


def _is_field_part(part: object) -> bool:
    # Drop pydantic's union/validator markers ("function-after[...]", "str", tags) from locations.
    if isinstance(part, int):
        return True
    text = str(part)
    return "[" not in text and text not in _LOC_NOISE


_LOC_NOISE = frozenset({"str", "int", "float", "bool", "literal", "by-name", "by-object"})


def _field_names(model: str) -> list[str]:
    cls = globals().get(model)
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return list(cls.model_fields)
    return []


class _ConfigModel(BaseModel):
    """Frozen, strict-about-fields base whose validation failures are ConfigErrors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    if not TYPE_CHECKING:
        # Hidden from type checkers so they keep the field-based __init__ signature.
        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise ConfigError(_describe(type(self).__name__, exc)) from None

        @classmethod
        def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
            try:
                return super().model_validate(obj, **kwargs)
            except ValidationError as exc:
                raise ConfigError(_describe(cls.__name__, exc)) from None


_M = TypeVar("_M", bound=_ConfigModel)


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _env(environ: Mapping[str, str], *names: str) -> str | None:
    """Return the first of ``names`` that is set; a set-but-blank variable is an error."""
    for name in names:
        if name in environ:
            value = environ[name]
            if not value.strip():
                raise ConfigError(f"environment variable {name} is set but empty; {_ENV_HINT}")
            if value != value.strip():
                raise ConfigError(
                    f"environment variable {name} has leading or trailing whitespace; remove it"
                )
            return value
    return None


def _from_env(cls: type[_M], values: dict[str, Any], sources: dict[str, str]) -> _M:
    """Build ``cls`` from env-derived values, naming the variable when a value is invalid."""
    try:
        return cls(**values)
    except ConfigError as exc:
        names = ", ".join(f"{field} <- {var}" for field, var in sources.items())
        raise ConfigError(f"{exc} (from environment: {names})") from None


# --------------------------------------------------------------------------- agents


class AgentConfig(_ConfigModel):
    """A Microsoft Foundry agent to talk to (agent mode), named as the SDK's ``connect()`` keywords.

    Agent mode accepts Microsoft Entra ID credentials only (no API key). Builder methods return
    new objects::

        agent = (AgentConfig(agent_name="concierge", project_name="contoso")
                 .with_version("4")
                 .with_resource_override("other-res", identity_client_id="<client id>")
                 .resume("conv_abc"))

    Attributes:
        agent_name: The agent's name in the Foundry project.
        project_name: The Foundry project that hosts the agent.
        agent_version: Pin a version of the agent (default: the latest).
        conversation_id: Continue this conversation (history kept) instead of starting one.
        foundry_resource_override: The Foundry resource that hosts the project, when it is not
            the Voice Live resource you connect to.
        authentication_identity_client_id: Client id of the managed identity Voice Live uses
            to call the agent on the overriding resource; needs ``foundry_resource_override``.
    """

    agent_name: Name
    project_name: Name
    agent_version: Name | None = None
    conversation_id: Name | None = None
    foundry_resource_override: Name | None = None
    authentication_identity_client_id: Name | None = None

    @model_validator(mode="before")
    @classmethod
    def _require_name_and_project(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            missing = [k for k in ("agent_name", "project_name") if data.get(k) is None]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} missing: an agent is named by both agent_name "
                    "(the agent) and project_name (its Foundry project), e.g. "
                    "AgentConfig(agent_name='concierge', project_name='contoso')"
                )
        return data

    @model_validator(mode="after")
    def _identity_needs_override(self) -> AgentConfig:
        if self.authentication_identity_client_id and not self.foundry_resource_override:
            raise ValueError(
                "authentication_identity_client_id is only used with foundry_resource_override "
                "(the identity that calls the agent on another Foundry resource); set both "
                "with .with_resource_override(resource, identity_client_id=...) or drop the id"
            )
        return self

    def _replace(self, **changes: Any) -> AgentConfig:
        # Through the constructor (not model_copy) so the result is validated again.
        return type(self)(**{**self.model_dump(), **changes})

    def with_version(self, version: str) -> AgentConfig:
        """Return a copy pinned to agent version ``version`` (e.g. ``"4"``)."""
        return self._replace(agent_version=version)

    def with_resource_override(
        self, resource: str, identity_client_id: str | None = None
    ) -> AgentConfig:
        """Return a copy whose agent lives on Foundry resource ``resource``.

        Args:
            resource: The Foundry resource name hosting the project.
            identity_client_id: Client id of the managed identity used to call the agent there;
                ``None`` clears any id set before (the id belongs to the resource).

        Returns:
            The new configuration.
        """
        return self._replace(
            foundry_resource_override=resource,
            authentication_identity_client_id=identity_client_id,
        )

    def resume(self, conversation_id: str) -> AgentConfig:
        """Return a copy that continues conversation ``conversation_id`` (history kept)."""
        return self._replace(conversation_id=conversation_id)

    def new_conversation(self) -> AgentConfig:
        """Return a copy that starts a new conversation (clears ``conversation_id``)."""
        return self._replace(conversation_id=None)

    def to_connect_kwargs(self) -> dict[str, str]:
        """The SDK ``connect()`` keyword arguments for this agent (unset fields left out).

        These are the flattened keywords of ``azure-ai-voicelive`` >= 1.2.0, which silently
        ignores the older ``agent_config=`` form.
        """
        return {k: v for k, v in self.model_dump().items() if v is not None}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AgentConfig:
        """Read the agent from the environment variables the Voice Live samples use.

        ``AGENT_NAME``, ``PROJECT_NAME`` (both required), ``AGENT_VERSION``,
        ``CONVERSATION_ID``, ``FOUNDRY_RESOURCE_OVERRIDE``,
        ``AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID``. A variable set to an empty string is an error.

        Args:
            environ: The mapping to read (default: ``os.environ``).

        Returns:
            The agent configuration.

        Raises:
            ConfigError: A variable is missing, empty or invalid (the message names it).
        """
        env = _environ(environ)
        sources = {
            "agent_name": "AGENT_NAME",
            "project_name": "PROJECT_NAME",
            "agent_version": "AGENT_VERSION",
            "conversation_id": "CONVERSATION_ID",
            "foundry_resource_override": "FOUNDRY_RESOURCE_OVERRIDE",
            "authentication_identity_client_id": "AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID",
        }
        values = {field: _env(env, var) for field, var in sources.items()}
        missing = [sources[f] for f in ("agent_name", "project_name") if values[f] is None]
        if missing:
            raise ConfigError(
                f"environment variable {' and '.join(missing)} not set: agent mode needs "
                "AGENT_NAME (the agent) and PROJECT_NAME (its Foundry project)"
            )
        return _from_env(cls, {k: v for k, v in values.items() if v is not None}, sources)


class ClassicAgentConfig(_ConfigModel):
    """A classic (Assistants-style) Foundry agent, addressed by id. Deprecated by the service.

    The connection fetches an Entra token for :attr:`token_scope` and passes ``agent-id``,
    ``agent-project-name`` (or ``agent-connection-string`` for hub-based projects) and
    ``agent-access-token`` in the query. Give exactly one of ``project_name`` and
    ``connection_string``.

    Attributes:
        agent_id: The classic agent's id (``asst_...``).
        project_name: The Foundry project name (Foundry projects).
        connection_string: The project connection string (hub-based projects).
    """

    agent_id: Name
    project_name: Name | None = None
    connection_string: Name | None = None

    @model_validator(mode="after")
    def _one_project(self) -> ClassicAgentConfig:
        if (self.project_name is None) == (self.connection_string is None):
            raise ValueError(
                "give exactly one of project_name (Foundry projects) or connection_string "
                "(hub-based projects)"
            )
        return self

    @property
    def is_hub(self) -> bool:
        """Whether the project is hub-based (addressed by connection string)."""
        return self.connection_string is not None

    @property
    def token_scope(self) -> str:
        """The Entra scope of the ``agent-access-token``."""
        return ML_SCOPE if self.is_hub else AI_FOUNDRY_SCOPE

    def to_query(self, access_token: str) -> dict[str, str]:
        """The query naming the agent, with ``access_token`` as ``agent-access-token``."""
        query = {"agent-id": self.agent_id}
        if self.connection_string is not None:
            query["agent-connection-string"] = self.connection_string
        else:
            assert self.project_name is not None  # guaranteed by _one_project
            query["agent-project-name"] = self.project_name
        query["agent-access-token"] = access_token
        return query


# --------------------------------------------------------------------------- connection


class ReconnectPolicy(_ConfigModel):
    """When and how fast to reconnect after a recoverable drop.

    The delay before attempt ``n`` (from 0) is ``min(max_backoff, initial_backoff * 2**n)``,
    randomised by ``± jitter`` of itself.

    Attributes:
        max_attempts: Reconnect attempts before giving up; 0 disables reconnecting.
        initial_backoff: First delay, in seconds.
        max_backoff: Longest delay, in seconds.
        jitter: Relative randomisation of each delay, 0..1.
    """

    max_attempts: int = Field(default=5, ge=0)
    initial_backoff: float = Field(default=0.5, gt=0)
    max_backoff: float = Field(default=15.0, gt=0)
    jitter: float = Field(default=0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> ReconnectPolicy:
        if self.max_backoff < self.initial_backoff:
            raise ValueError(
                f"max_backoff ({self.max_backoff}) is shorter than initial_backoff "
                f"({self.initial_backoff}); raise max_backoff"
            )
        return self


class ConnectionConfig(_ConfigModel):
    """Where and how to connect to Voice Live.

    Model mode needs ``model`` and may use ``api_key``; agent mode (an :class:`AgentConfig`
    given to the connection) uses Entra ID only. ``repr()`` and ``str()`` never show the key.

    Attributes:
        endpoint: The resource endpoint, e.g. ``https://<resource>.services.ai.azure.com``
            (``http``/``https``/``ws``/``wss``; the SDK appends ``/voice-live/realtime``).
        api_version: The ``api-version`` query value.
        model: The model to use in model mode, e.g. ``"gpt-realtime"``.
        api_key: A Voice Live resource key (model mode only).
        credential_scopes: Entra scopes for the ``Authorization`` token (default: the SDK's
            ``https://ai.azure.com/.default``).
        handshake_timeout: Seconds allowed for DNS, TCP, TLS and the WebSocket upgrade.
        receive_timeout: Seconds without any inbound message before the connection is
            considered dead (default: none; a quiet conversation is normal).
        close_timeout: Seconds to wait for the closing handshake.
        heartbeat: Seconds between WebSocket pings.
        max_message_size: Largest inbound message, in bytes.
        reconnect: The reconnect policy.
    """

    endpoint: str
    api_version: Name = DEFAULT_API_VERSION
    model: Name | None = None
    api_key: SecretStr | None = None
    credential_scopes: tuple[Name, ...] | None = None
    handshake_timeout: float = Field(default=20.0, gt=0)
    receive_timeout: float | None = Field(default=None, gt=0)
    close_timeout: float | None = Field(default=None, gt=0)
    heartbeat: float = Field(default=30.0, gt=0)
    max_message_size: int = Field(default=4 * 1024 * 1024, gt=0)
    reconnect: ReconnectPolicy = ReconnectPolicy()

    @field_validator("endpoint")
    @classmethod
    def _valid_endpoint(cls, value: str) -> str:
        example = "https://<resource>.services.ai.azure.com"
        if not value.strip():
            raise ValueError(f"must not be empty; use the resource endpoint, e.g. {example}")
        if value != value.strip():
            raise ValueError("has leading or trailing whitespace; remove it")
        shown = redact_url(value)
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            raise ValueError(f"{shown!r} is not a valid URL; use e.g. {example}") from None
        if parts.scheme.lower() not in ("http", "https", "ws", "wss") or not host:
            raise ValueError(
                f"{shown!r} is not an http(s):// or ws(s):// URL with a host; use the resource "
                f"endpoint, e.g. {example}"
            )
        if parts.path.rstrip("/").endswith("/voice-live/realtime"):
            raise ValueError(
                f"{shown!r} ends with /voice-live/realtime, which the SDK appends itself; "
                "remove that suffix"
            )
        return value

    @field_validator("api_key")
    @classmethod
    def _valid_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if not raw.strip() or raw != raw.strip():
                raise ValueError(
                    "is empty or has surrounding whitespace; copy the key again or leave it unset"
                )
        return value

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> ConnectionConfig:
        """Read the connection from the environment, as the Voice Live samples do.

        ``VOICELIVE_ENDPOINT`` (or ``AZURE_VOICELIVE_ENDPOINT``; required),
        ``AZURE_VOICELIVE_API_KEY``, ``VOICELIVE_MODEL`` (or ``AZURE_VOICELIVE_MODEL``),
        ``VOICELIVE_API_VERSION`` (or ``AZURE_VOICELIVE_API_VERSION``). When both names of a pair
        are set, the first wins. A variable set to an empty string is an error.

        Args:
            environ: The mapping to read (default: ``os.environ``).
            **overrides: Field values that take precedence over the environment.

        Returns:
            The connection configuration.

        Raises:
            ConfigError: A variable is missing, empty or invalid (the message names it).
        """
        env = _environ(environ)
        pairs = {
            "endpoint": ("VOICELIVE_ENDPOINT", "AZURE_VOICELIVE_ENDPOINT"),
            "api_key": ("AZURE_VOICELIVE_API_KEY",),
            "model": ("VOICELIVE_MODEL", "AZURE_VOICELIVE_MODEL"),
            "api_version": ("VOICELIVE_API_VERSION", "AZURE_VOICELIVE_API_VERSION"),
        }
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for field, names in pairs.items():
            if field in overrides:
                continue
            value = _env(env, *names)
            if value is not None:
                values[field] = value
                sources[field] = next(n for n in names if n in env)
        values.update(overrides)
        if "endpoint" not in values:
            raise ConfigError(
                "environment variable VOICELIVE_ENDPOINT (or AZURE_VOICELIVE_ENDPOINT) not set: "
                "set it to your resource endpoint, e.g. https://<resource>.services.ai.azure.com"
            )
        return _from_env(cls, values, sources)


# --------------------------------------------------------------------------- voices


class _AzureVoiceTuning(_ConfigModel):
    temperature: float | None = Field(default=None, ge=0, le=1)
    locale: Name | None = None
    prefer_locales: tuple[Name, ...] | None = None
    style: Name | None = None
    pitch: Name | None = None
    rate: Name | None = None
    volume: Name | None = None
    custom_lexicon_url: Name | None = None


class OpenAIVoiceConfig(_ConfigModel):
    """An OpenAI voice (``{"type": "openai", "name": ...}``)."""

    type: Literal["openai"] = "openai"
    name: Literal[
        "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"
    ]


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

_VOICE_FORMS = (
    "a bare OpenAI voice name (" + ", ".join(sorted(OPENAI_VOICE_NAMES)) + "); "
    "an Azure neural voice name such as 'en-US-JennyNeural' or 'en-US-Ava:DragonHDLatestNeural' "
    "(<lang>-<REGION>-<Name>[:<Variant>]Neural); "
    "any voice name together with voice_endpoint_id (Azure custom voice); "
    "or an explicit object/dict with type 'openai', 'azure-standard', 'azure-custom' or "
    "'azure-personal'"
)

_TUNING_FIELDS = ("temperature", "locale", "style", "pitch", "rate", "volume")


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
        return OpenAIVoiceConfig(name=cast(Any, voice.lower()))
    if AZURE_NEURAL_VOICE_PATTERN.fullmatch(voice):
        return AzureStandardVoiceConfig(name=voice, **tuning)
    raise ConfigError(f"voice {voice!r} is not a recognised voice; use {_VOICE_FORMS}")


# --------------------------------------------------------------------------- session parts


class EndOfUtteranceDetection(_ConfigModel):
    """Semantic end-of-utterance detection on top of VAD.

    Attributes:
        model: ``semantic_detection_v1``, ``semantic_detection_v1_en`` or
            ``semantic_detection_v1_multilingual``.
        threshold_level: ``low``, ``medium``, ``high`` or ``default``.
        timeout_ms: Longest wait for the end of an utterance, in ms.
    """

    model: Literal[
        "semantic_detection_v1", "semantic_detection_v1_en", "semantic_detection_v1_multilingual"
    ] = "semantic_detection_v1"
    threshold_level: Literal["low", "medium", "high", "default"] | None = None
    timeout_ms: int | None = Field(default=None, gt=0)


class TurnDetection(_ConfigModel):
    """Server-side turn detection (``SessionOptions(turn_detection=None)`` disables it).

    Unset fields use the service's defaults.

    Attributes:
        type: ``server_vad``, ``azure_semantic_vad``, ``azure_semantic_vad_multilingual`` or
            ``azure_semantic_vad_en``.
        threshold: Speech probability threshold, 0..1.
        prefix_padding_ms: Audio kept before detected speech, in ms.
        silence_duration_ms: Silence that ends a turn, in ms.
        auto_truncate: Let the service truncate the interrupted assistant item itself.
        create_response: Start a response when a turn ends.
        interrupt_response: Cancel the playing response when the user starts speaking.
        end_of_utterance_detection: Semantic end-of-utterance detection.
        speech_duration_ms: Minimum speech to start a turn, in ms (semantic VADs only).
        remove_filler_words: Ignore filler words such as "um" (semantic VADs only).
        languages: Expected languages (``azure_semantic_vad`` and ``..._multilingual`` only).
    """

    type: Literal[
        "server_vad",
        "azure_semantic_vad",
        "azure_semantic_vad_multilingual",
        "azure_semantic_vad_en",
    ] = "server_vad"
    threshold: float | None = Field(default=None, ge=0, le=1)
    prefix_padding_ms: int | None = Field(default=None, ge=0)
    silence_duration_ms: int | None = Field(default=None, ge=0)
    auto_truncate: bool | None = None
    create_response: bool | None = None
    interrupt_response: bool | None = None
    end_of_utterance_detection: EndOfUtteranceDetection | None = None
    speech_duration_ms: int | None = Field(default=None, ge=0)
    remove_filler_words: bool | None = None
    languages: tuple[Name, ...] | None = None

    @model_validator(mode="after")
    def _fields_fit_type(self) -> TurnDetection:
        not_for: dict[str, tuple[str, ...]] = {
            "server_vad": ("speech_duration_ms", "remove_filler_words", "languages"),
            "azure_semantic_vad_en": ("languages",),
        }
        wrong = [f for f in not_for.get(self.type, ()) if getattr(self, f) is not None]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} not supported by turn detection {self.type!r}; use "
                "'azure_semantic_vad' or 'azure_semantic_vad_multilingual', or remove "
                f"{'it' if len(wrong) == 1 else 'them'}"
            )
        return self


class InputTranscription(_ConfigModel):
    """Transcription of the user's audio (``conversation.item.input_audio_transcription.*``).

    Attributes:
        model: e.g. ``azure-speech``, ``whisper-1``, ``gpt-4o-transcribe``,
            ``gpt-4o-mini-transcribe``.
        language: BCP-47 or ISO-639-1 code, or several comma-separated for auto-detection.
        phrase_list: Phrase hints to bias recognition.
    """

    model: Name
    language: Name | None = None
    phrase_list: tuple[Name, ...] | None = None


Trigger = Literal["latency", "tool"]


def _unique_triggers(value: tuple[Trigger, ...] | None) -> tuple[Trigger, ...] | None:
    if value is not None:
        if not value:
            raise ValueError("must name at least one trigger ('latency', 'tool') or be unset")
        if len(set(value)) != len(value):
            raise ValueError("lists a trigger twice")
    return value


Triggers = Annotated[tuple[Trigger, ...] | None, AfterValidator(_unique_triggers)]


class LlmInterimResponse(_ConfigModel):
    """Short filler replies generated by a model while the real answer is delayed.

    Attributes:
        triggers: When to speak one: ``latency`` (slow answer), ``tool`` (tool call running).
            Unset: the service default (``["latency"]``).
        latency_threshold_ms: Delay before a latency-triggered interim reply, in ms.
        model: The model that writes interim replies.
        instructions: How to phrase them.
        max_completion_tokens: Length limit of one interim reply.
    """

    type: Literal["llm_interim_response"] = "llm_interim_response"
    triggers: Triggers = None
    latency_threshold_ms: int | None = Field(default=None, gt=0)
    model: Name | None = None
    instructions: Text | None = None
    max_completion_tokens: int | None = Field(default=None, gt=0)


class StaticInterimResponse(_ConfigModel):
    """Fixed filler phrases spoken while the real answer is delayed.

    Attributes:
        texts: The phrases (one is picked each time).
        triggers: As :class:`LlmInterimResponse`.
        latency_threshold_ms: As :class:`LlmInterimResponse`.
    """

    type: Literal["static_interim_response"] = "static_interim_response"
    texts: tuple[Text, ...] = Field(min_length=1)
    triggers: Triggers = None
    latency_threshold_ms: int | None = Field(default=None, gt=0)


_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class FunctionTool(_ConfigModel):
    """A function the model may call (model mode; agents bring their own tools).

    Attributes:
        name: ``[A-Za-z0-9_-]{1,64}``.
        description: What it does and when to call it.
        parameters: JSON schema of the arguments (an ``"type": "object"`` schema).
    """

    type: Literal["function"] = "function"
    name: str
    description: Text | None = None
    parameters: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _TOOL_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a valid tool name; use 1-64 letters, digits, '_' or '-'"
            )
        return value

    @field_validator("parameters")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            if value.get("type") != "object":
                raise ValueError(
                    'must be a JSON schema of "type": "object", e.g. '
                    '{"type": "object", "properties": {...}, "required": [...]}'
                )
            try:
                json.dumps(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"is not JSON-serialisable: {exc}") from None
        return value


InterimResponse = Annotated[LlmInterimResponse | StaticInterimResponse, Field(discriminator="type")]

_INPUT_RATES = {"pcm16": (8000, 16000, 24000), "g711_ulaw": (8000,), "g711_alaw": (8000,)}


def _voice_before(value: Any) -> Any:
    # SDK voice models are dict-like; validate them like the equivalent dicts.
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        value = as_dict()
    if isinstance(value, Mapping) and "type" not in value:
        raise ValueError(f"a voice object needs a 'type'; use {_VOICE_FORMS}")
    return value


def _voice_kind(value: Any) -> str:
    return "by-name" if isinstance(value, str) else "by-object"


VoiceSetting = Annotated[
    Annotated[Name, Tag("by-name")] | Annotated[VoiceConfig, Tag("by-object")],
    Discriminator(_voice_kind),
]


class SessionOptions(_ConfigModel):
    """How the session sounds and behaves; sent as the ``session.update`` after connecting.

    Unset (``None``) fields are not sent, so the service's (or the agent's) defaults apply.
    Noise suppression and echo cancellation are on by default, as the samples recommend.

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
        input_audio_sampling_rate: Hz; pcm16 8000/16000/24000 (default 24000), G.711 8000.
        output_audio_format: ``pcm16`` (24 kHz), ``pcm16_8000hz``, ``pcm16_16000hz``,
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
    """

    instructions: Text | None = None
    modalities: tuple[Literal["text", "audio", "animation", "avatar"], ...] | None = None
    voice: VoiceSetting | None = None
    voice_endpoint_id: Name | None = None
    voice_temperature: float | None = Field(default=None, ge=0, le=1)
    voice_style: Name | None = None
    voice_rate: Name | None = None
    voice_pitch: Name | None = None
    voice_volume: Name | None = None
    voice_locale: Name | None = None
    input_audio_format: Literal["pcm16", "g711_ulaw", "g711_alaw"] = "pcm16"
    input_audio_sampling_rate: int | None = None
    output_audio_format: Literal[
        "pcm16", "pcm16_8000hz", "pcm16_16000hz", "g711_ulaw", "g711_alaw"
    ] = "pcm16"
    turn_detection: TurnDetection | None = TurnDetection()
    noise_reduction: Literal["azure_deep_noise_suppression", "near_field", "far_field"] | None = (
        "azure_deep_noise_suppression"
    )
    echo_cancellation: bool = True
    input_transcription: InputTranscription | None = None
    temperature: float | None = Field(default=None, ge=0, le=1.2)
    max_response_output_tokens: int | Literal["inf"] | None = None
    interim_response: InterimResponse | None = None
    tools: tuple[FunctionTool, ...] = ()
    tool_choice: str | None = None

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_object(cls, value: Any) -> Any:
        return _voice_before(value)

    @field_validator("turn_detection", mode="before")
    @classmethod
    def _turn_detection_shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("input_transcription", mode="before")
    @classmethod
    def _transcription_shorthand(cls, value: Any) -> Any:
        return {"model": value} if isinstance(value, str) else value

    @field_validator("modalities")
    @classmethod
    def _valid_modalities(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("must list each modality once, e.g. ('text', 'audio'), or be unset")
        return value

    @field_validator("max_response_output_tokens")
    @classmethod
    def _positive_tokens(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and (isinstance(value, bool) or value < 1):
            raise ValueError("must be a positive number of tokens or 'inf'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SessionOptions:
        rates = _INPUT_RATES[self.input_audio_format]
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
        names = [t.name for t in self.tools]
        if len(set(names)) != len(names):
            raise ValueError("tools: two tools have the same name; tool names must be unique")
        choice = self.tool_choice
        if choice is not None and choice not in ("auto", "none", "required") + tuple(names):
            raise ValueError(
                f"tool_choice {self.tool_choice!r} is neither 'auto', 'none', 'required' nor "
                f"the name of a tool in tools ({', '.join(names) or 'none given'})"
            )
        return self

    def _voice_tuning(self) -> dict[str, Any]:
        values = {f: getattr(self, f"voice_{f}") for f in _TUNING_FIELDS}
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
            voice = _env(_environ(environ), "VOICE_NAME")
            if voice is not None:
                values["voice"] = voice
                sources["voice"] = "VOICE_NAME"
        return _from_env(cls, values, sources)

    def to_request_session(self) -> RequestSession:
        """Build the SDK ``RequestSession`` (for the connection edge; imports the SDK models).

        Only set fields are included: the SDK serialises an explicit ``None`` as JSON ``null``,
        which the service reads as "turn off". ``turn_detection=None`` is sent as ``null`` on
        purpose (that disables turn detection).
        """
        from azure.ai.voicelive import models as m

        kwargs: dict[str, Any] = {
            "input_audio_format": self.input_audio_format,
            "output_audio_format": self.output_audio_format,
        }
        if self.instructions is not None:
            kwargs["instructions"] = self.instructions
        if self.modalities is not None:
            kwargs["modalities"] = list(self.modalities)
        voice = self.resolved_voice()
        if voice is not None:
            kwargs["voice"] = _sdk_voice(m, voice)
        if self.input_audio_sampling_rate is not None:
            kwargs["input_audio_sampling_rate"] = self.input_audio_sampling_rate
        if self.noise_reduction is not None:
            kwargs["input_audio_noise_reduction"] = m.AudioNoiseReduction(type=self.noise_reduction)
        if self.echo_cancellation:
            kwargs["input_audio_echo_cancellation"] = m.AudioEchoCancellation()
        if self.input_transcription is not None:
            kwargs["input_audio_transcription"] = m.AudioInputTranscriptionOptions(
                **_set_fields(self.input_transcription)
            )
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.max_response_output_tokens is not None:
            kwargs["max_response_output_tokens"] = self.max_response_output_tokens
        if self.interim_response is not None:
            fields = _set_fields(self.interim_response)
            fields.pop("type")
            cls: Any = (
                m.LlmInterimResponseConfig
                if isinstance(self.interim_response, LlmInterimResponse)
                else m.StaticInterimResponseConfig
            )
            kwargs["interim_response"] = cls(**fields)
        if self.tools:
            kwargs["tools"] = [
                m.FunctionTool(**{k: v for k, v in _set_fields(t).items() if k != "type"})
                for t in self.tools
            ]
        if self.tool_choice is not None:
            kwargs["tool_choice"] = (
                self.tool_choice
                if self.tool_choice in ("auto", "none", "required")
                else m.ToolChoiceFunctionSelection(name=self.tool_choice)
            )
        session = m.RequestSession(**kwargs)
        if self.turn_detection is None:
            session["turn_detection"] = None
        else:
            session.turn_detection = _sdk_turn_detection(m, self.turn_detection)
        return session


def _set_fields(model: BaseModel) -> dict[str, Any]:
    """The model's set-or-defaulted non-None fields as plain JSON-ready values."""
    return {k: v for k, v in model.model_dump(mode="json").items() if v is not None}


def _sdk_voice(m: Any, voice: BaseModel) -> Any:
    fields = _set_fields(voice)
    kind = fields.pop("type")
    cls = {
        "openai": m.OpenAIVoice,
        "azure-standard": m.AzureStandardVoice,
        "azure-custom": m.AzureCustomVoice,
        "azure-personal": m.AzurePersonalVoice,
    }[kind]
    return cls(**fields)


def _sdk_turn_detection(m: Any, td: TurnDetection) -> Any:
    fields = _set_fields(td)
    kind = fields.pop("type")
    eou = fields.pop("end_of_utterance_detection", None)
    cls = {
        "server_vad": m.ServerVad,
        "azure_semantic_vad": m.AzureSemanticVad,
        "azure_semantic_vad_multilingual": m.AzureSemanticVadMultilingual,
        "azure_semantic_vad_en": m.AzureSemanticVadEn,
    }[kind]
    if eou is not None:
        eou_cls = {
            "semantic_detection_v1": m.AzureSemanticDetection,
            "semantic_detection_v1_en": m.AzureSemanticDetectionEn,
            "semantic_detection_v1_multilingual": m.AzureSemanticDetectionMultilingual,
        }[eou.pop("model")]
        fields["end_of_utterance_detection"] = eou_cls(**eou)
    return cls(**fields)
