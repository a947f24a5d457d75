"""The connection layer against the local emulator, through the real SDK over a real socket.

The only fake is the token credential (Microsoft Entra ID cannot exist here).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import socket
import time
import traceback
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError

from config.full_session import FULL_SESSION_DICT, full_options
from voiceagent.config import (
    AgentConfig,
    ClassicAgentConfig,
    ConnectionConfig,
    ReconnectPolicy,
    SessionOptions,
)
from voiceagent.emulator import Emulator
from voiceagent.errors import ConfigError, ConnectError
from voiceagent.protocol.close_codes import RECOVERABLE_CLOSE_CODES
from voiceagent.voicelive.connector import CONNECTION_ERRORS, VoiceLiveConnector, open_connection
from voiceagent.voicelive.reconnect import Backoff, close_code, is_recoverable
from voiceagent.voicelive.requests import build_request_session

KEY = "emulator-key"
TOKEN = "emulator-token"
AI_SCOPE = "https://ai.azure.com/.default"
ML_SCOPE = "https://ml.azure.com/.default"


class FakeTokenCredential:
    """An async token credential handing out fixed tokens (per scope, or one for all)."""

    def __init__(self, token: str = TOKEN, per_scope: dict[str, str] | None = None) -> None:
        self.token = token
        self.per_scope = per_scope or {}
        self.requested: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.requested.append(scopes)
        return AccessToken(self.per_scope.get(scopes[0], self.token), int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeTokenCredential:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.close()


class FakeSyncTokenCredential:
    """A sync token credential (like azure.identity's non-aio classes)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(api_key=KEY, token=TOKEN, realtime=False) as emu:
        yield emu


def all_text(exc: BaseException) -> str:
    """Everything a user could see of an exception: str, repr, full traceback with chain."""
    return "\n".join(
        [
            str(exc),
            repr(exc),
            "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        ]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- agent mode

BASE = AgentConfig(agent_name="concierge", project_name="contoso")
AGENT_CASES = {
    "base": (BASE, {}),
    "version": (BASE.with_version("4"), {"agent-version": "4"}),
    "override": (
        BASE.with_resource_override("other-res"),
        {"foundry-resource-override": "other-res"},
    ),
    "override+identity": (
        BASE.with_resource_override("other-res", identity_client_id="mi-client-id"),
        {
            "foundry-resource-override": "other-res",
            "agent-authentication-identity-client-id": "mi-client-id",
        },
    ),
    "resume": (BASE.resume("conv_abc"), {"conversation-id": "conv_abc"}),
    "all": (
        BASE.with_version("7")
        .with_resource_override("res-2", identity_client_id="cid-2")
        .resume("conv_xyz"),
        {
            "agent-version": "7",
            "foundry-resource-override": "res-2",
            "agent-authentication-identity-client-id": "cid-2",
            "conversation-id": "conv_xyz",
        },
    ),
    "from_env": (
        AgentConfig.from_env(
            {
                "AGENT_NAME": "concierge",
                "PROJECT_NAME": "contoso",
                "AGENT_VERSION": "2",
                "CONVERSATION_ID": "conv_env",
                "FOUNDRY_RESOURCE_OVERRIDE": "env-res",
                "AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID": "env-cid",
            }
        ),
        {
            "agent-version": "2",
            "conversation-id": "conv_env",
            "foundry-resource-override": "env-res",
            "agent-authentication-identity-client-id": "env-cid",
        },
    ),
}
OPTIONAL_AGENT_PARAMS = {
    "agent-version",
    "conversation-id",
    "foundry-resource-override",
    "agent-authentication-identity-client-id",
}


@pytest.mark.parametrize("case", sorted(AGENT_CASES))
async def test_agent_parameters_reach_the_server(emulator: Emulator, case: str) -> None:
    agent, expected = AGENT_CASES[case]
    credential = FakeTokenCredential()
    config = ConnectionConfig(endpoint=emulator.endpoint)
    async with open_connection(config, agent, credential=credential):
        session = await emulator.wait_for_session(timeout=5)
    query = session.query
    assert session.mode == "agent"
    assert query["agent-name"] == "concierge"
    assert query["agent-project-name"] == "contoso"
    assert query["api-version"] == "2026-07-15"
    for name in OPTIONAL_AGENT_PARAMS:
        assert query.get(name) == expected.get(name), name
    assert "model" not in query
    assert session.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "api-key" not in {h.lower() for h in session.headers}
    assert credential.requested == [(AI_SCOPE,)]
    assert not credential.closed  # a credential we were given stays the caller's


async def test_reconnect_with_another_agent_of_the_same_mode(emulator: Emulator) -> None:
    config = ConnectionConfig(endpoint=emulator.endpoint)
    async with VoiceLiveConnector(config, BASE, credential=FakeTokenCredential()) as connector:
        assert connector.mode == "agent"
        async with connector.connect():
            first = await emulator.wait_for_session(timeout=5)
        async with connector.connect(agent=BASE.resume(first.conversation_id)):
            second = await emulator.wait_for_session(timeout=5)
        with pytest.raises(ConfigError, match="mode"):
            async with connector.connect(agent=ClassicAgentConfig(agent_id="a", project_name="p")):
                pass
    assert "conversation-id" not in first.query
    assert second.query["conversation-id"] == first.conversation_id


async def test_sync_token_credential_is_accepted(emulator: Emulator) -> None:
    config = ConnectionConfig(endpoint=emulator.endpoint)
    async with open_connection(config, BASE, credential=FakeSyncTokenCredential()):
        session = await emulator.wait_for_session(timeout=5)
    assert session.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("agent", [BASE, ClassicAgentConfig(agent_id="asst_1", project_name="p")])
async def test_key_auth_is_refused_in_agent_mode_before_connecting(
    emulator: Emulator, agent: AgentConfig | ClassicAgentConfig
) -> None:
    with_key = ConnectionConfig(endpoint=emulator.endpoint, api_key=KEY)
    with pytest.raises(ConfigError, match="accepts only Microsoft Entra ID tokens") as info:
        async with open_connection(with_key, agent):
            pass
    assert KEY not in all_text(info.value)
    plain = ConnectionConfig(endpoint=emulator.endpoint)
    with pytest.raises(ConfigError, match="accepts only Microsoft Entra ID tokens"):
        VoiceLiveConnector(plain, agent, credential=AzureKeyCredential(KEY))
    assert emulator.sessions == []


async def test_the_service_refuses_key_auth_in_agent_mode_when_our_check_is_bypassed(
    emulator: Emulator,
) -> None:
    # The raw SDK, without our layer: the emulator answers 401 as the service does.
    from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError
    from azure.ai.voicelive.aio import connect

    with pytest.raises(SdkConnectionError) as info:
        async with connect(
            credential=AzureKeyCredential(KEY),
            endpoint=emulator.endpoint,
            agent_name="concierge",
            project_name="contoso",
        ):
            pass
    assert getattr(info.value.__cause__, "status", None) == 401
    assert emulator.sessions == []


# --------------------------------------------------------------------------- model mode & errors


async def test_model_mode_with_api_key(emulator: Emulator) -> None:
    config = ConnectionConfig(endpoint=emulator.endpoint, model="gpt-realtime", api_key=KEY)
    async with open_connection(config) as connection:
        session = await emulator.wait_for_session(timeout=5)
        event = await asyncio.wait_for(connection.recv(), 5)
    assert event.type == "session.created"
    assert session.mode == "model" and session.query["model"] == "gpt-realtime"
    assert session.headers["api-key"] == KEY
    assert "agent-name" not in session.query


async def test_model_mode_with_token_and_custom_scope_and_api_version(emulator: Emulator) -> None:
    credential = FakeTokenCredential()
    config = ConnectionConfig(
        endpoint=emulator.endpoint,
        model="gpt-realtime",
        api_version="2026-04-10",
        credential_scopes=("https://cognitiveservices.azure.com/.default",),
    )
    async with open_connection(config, credential=credential):
        session = await emulator.wait_for_session(timeout=5)
    assert session.query["api-version"] == "2026-04-10"
    assert credential.requested == [("https://cognitiveservices.azure.com/.default",)]


@pytest.mark.parametrize(
    ("config_fields", "credential", "expected"),
    [
        ({}, None, "model mode needs ConnectionConfig.model"),
        ({"model": "m", "api_key": KEY}, FakeTokenCredential(), "pass only one"),
        ({"model": "m"}, "not-a-credential", "not supported"),
    ],
)
def test_mode_and_credential_checks(
    config_fields: dict[str, Any], credential: Any, expected: str
) -> None:
    config = ConnectionConfig(endpoint="http://127.0.0.1:1", **config_fields)
    with pytest.raises(ConfigError, match=expected):
        VoiceLiveConnector(config, credential=credential)


async def test_wrong_key_gives_401_with_a_hint_and_no_secret(emulator: Emulator) -> None:
    wrong = "wrong-key-5f3a9c"
    config = ConnectionConfig(endpoint=emulator.endpoint, model="gpt-realtime", api_key=wrong)
    with pytest.raises(ConnectError) as info:
        async with open_connection(config):
            pass
    error = info.value
    assert error.status == 401
    assert error.endpoint == emulator.endpoint
    assert emulator.endpoint in str(error) and "HTTP 401" in str(error)
    assert "API key" in str(error)
    assert wrong not in all_text(error)
    assert error.__cause__ is None and error.__context__ is None
    assert not is_recoverable(error)


async def test_wrong_token_in_agent_mode_hints_at_the_role(emulator: Emulator) -> None:
    wrong = "wrong-token-7d1e2b"
    config = ConnectionConfig(endpoint=emulator.endpoint)
    with pytest.raises(ConnectError) as info:
        async with open_connection(config, BASE, credential=FakeTokenCredential(wrong)):
            pass
    assert info.value.status == 401
    assert "Azure AI User" in str(info.value)
    assert wrong not in all_text(info.value)


async def test_wrong_classic_token_never_shows_the_url_token(emulator: Emulator) -> None:
    # The SDK's own exception message contains the URL with agent-access-token=<token>.
    wrong = "wrong-classic-token-0c4f"
    agent = ClassicAgentConfig(agent_id="asst_1", project_name="proj")
    config = ConnectionConfig(endpoint=emulator.endpoint)
    with pytest.raises(ConnectError) as info:
        async with open_connection(config, agent, credential=FakeTokenCredential(wrong)):
            pass
    assert info.value.status == 401
    assert wrong not in all_text(info.value)
    assert "agent-access-token" not in all_text(info.value)


async def test_404_names_the_endpoint_and_says_what_to_check(emulator: Emulator) -> None:
    endpoint = f"{emulator.endpoint}/not/here"
    config = ConnectionConfig(endpoint=endpoint, model="gpt-realtime", api_key=KEY)
    with pytest.raises(ConnectError, match="HTTP 404") as info:
        async with open_connection(config):
            pass
    assert info.value.status == 404
    assert endpoint in str(info.value) and "region" in str(info.value)


async def test_400_points_at_the_api_version(emulator: Emulator) -> None:
    config = ConnectionConfig(
        endpoint=emulator.endpoint, model="gpt-realtime", api_key=KEY, api_version="1999-01-01"
    )
    with pytest.raises(ConnectError, match="api_version") as info:
        async with open_connection(config):
            pass
    assert info.value.status == 400
    assert "1999-01-01" in str(info.value)


async def test_connection_refused_is_a_network_error() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    config = ConnectionConfig(endpoint=endpoint, model="gpt-realtime", api_key=KEY)
    with pytest.raises(ConnectError, match="could not reach") as info:
        async with open_connection(config):
            pass
    assert info.value.status is None
    assert endpoint in str(info.value) and "check the endpoint's host and port" in str(info.value)
    # never connected: a typo or a wrong port, reported at once instead of retried
    assert not is_recoverable(info.value)


async def test_an_endpoint_that_went_away_after_connecting_is_still_retried() -> None:
    emulator = Emulator(api_key=KEY)
    await emulator.start()
    config = ConnectionConfig(endpoint=emulator.endpoint, model="gpt-realtime", api_key=KEY)
    connector = VoiceLiveConnector(config)
    try:
        async with connector.connect():
            pass
    finally:
        await emulator.stop()
    with pytest.raises(ConnectError, match="could not reach") as info:
        async with connector.connect():  # a reconnect after the service went away
            pass
    assert is_recoverable(info.value)


# Cancelling the SDK's handshake leaks the aiohttp ClientSession it created (the SDK only closes
# it on ClientError, and offers no handshake timeout of its own): a known, documented limitation.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_handshake_timeout() -> None:
    # A socket that accepts and never answers the upgrade.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        config = ConnectionConfig(
            endpoint=f"http://127.0.0.1:{port}",
            model="gpt-realtime",
            api_key=KEY,
            handshake_timeout=0.3,
        )
        with pytest.raises(ConnectError, match="timed out after 0.3 s") as info:
            async with open_connection(config):
                pass
        assert is_recoverable(info.value)
    finally:
        server.close()
        await server.wait_closed()
        gc.collect()  # report the leaked session here, under this test's warning filter


def test_a_local_endpoint_without_a_credential_gets_the_emulator_hint(
    emulator: Emulator,
) -> None:
    # DefaultAzureCredential would walk its chain (even a cloud metadata address) for an
    # emulator that only needs a stand-in: refused at construction, with the fix.
    for endpoint in (emulator.endpoint, "http://localhost:8765", "http://[::1]:8765"):
        with pytest.raises(ConfigError, match="EmulatorCredential"):
            VoiceLiveConnector(ConnectionConfig(endpoint=endpoint), BASE)
        with pytest.raises(ConfigError, match="EmulatorCredential"):
            VoiceLiveConnector(ConnectionConfig(endpoint=endpoint, model="gpt-realtime"))
    assert emulator.sessions == []


class FailingCredential:
    """An Entra credential that cannot get a token (signed out)."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    async def close(self) -> None:
        return None


async def test_a_credential_failure_is_explained(emulator: Emulator) -> None:
    config = ConnectionConfig(endpoint=emulator.endpoint)
    with pytest.raises(ConnectError, match="could not get a Microsoft Entra ID token") as info:
        async with open_connection(config, BASE, credential=FailingCredential()):
            pass
    assert "az login" in str(info.value)
    assert not is_recoverable(info.value)
    assert emulator.sessions == []


# --------------------------------------------------------------------------- classic agents


@pytest.mark.parametrize(
    ("agent", "project_param", "scope"),
    [
        (
            ClassicAgentConfig(agent_id="asst_42", project_name="proj"),
            "agent-project-name",
            AI_SCOPE,
        ),
        (
            ClassicAgentConfig(agent_id="asst_42", connection_string="eastus.api.azureml.ms;s;r;p"),
            "agent-connection-string",
            ML_SCOPE,
        ),
    ],
)
async def test_classic_agent_token_with_the_right_scope_reaches_the_query(
    agent: ClassicAgentConfig, project_param: str, scope: str
) -> None:
    tokens = {AI_SCOPE: "token-for-ai-scope", ML_SCOPE: "token-for-ml-scope"}
    credential = FakeTokenCredential(per_scope=tokens)
    async with Emulator(realtime=False) as emu:
        config = ConnectionConfig(endpoint=emu.endpoint)
        async with open_connection(config, agent, credential=credential):
            session = await emu.wait_for_session(timeout=5)
    assert session.mode == "classic_agent"
    assert session.query["agent-id"] == "asst_42"
    assert session.query[project_param] == (agent.project_name or agent.connection_string)
    assert session.query["agent-access-token"] == tokens[scope]
    assert (scope,) in credential.requested
    assert session.headers["Authorization"] == f"Bearer {tokens[AI_SCOPE]}"


# --------------------------------------------------------------------------- session options


async def test_every_session_option_reaches_the_server(emulator: Emulator) -> None:
    config = ConnectionConfig(endpoint=emulator.endpoint, model="gpt-realtime", api_key=KEY)
    async with open_connection(config) as connection:
        session = await emulator.wait_for_session(timeout=5)
        await connection.session.update(
            session=build_request_session(full_options(), agent_mode=False)
        )
        update = await session.wait_for_client_event("session.update", timeout=5)
        while (await asyncio.wait_for(connection.recv(), 5)).type != "session.updated":
            pass
    assert update["session"] == FULL_SESSION_DICT
    assert session.config["voice"]["name"] == "en-US-Ava:DragonHDLatestNeural"


async def test_disabled_turn_detection_reaches_the_server_as_null(emulator: Emulator) -> None:
    config = ConnectionConfig(endpoint=emulator.endpoint, model="gpt-realtime", api_key=KEY)
    options = SessionOptions(turn_detection=None, voice="alloy")
    async with open_connection(config) as connection:
        session = await emulator.wait_for_session(timeout=5)
        await connection.session.update(session=build_request_session(options, agent_mode=False))
        update = await session.wait_for_client_event("session.update", timeout=5)
    assert update["session"]["turn_detection"] is None
    assert update["session"]["voice"] == {"type": "openai", "name": "alloy"}


# --------------------------------------------------------------------------- logs


async def test_no_secret_in_any_log_record_at_debug(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    classic_token = "classic-secret-token-9b8a"
    agent = ClassicAgentConfig(agent_id="asst_1", project_name="proj")
    async with Emulator(realtime=False) as open_emu:
        config = ConnectionConfig(endpoint=open_emu.endpoint)
        async with open_connection(
            config, agent, credential=FakeTokenCredential(classic_token)
        ) as connection:
            await open_emu.wait_for_session(timeout=5)
            await connection.session.update(
                session=build_request_session(SessionOptions(voice="alloy"), agent_mode=False)
            )
            while (await asyncio.wait_for(connection.recv(), 5)).type != "session.updated":
                pass
    # A key that works, then a failing key and a failing agent token (exception paths).
    good = ConnectionConfig(endpoint=emulator.endpoint, model="gpt-realtime", api_key=KEY)
    async with open_connection(good) as connection:
        await asyncio.wait_for(connection.recv(), 5)
    bad_key = "bad-key-c0ffee"
    bad = ConnectionConfig(endpoint=emulator.endpoint, model="gpt-realtime", api_key=bad_key)
    with pytest.raises(ConnectError):
        async with open_connection(bad):
            pass
    bad_token = "bad-token-decafbad"
    with pytest.raises(ConnectError):
        async with open_connection(
            ConnectionConfig(endpoint=emulator.endpoint),
            agent,
            credential=FakeTokenCredential(bad_token),
        ):
            pass

    secrets = (classic_token, KEY, bad_key, bad_token, TOKEN)
    connecting = [r for r in caplog.records if r.getMessage().startswith("Connecting to ws")]
    assert connecting, "the SDK's DEBUG URL line was not captured"
    assert any("agent-access-token=***" in r.getMessage() for r in connecting)
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        for secret in secrets:
            assert secret not in text, (record.name, text)
    assert secrets[0] not in caplog.text and KEY not in caplog.text


# --------------------------------------------------------------------------- recovery helpers


async def test_a_dropped_socket_is_recoverable(emulator: Emulator) -> None:
    # A TCP abort: the SDK reports it as ConnectionClosed(1000, "Connection closed"), a normal
    # close in disguise; close_code() must see through it. (Close frames with other codes are
    # covered below without a socket: whether the client sees the frame's code depends on the
    # peer still being open for aiohttp's close reply, else aiohttp reports 1006.)
    config = ConnectionConfig(endpoint=emulator.endpoint, model="gpt-realtime", api_key=KEY)
    async with open_connection(config) as connection:
        session = await emulator.wait_for_session(timeout=5)
        assert (await asyncio.wait_for(connection.recv(), 5)).type == "session.created"
        await session.drop(1006)
        with pytest.raises(CONNECTION_ERRORS) as info:
            await asyncio.wait_for(connection.recv(), 5)
    assert close_code(info.value) == 1006
    assert is_recoverable(info.value)


def test_recoverable_close_codes() -> None:
    from azure.ai.voicelive.aio import ConnectionClosed

    assert {1001, 1005, 1006, 1011, 1012, 1013, 1015} == RECOVERABLE_CLOSE_CODES
    for code in (1000, 1001, 1002, 1003, 1005, 1006, 1008, 1011, 1012, 1013, 1015, 4000):
        assert is_recoverable(ConnectionClosed(code, "")) is (code in RECOVERABLE_CLOSE_CODES)
        assert close_code(ConnectionClosed(code, "")) == code
    # The SDK's CLOSED branch (socket gone without a close frame) versus a real 1000 close.
    assert close_code(ConnectionClosed(1000, "Connection closed")) == 1006
    assert is_recoverable(ConnectionClosed(1000, "Connection closed"))
    assert close_code(ValueError("x")) is None
    assert not is_recoverable(ConfigError("bad"))
    assert not is_recoverable(ValueError("bad"))
    assert is_recoverable(ConnectError("x", status=503))
    assert is_recoverable(ConnectError("x", status=429))
    assert not is_recoverable(ConnectError("x", status=403))
    assert is_recoverable(ConnectionResetError())


def test_backoff_grows_is_jittered_bounded_and_resets() -> None:
    policy = ReconnectPolicy(max_attempts=6, initial_backoff=0.5, max_backoff=3.0, jitter=0.2)
    backoff = Backoff(policy, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(6)]
    assert backoff.next_delay() is None and backoff.exhausted and backoff.attempts == 6
    bases = [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    for delay, base in zip(delays, bases, strict=True):
        assert delay is not None
        assert base * 0.8 <= delay <= min(3.0, base * 1.2)
    assert len({round(d or 0, 6) for d in delays[:3]}) == 3
    backoff.reset()
    assert backoff.attempts == 0 and backoff.next_delay() is not None
    no_jitter = Backoff(ReconnectPolicy(jitter=0, initial_backoff=1, max_backoff=4))
    assert [no_jitter.next_delay() for _ in range(5)] == [1, 2, 4, 4, 4]
    assert Backoff(ReconnectPolicy(max_attempts=0)).next_delay() is None
