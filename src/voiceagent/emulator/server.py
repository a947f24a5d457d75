"""The emulator server: an aiohttp app serving ``/voice-live/realtime`` on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Collection
from types import TracebackType

from aiohttp import web

from voiceagent.protocol.names import VOICE_LIVE_MODELS

from .conversations import Conversation, ConversationStore
from .faults import Faults
from .handshake import SUPPORTED_API_VERSIONS, HandshakeError, validate_handshake
from .listening import SpeechUnavailableError, listen_mode, recognizer_available
from .response import SessionClosedError
from .script import AgentScript, Reply
from .session import EmulatedSession
from .settings import DEFAULT_MAX_FRAME_BYTES, SessionSettings
from .stun import StunServer
from .timing import Timing
from .voices import VOICES, espeak_available

__all__ = ["PATH", "Emulator"]

logger = logging.getLogger(__name__)

PATH = "/voice-live/realtime"


class Emulator:
    """A local Voice Live service for tests and offline development.

    Use it as an async context manager (or call :meth:`start` and :meth:`stop`) and pass
    :attr:`endpoint` to ``azure.ai.voicelive.aio.connect``.

    Args:
        api_key: The ``api-key`` to accept; ``None`` accepts any non-empty key.
        token: The bearer token (and classic ``agent-access-token``) to accept; ``None``: any.
        realtime: Pace response audio at real time, like the service; ``False`` sends it as fast
            as possible (tests).
        speed: Pacing factor when ``realtime`` (2.0 = twice real time).
        script: The scripted agent (an :class:`AgentScript` or a callable; see ``script.py``).
        agent_description: ``session.agent.description`` in agent mode.
        agent_id: ``session.agent.agent_id``; ``<agent-name>:<agent-version or 1>`` when ``None``.
        host: The address to bind (loopback by default).
        port: The port to bind; 0 picks a free one.
        faults: Faults for the connections opened from now on (``None``: no faults); the
            :attr:`faults` attribute can be reassigned at any time, ``None`` included.
        api_versions: Accepted ``api-version`` values.
        models: Model names accepted in model mode besides the documented Voice Live models
            (``voiceagent.protocol.names.VOICE_LIVE_MODELS``); another name is refused at the
            handshake with HTTP 400.
        audio_chunk_ms: Audio per ``response.audio.delta``, in ms (50-100 like the service).
        ms_per_char: Speaking rate of the synthetic voice (65 ms per character, ~150 words/min).
        max_frame_bytes: Largest client frame accepted; larger frames get an ``error`` event.
        record_events: Keep every client and server event on its session (``received``,
            ``sent``, ``wait_for_*``). Turn it off for long-running or heavily loaded servers:
            the audio deltas alone grow by ~64 KB per second of reply per session.
        always_transcribe: Send ``conversation.item.input_audio_transcription.completed`` for
            every user speech turn, even when the session did not configure
            ``input_audio_transcription``. By default (``False``) the emulator is strict, like
            the service: no transcription configured, no transcripts.
        timing: A :class:`Timing` or a profile name: ``"immediate"`` (the default: responses
            start at once) or ``"realistic"`` (300-700 ms think time before
            ``response.created``, 200 ms more to the first audio, up to 30 ms jitter per paced
            audio delta).
        invocations_url: Voice an Invocations-protocol agent: user turns are posted to this
            URL (``http://127.0.0.1:<port>/invocations``) and its streamed reply is spoken
            (see ``invocations.py``).
        voice: The assistant's voice: ``"auto"`` (the default: espeak-ng when it can be loaded,
            from the ``voiceagent[speech]`` extra or the system, else the synthetic buzz),
            ``"espeak"`` (fail a response if espeak-ng is missing) or ``"synthetic"``.
        listen: Transcribe user speech turns that no ``user_says`` transcript covers with
            pocketsphinx: ``"auto"`` (the default: when installed), ``"on"``/``True`` or
            ``"off"``/``False`` (they are then :data:`UNSCRIPTED_TRANSCRIPT`).
        keep_sessions: How many closed sessions :attr:`sessions` keeps (the newest; open
            sessions always stay); ``None`` keeps all (memory then grows with every
            connection).
        max_conversations: How many stored conversations to keep at most: the least recently
            used ones not in use by an open connection are forgotten first; ``None``: no limit.
        conversation_ttl_s: Forget conversations not used by any connection for this many
            seconds; ``None`` (the default): never.

    Raises:
        ValueError: ``speed`` is not positive, ``timing`` names no profile, or ``voice`` or
            ``listen`` is not one of the values above.
        SpeechUnavailableError: ``voice="espeak"`` or ``listen="on"`` and the speech packages
            are missing.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        token: str | None = None,
        realtime: bool = True,
        speed: float = 1.0,
        script: AgentScript | Callable[..., str | Reply] | None = None,
        agent_description: str = "An emulated Foundry agent.",
        agent_id: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        api_versions: Collection[str] = SUPPORTED_API_VERSIONS,
        models: Collection[str] = (),
        audio_chunk_ms: int = 100,
        ms_per_char: float = 65.0,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        record_events: bool = True,
        always_transcribe: bool = False,
        timing: Timing | str | None = None,
        invocations_url: str | None = None,
        voice: str = "auto",
        listen: str | bool = "auto",
        keep_sessions: int | None = 100,
        max_conversations: int | None = 1000,
        conversation_ttl_s: float | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if voice not in VOICES:
            raise ValueError(f"unknown voice {voice!r}; expected one of {', '.join(VOICES)}")
        listen = listen_mode(listen)
        if voice == "espeak" and not espeak_available():
            raise SpeechUnavailableError(
                "voice='espeak' needs espeak-ng: pip install 'voiceagent[speech]' "
                "(or apt-get install espeak-ng)"
            )
        if listen == "on" and not recognizer_available():
            raise SpeechUnavailableError(
                "listen='on' needs pocketsphinx: pip install 'voiceagent[speech]'"
            )
        if keep_sessions is not None and keep_sessions < 0:
            raise ValueError("keep_sessions must be >= 0 or None")
        self.keep_sessions = keep_sessions
        self.api_key = api_key
        self.token = token
        self.host = host
        self.port = port
        self.faults: Faults | None = faults
        self.api_versions = frozenset(api_versions)
        self.models = VOICE_LIVE_MODELS | frozenset(models)
        self.settings = SessionSettings(
            realtime=realtime,
            speed=speed,
            chunk_ms=audio_chunk_ms,
            ms_per_char=ms_per_char,
            agent_description=agent_description,
            agent_id=agent_id,
            max_frame_bytes=max_frame_bytes,
            record_events=record_events,
            always_transcribe=always_transcribe,
            timing=Timing.coerce(timing),
            invocations_url=invocations_url,
            voice=voice,
            listen=listen,
        )
        self._script = AgentScript.coerce(script)
        self._store = ConversationStore(max_count=max_conversations, max_age_s=conversation_ttl_s)
        self.sessions: list[EmulatedSession] = []
        self._seq: dict[int, int] = {}  # id(session) -> sequence number
        self._accepted = 0  # sessions ever accepted; each gets its sequence number
        self._next_seq = 0  # the sequence number wait_for_session returns next
        self._session_waiters: list[asyncio.Future[None]] = []
        self._runner: web.AppRunner | None = None
        self._serving: set[asyncio.Task[None]] = set()
        self._stun = StunServer()

    # -- public state --------------------------------------------------------------------------

    @property
    def script(self) -> AgentScript:
        """The scripted agent; assign an :class:`AgentScript` or a callable to replace it."""
        return self._script

    @script.setter
    def script(self, value: AgentScript | Callable[..., str | Reply] | None) -> None:
        self._script = AgentScript.coerce(value)

    @property
    def conversations(self) -> dict[str, Conversation]:
        """All conversations by id; they persist across connections until the emulator stops."""
        return self._store.by_id

    @property
    def endpoint(self) -> str:
        """``http://<host>:<port>``, the ``endpoint`` for ``connect()``."""
        if self._runner is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def stun(self) -> StunServer:
        """The loopback STUN server advertised in ``avatar.ice_servers`` (see ``stun.py``)."""
        return self._stun

    @property
    def url(self) -> str:
        """The full WebSocket URL without query (``ws://<host>:<port>/voice-live/realtime``)."""
        return f"ws://{self.host}:{self.port}{PATH}"

    async def wait_for_session(self, timeout: float = 5.0) -> EmulatedSession:
        """The first accepted session not yet returned by this method, waiting for it if needed.

        Raises:
            TimeoutError: No new session within ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (session := self._unreturned()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no new Voice Live session within {timeout} s")
            waiter: asyncio.Future[None] = loop.create_future()
            self._session_waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                continue
        self._next_seq = self._seq[id(session)] + 1
        return session

    def _unreturned(self) -> EmulatedSession | None:
        for session in self.sessions:
            if self._seq[id(session)] >= self._next_seq:
                return session
        return None

    def _forget_closed_sessions(self) -> None:
        """Keep at most ``keep_sessions`` closed sessions (the newest); open ones always stay."""
        if self.keep_sessions is None:
            return
        closed = [s for s in self.sessions if s.closed]
        excess = len(closed) - self.keep_sessions
        if excess <= 0:
            return
        forget = {id(s) for s in closed[:excess]}
        self.sessions = [s for s in self.sessions if id(s) not in forget]
        for key in forget:
            self._seq.pop(key, None)

    async def inject(self, frame: str | bytes) -> int:
        """Send exactly ``frame`` on every open connection; return how many got it.

        ``str`` goes as a text frame and ``bytes`` as a binary frame, with no JSON encoding,
        ``event_id``, recording or faults (see :meth:`EmulatedSession.inject`).
        """
        open_sessions = [s for s in self.sessions if not s.closed]
        results = await asyncio.gather(
            *(s.inject(frame) for s in open_sessions), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, SessionClosedError):
                raise result
        return sum(1 for result in results if result is None)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> Emulator:
        """Bind and start serving; returns ``self``.

        With an espeak-ng voice the library is loaded here (once per process, tens of
        milliseconds), so that the first response does not pay for it.
        """
        if self._runner is not None:
            return self
        if self.settings.voice != "synthetic":
            await asyncio.to_thread(espeak_available)
        app = web.Application()
        app.router.add_get(PATH, self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        server = site._server  # aiohttp offers no public accessor for the bound port
        if self.port == 0 and isinstance(server, asyncio.base_events.Server) and server.sockets:
            self.port = int(server.sockets[0].getsockname()[1])
        if StunServer.available():  # without aioice there is no avatar, nor ICE to serve
            try:
                await self._stun.start()
            except BaseException:
                await runner.cleanup()
                raise
            ice_servers = (self._stun.ice_server(),)
            self.settings = dataclasses.replace(self.settings, ice_servers=ice_servers)
        self._runner = runner
        logger.info("Voice Live emulator listening on %s", self.endpoint)
        return self

    async def stop(self) -> None:
        """Close every connection (code 1001) and stop serving. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await asyncio.gather(
            *(s.close(1001) for s in self.sessions if not s.closed), return_exceptions=True
        )
        # Let the handlers finish their close handshakes before aiohttp cancels them.
        if self._serving:
            await asyncio.wait(self._serving, timeout=2.0)
        await runner.cleanup()
        self._stun.close()
        logger.info("Voice Live emulator stopped")

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- the handler ---------------------------------------------------------------------------

    def _session_ended(self, session: EmulatedSession) -> None:
        self._store.release(session.conversation)
        self._forget_closed_sessions()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # A non-upgrade request (a browser tab, curl) learns it needs a WebSocket before anything
        # else: 426 whatever its credentials, as the docs promise.
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response(
                {"error": {"code": "UpgradeRequired", "message": "Expected a WebSocket upgrade."}},
                status=426,
                headers={"Upgrade": "websocket"},
            )
        try:
            info = validate_handshake(
                request.query,
                request.headers,
                api_key=self.api_key,
                token=self.token,
                api_versions=self.api_versions,
                models=self.models,
            )
        except HandshakeError as exc:
            # Log the refusal, never the credentials or the query (it may hold a token).
            logger.info("handshake refused: HTTP %s %s", exc.status, exc.code)
            return web.json_response(
                {"error": {"code": exc.code, "message": exc.message}}, status=exc.status
            )
        ws = web.WebSocketResponse(
            # Read frames up to 4x our limit so that oversize ones get an error event instead
            # of aiohttp closing the connection with 1009.
            max_msg_size=self.settings.max_frame_bytes * 4,
            autoping=True,
        )
        if not ws.can_prepare(request).ok:
            return web.json_response(
                {"error": {"code": "UpgradeRequired", "message": "Expected a WebSocket upgrade."}},
                status=426,
            )
        await ws.prepare(request)
        session = EmulatedSession(
            ws=ws,
            request=request,
            info=info,
            settings=self.settings,
            conversations=self._store,
            get_script=lambda: self._script,
            faults=self.faults,
        )
        self.sessions.append(session)
        self._seq[id(session)] = self._accepted
        self._accepted += 1
        waiters, self._session_waiters = self._session_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        logger.info(
            "session %s opened: mode=%s agent=%s conversation=%s",
            session.session_id,
            session.mode,
            session.agent_name,
            session.conversation_id,
        )
        serving = asyncio.ensure_future(session.run())
        self._serving.add(serving)
        serving.add_done_callback(self._serving.discard)
        serving.add_done_callback(lambda _: self._session_ended(session))
        await asyncio.shield(serving)  # aiohttp may cancel the handler; the session ends cleanly
        return ws
