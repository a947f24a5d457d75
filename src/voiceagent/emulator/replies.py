"""Deciding what a response says.

Why it happens (user turn, greeting, function output) and the script's reply for it.
"""

from __future__ import annotations

import copy
from typing import Any

from .conversations import Conversation
from .script import AgentScript, FunctionCall, Reply, ScriptContext

__all__ = ["apply_tool_choice", "decide_reply", "message_text", "reply_user_text"]


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


def reply_user_text(items: list[dict[str, Any]]) -> str:
    """The latest user message's text or transcript ("" if none)."""
    for item in reversed(items):
        if _is_message(item, "user"):
            return message_text(item)
    return ""


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
    user_text = reply_user_text(items)
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
    if (
        kind == "none"
        and instructions is None
        and additional_instructions is None
        and not any(i.get("type") != "message" or i.get("role") != "system" for i in items)
    ):
        # A bare response.create on a conversation with nothing said yet: Microsoft's samples
        # greet this way (protocol page, "Proactive greeting").
        kind = "greeting"
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
    reply = script.reply(ctx)
    tools = params.get("tools", config.get("tools"))
    return apply_tool_choice(reply, params.get("tool_choice", config.get("tool_choice")), tools)


def apply_tool_choice(reply: Reply, tool_choice: Any, tools: Any) -> Reply:
    """Make the script's reply obey ``tool_choice``, as a cascaded model does.

    ``"none"`` never calls a function (the call is dropped, the text kept). A named function
    (``{"type": "function", "name": N}``) is always called: the script's call if it names ``N``,
    else ``N`` with ``{}`` instead of the script's reply. ``"required"`` keeps the script's call
    or calls the first function tool with ``{}``. ``"auto"`` (or anything else) keeps the reply.
    """
    if tool_choice == "none":
        return Reply(text=reply.text) if reply.function_call is not None else reply
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "function":
        name = tool_choice.get("name")
        if not isinstance(name, str) or not name:
            return reply
        if reply.function_call is not None and reply.function_call.name == name:
            return reply
        return Reply(function_call=FunctionCall(name, "{}"))
    if tool_choice == "required" and reply.function_call is None:
        for tool in tools if isinstance(tools, list) else []:
            if isinstance(tool, dict) and tool.get("type", "function") == "function":
                name = tool.get("name")
                if isinstance(name, str) and name:
                    return Reply(function_call=FunctionCall(name, "{}"))
    return reply
