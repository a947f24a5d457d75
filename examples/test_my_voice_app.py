"""How to test your own voice app offline: the `voicelive_emulator` fixture.

Installing voiceagent registers a pytest plugin; this file is an example you can copy.
Run it with: pytest examples/test_my_voice_app.py
"""

import asyncio
from typing import Any

from voiceagent import AgentConfig, MemoryAudio, TurnLogged, VoiceAgentSession
from voiceagent.emulator import Emulator
from voiceagent.testing import EmulatorCredential


async def test_agent_greets_the_user(voicelive_emulator: Emulator) -> None:
    greeted: asyncio.Future[TurnLogged] = asyncio.get_running_loop().create_future()
    session = VoiceAgentSession(
        voicelive_emulator.endpoint,
        AgentConfig(agent_name="concierge", project_name="contoso"),
        credential=EmulatorCredential(),  # stands in for Entra ID
        audio=MemoryAudio(speed=4.0),
        greeting="Welcome to Contoso!",
    )

    @session.on("voiceagent.turn")
    def turn(event: Any) -> None:
        if not greeted.done():
            greeted.set_result(event)

    async with session:
        first = await asyncio.wait_for(greeted, 10)
    assert first.role == "assistant" and first.text == "Welcome to Contoso!"
