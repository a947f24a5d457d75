"""SessionFactory: many sessions from one configuration and one credential (server use).

A process that holds many conversations (a web server, a telephony bridge) should not resolve
the environment, nor build a ``DefaultAzureCredential`` (with its own token cache and HTTP
pipeline), once per conversation. The factory does both once; each :meth:`SessionFactory.create`
builds a :class:`~voiceagent.VoiceAgentSession` on them. ``audio=`` is required there: a server
that forgot it must fail, not open the machine's sound card.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..audio.base import AudioBackend
from ..errors import ConfigError
from ..voicelive.connector import Credential, VoiceLiveConnector
from ..voicelive.credentials import close_credential
from . import arguments
from .session import VoiceAgentSession

if TYPE_CHECKING:
    from ..config import AgentConfig, ClassicAgentConfig, ConnectionConfig, SessionOptions

__all__ = ["SessionFactory", "close_sessions"]

log = logging.getLogger("voiceagent.session")

_FACTORY_OWNED = ("endpoint", "model", "connection", "credential")
"""Arguments fixed by the factory: one configuration and one credential for every session."""


class SessionFactory:
    """Builds many :class:`~voiceagent.VoiceAgentSession` from one configuration and credential.

    The endpoint, model and connection settings are resolved (arguments first, then the
    environment) once, here. With ``credential=None`` in agent mode (or model mode without an
    API key) the factory builds **one** ``azure.identity.aio.DefaultAzureCredential`` that every
    session shares and that :meth:`aclose` closes; sessions never close it. A credential you pass
    stays yours to close. Use it as an async context manager::

        async with SessionFactory(endpoint, AgentConfig(...)) as factory:
            session = factory.create(audio=bridge_audio)
            async with session:
                await session.wait_closed()

    Args:
        endpoint: The Voice Live endpoint (None reads ``VOICELIVE_ENDPOINT``).
        agent: The default agent of the sessions (None: model mode).
        credential: None (one shared ``DefaultAzureCredential``, or in model mode the
            ``AZURE_VOICELIVE_API_KEY``), a token credential or an ``AzureKeyCredential``
            (model mode only), shared by every session.
        options: The default session options.
        model: Model mode: the model.
        connection: Full connection settings instead of ``endpoint``/``model``.
        **session_kwargs: Defaults for the other :class:`~voiceagent.VoiceAgentSession`
            arguments (``greeting``, ``barge_in``, ``tools``, ...), overridable per session.

    Raises:
        ConfigError: The configuration is incomplete or inconsistent (checked here, before any
            session or connection exists).
    """

    def __init__(
        self,
        endpoint: str | None = None,
        agent: AgentConfig | ClassicAgentConfig | None = None,
        *,
        credential: Credential | None = None,
        options: SessionOptions | None = None,
        model: str | None = None,
        connection: ConnectionConfig | None = None,
        **session_kwargs: Any,
    ) -> None:
        from ..config import resolve_connection  # pydantic loads on first use, not on import

        if "audio" in session_kwargs:
            raise ConfigError(
                "SessionFactory takes no audio=: each session needs its own backend; pass it to "
                "factory.create(audio=...)"
            )
        self._agent = arguments.check_agent(agent)
        self._options = arguments.check_options(options)
        self._config = resolve_connection(
            endpoint=endpoint,
            model=model,
            connection=connection,
            credential_given=credential is not None,
            agent_mode=self._agent is not None,
        )
        # The mode/credential rules (a key in agent mode, a local endpoint without a stand-in)
        # checked once, without I/O, before a shared DefaultAzureCredential is built.
        VoiceLiveConnector(self._config, self._agent, credential=credential)
        self._owns_credential = False
        if credential is None and (self._agent is not None or self._config.api_key is None):
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential()
            self._owns_credential = True
        self._credential = credential
        self._session_kwargs = session_kwargs
        self._sessions: weakref.WeakSet[VoiceAgentSession] = weakref.WeakSet()
        self._closed = False

    @property
    def credential(self) -> Credential | None:
        """The credential every session uses (None: each uses the configured API key)."""
        return self._credential

    @property
    def connection(self) -> ConnectionConfig:
        """The connection settings, resolved once."""
        return self._config

    def create(
        self,
        *,
        audio: AudioBackend | None = None,
        agent: AgentConfig | ClassicAgentConfig | None = None,
        options: SessionOptions | None = None,
        **overrides: Any,
    ) -> VoiceAgentSession:
        """A new session on the factory's configuration and credential (not started).

        Args:
            audio: The session's audio backend (required: a bridge, ``MemoryAudio``,
                ``WavAudio``, or ``SoundDeviceAudio()`` explicitly for the sound card).
            agent: This session's agent instead of the factory's (same mode), e.g. an
                ``AgentConfig.resume(conversation_id)``.
            options: This session's options instead of the factory's.
            **overrides: Other :class:`~voiceagent.VoiceAgentSession` arguments for this
                session (``greeting``, ``log_path``, ``tools``, ...).

        Returns:
            The session; start it with ``async with session`` or ``await session.start()``.

        Raises:
            ConfigError: ``audio`` is missing, an argument belongs to the factory, or the
                factory is closed.
        """
        if self._closed:
            raise ConfigError("this SessionFactory is closed; create a new one")
        if audio is None:
            raise ConfigError(
                "SessionFactory.create() needs audio=: a server session must not open this "
                "machine's sound card by accident; pass its backend (a bridge, MemoryAudio, "
                "WavAudio), or SoundDeviceAudio() to use the sound card on purpose"
            )
        _reject_owned(overrides)
        kwargs = {**self._session_kwargs, **overrides}
        session = VoiceAgentSession(
            agent=agent if agent is not None else self._agent,
            credential=self._credential,
            options=options if options is not None else self._options,
            connection=self._config,
            audio=audio,
            **kwargs,
        )
        self._sessions.add(session)
        return session

    async def close_all(self, sessions: Iterable[VoiceAgentSession] | None = None) -> None:
        """Close ``sessions`` (default: every open session this factory made) concurrently.

        Each one cuts its reply and tells the service what its user heard (see
        :meth:`VoiceAgentSession.aclose`); one failing does not stop the others.
        """
        await close_sessions(list(self._sessions) if sessions is None else sessions)

    async def aclose(self) -> None:
        """Close the open sessions this factory made, then the credential it built.

        A credential passed to the factory is left open (it is yours). Safe to call twice.
        """
        if self._closed:
            return
        self._closed = True
        await self.close_all()
        credential, owned = self._credential, self._owns_credential
        self._owns_credential = False
        if owned and credential is not None:
            await close_credential(credential)

    async def __aenter__(self) -> SessionFactory:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


async def close_sessions(sessions: Iterable[VoiceAgentSession]) -> None:
    """Close many sessions at once, each telling the service what its user heard.

    The closes run concurrently (a server shutting down does not wait for them one by one); a
    failing close is logged and does not keep the others open.
    """
    pending = list(sessions)
    results = await asyncio.gather(*(s.aclose() for s in pending), return_exceptions=True)
    for session, result in zip(pending, results, strict=True):
        if isinstance(result, BaseException):
            log.error("closing session %s failed", session.session_id, exc_info=result)


def _reject_owned(kwargs: dict[str, Any]) -> None:
    owned = [name for name in _FACTORY_OWNED if name in kwargs]
    if owned:
        raise ConfigError(
            f"create() got {', '.join(owned)}: these are the factory's (one configuration and "
            "one credential for every session); pass them to SessionFactory(...) instead"
        )
