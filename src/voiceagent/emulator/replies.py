"""Deciding what a response says.

Why it happens (user turn, greeting, function output) and the script's reply for it.
"""

from __future__ import annotations

import copy
from typing import Any

from .conversations import Conversation
from .script import AgentScript, Reply, ScriptContext

__all__ = ["decide_reply", "message_text"]


def message_text(item: dict[str, Any]) -> str:
    """The text of a message item: its text parts, or its audio transcripts."""
    parts = []
    for part in item.get("content") or []:
        if not isinstance(part, dict):
            continue
        for key in ("text", "transcript"):
            value = part.get(key)
            if isinstance(value, str):
                parts.append(value)
                break
    return " ".join(parts)


def _is_message(item: dict[str, Any], role: str) -> bool:
    return item.get("type") == "message" and item.get("role") == role


def decide_reply(
    *,
    conversation: Conversation,
    answered: int,
    params: dict[str, Any],
    config: dict[str, Any],
    script: AgentScript,
    mode: str,
    agent_name: str | None,
    additional_instructions: str | None,
) -> Reply:
    """The reply to a ``response.create`` (or a VAD turn).

    Args:
        conversation: The conversation; items from index ``answered`` on are new.
        answered: How many items had been answered before this response.
        params: The ``response`` object of the ``response.create`` (``{}`` for a VAD turn).
        config: The session config.
        script: The scripted agent.
        mode: ``"model"``, ``"agent"`` or ``"classic_agent"``.
        agent_name: The agent's name in agent modes.
        additional_instructions: ``additional_instructions`` of the ``response.create``.
    """
    items = conversation.items
    new_items = items[answered:]
    pre_generated = params.get("pre_generated_assistant_message")
    if isinstance(pre_generated, dict):
        return Reply(text=message_text(pre_generated))
    function_outputs = tuple(i for i in new_items if i.get("type") == "function_call_output")
    user_text = ""
    for item in reversed(items):
        if _is_message(item, "user"):
            user_text = message_text(item)
            break
    greeting = any(
        _is_message(i, "system")
        and any(word in message_text(i).lower() for word in ("welcome", "greet"))
        for i in new_items
    )
    if function_outputs:
        kind = "function_output"
    elif any(_is_message(i, "user") for i in new_items):
        kind = "user"
    elif greeting:
        kind = "greeting"
    else:
        kind = "none"
    instructions = params.get("instructions")
    ctx = ScriptContext(
        kind=kind,
        user_text=user_text,
        function_outputs=tuple(copy.deepcopy(function_outputs)),
        history=tuple(copy.deepcopy(items)),
        instructions=str(config.get("instructions") or ""),
        response_instructions=instructions if isinstance(instructions, str) else None,
        additional_instructions=additional_instructions,
        mode=mode,
        agent_name=agent_name,
        conversation_id=conversation.id,
    )
    return script.reply(ctx)
