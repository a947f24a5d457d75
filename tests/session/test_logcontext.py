"""Every log record of a session's work says which session it is of (two sessions, one loop)."""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from typing import Any

import pytest

from session_helpers import TOKEN
from voiceagent import AgentConfig, VoiceAgentSession
from voiceagent.audio.memory import MemoryAudio
from voiceagent.emulator import AgentScript, Emulator
from voiceagent.serve import JsonLogFormatter
from voiceagent.testing import EmulatorCredential

pytestmark = pytest.mark.usefixtures("clean_env")

AGENT = AgentConfig(agent_name="concierge", project_name="contoso")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(session_id)s %(voicelive_session_id)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


async def test_each_sessions_records_carry_its_own_id() -> None:
    collect = Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    app = logging.getLogger("app")
    try:
        script = AgentScript(rules=[("weather", "It is sunny.")])
        async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
            sessions = [
                VoiceAgentSession(
                    emu.endpoint,
                    AGENT,
                    credential=EmulatorCredential(TOKEN),
                    audio=MemoryAudio(speed=8.0),
                )
                for _ in range(2)
            ]
            one, two = sessions
            assert one.local_id != two.local_id and one.local_id.startswith("va-")
            for session in sessions:
                # a user handler runs in the session's dispatch task: its records are labelled
                session.on(
                    "response.done", lambda e, s=session: app.info("reply of %s", s.local_id)
                )

            async def talk(session: VoiceAgentSession) -> None:
                async with session:
                    await session.send_text("what is the weather")
                    await session.wait_for_reply(timeout=10)

            await asyncio.gather(talk(one), talk(two))
            app.info("outside any session")
    finally:
        root.removeHandler(collect)
        root.setLevel(old_level)

    def records_of(local_id: str) -> list[logging.LogRecord]:
        return [r for r in collect.records if r.session_id == local_id]  # type: ignore[attr-defined]

    for session, other in ((one, two), (two, one)):
        mine = records_of(session.local_id)
        messages = [r.getMessage() for r in mine]
        # start() (caller's task), the receive/dispatch tasks, and aclose() are all labelled
        assert any(m.startswith("Connecting to Voice Live") for m in messages), messages
        assert f"reply of {session.local_id}" in messages
        assert "session closed" in messages
        assert f"reply of {other.local_id}" not in messages
        # once the service named the session, its id is there too
        late: Any = next(r for r in mine if r.getMessage() == "session closed")
        assert late.voicelive_session_id == session.session_id
    outside = next(r for r in collect.records if r.getMessage() == "outside any session")
    assert outside.session_id == "-"  # type: ignore[attr-defined]
    assert "- - outside any session" in collect.lines


async def test_an_apps_own_session_id_in_extra_is_kept() -> None:
    """``extra={"session_id": ...}`` is the app's to use: no KeyError, the app's value wins."""
    collect = Collect()
    app = logging.getLogger("app.extra")
    app.addHandler(collect)
    app.setLevel(logging.INFO)
    app.propagate = False
    try:
        app.info("outside", extra={"session_id": "order-42"})
        script = AgentScript(rules=[("weather", "It is sunny.")])
        async with Emulator(token=TOKEN, realtime=False, script=script) as emu:
            session = VoiceAgentSession(
                emu.endpoint,
                AGENT,
                credential=EmulatorCredential(TOKEN),
                audio=MemoryAudio(speed=8.0),
            )
            session.on(
                "response.done",
                lambda e: app.info("ready", extra={"session_id": "order-43", "caller": "ann"}),
            )
            session.on("response.done", lambda e: app.info("labelled"))
            async with session:
                await session.send_text("what is the weather")
                await session.wait_for_reply(timeout=10)
            app.info("both", extra={"session_id": "a", "voicelive_session_id": "b"})
    finally:
        app.removeHandler(collect)
        app.propagate = True

    by_message = {r.getMessage(): r for r in collect.records}
    assert by_message["outside"].session_id == "order-42"  # type: ignore[attr-defined]
    ready: Any = by_message["ready"]
    assert (ready.session_id, ready.caller) == ("order-43", "ann")
    # the library's label is still there when the app gives none, on the same session's task
    assert by_message["labelled"].session_id == session.local_id  # type: ignore[attr-defined]
    assert ready.voicelive_session_id == session.session_id
    assert "order-42 - outside" in collect.lines
    assert "a b both" in collect.lines


def test_a_labelled_record_pickles_and_renders_as_json_with_the_apps_value() -> None:
    # QueueHandler / SocketHandler readers unpickle a plain record (the label dict is an
    # implementation detail), and the serve JSON lines show the app's own value
    record = logging.getLogger("app.pickle").makeRecord(
        "app.pickle", logging.INFO, __file__, 1, "hi", (), None, extra={"session_id": "mine"}
    )
    data = pickle.dumps(record)
    assert b"voiceagent" not in data  # a reader without voiceagent installed can load it
    copy = pickle.loads(data)
    assert (copy.session_id, copy.voicelive_session_id) == ("mine", "-")
    line = json.loads(JsonLogFormatter().format(record))
    assert (line["session_id"], line["voicelive_session_id"]) == ("mine", "-")
