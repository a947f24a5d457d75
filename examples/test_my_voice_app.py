"""Test your own voice app offline with the ``voicelive_emulator`` fixture.

Installing voiceagent registers a pytest plugin that provides the fixture. In a new project:

    pip install voiceagent pytest pytest-asyncio
    pytest test_my_voice_app.py

The fixture is async, so the tests need pytest-asyncio: mark them ``@pytest.mark.asyncio``
(as below), or set ``asyncio_mode = "auto"`` in your pytest configuration and drop the marks.
"""

import asyncio

import pytest

from voiceagent import AgentConfig, MemoryAudio, TurnLogged, VoiceAgentSession
from voiceagent.emulator import Emulator
from voiceagent.testing import EmulatorCredential


def my_app_session(endpoint: str) -> VoiceAgentSession:
    """Your app's code: here, a session that greets the user."""
    return VoiceAgentSession(
        endpoint,
        AgentConfig(agent_name="concierge", project_name="contoso"),
        credential=EmulatorCredential(),  # stands in for Entra ID (agent mode needs a token)
        audio=MemoryAudio(speed=4.0),  # scripted microphone, recording speaker, 4x real time
        greeting="Welcome to Contoso!",
    )


@pytest.mark.asyncio
async def test_agent_greets_the_user(voicelive_emulator: Emulator) -> None:
    session = my_app_session(voicelive_emulator.endpoint)
    first: asyncio.Future[TurnLogged] = asyncio.get_running_loop().create_future()
    session.once("voiceagent.turn", first.set_result)  # the first finished turn
    async with session:
        turn = await asyncio.wait_for(first, 10)
    assert (turn.role, turn.text) == ("assistant", "Welcome to Contoso!")
    assert isinstance(session.audio, MemoryAudio) and len(session.audio.heard) > 0


@pytest.mark.asyncio
async def test_agent_answers_a_typed_question(voicelive_emulator: Emulator) -> None:
    voicelive_emulator.script.rules = [("hours", "We are open from nine to five.")]
    session = my_app_session(voicelive_emulator.endpoint)
    answers: asyncio.Queue[str] = asyncio.Queue()

    @session.on("voiceagent.turn")
    def collect(turn: TurnLogged) -> None:
        if turn.role == "assistant":
            answers.put_nowait(turn.text)

    async with session:
        assert await asyncio.wait_for(answers.get(), 10) == "Welcome to Contoso!"
        await session.send_text("What are your opening hours?")  # after the greeting ends
        assert await asyncio.wait_for(answers.get(), 10) == "We are open from nine to five."
