"""The scripted agent: what the emulated user "said" and what the emulated agent answers.

Tests queue the transcripts of the user's next speech turns with :meth:`AgentScript.user_says`;
a turn with nothing queued is transcribed by the recogniser when the emulator listens, else it is
:data:`UNSCRIPTED_TRANSCRIPT`. A queued transcript of only filler words (``"um"``) is an
utterance of filler, which ``remove_filler_words`` turns into no turn at all. Replies come from
rules matched against the user's text (:meth:`AgentScript.add_rule`), or from a callable.
"""

from __future__ import annotations

import inspect
import json
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "UNSCRIPTED_TRANSCRIPT",
    "AgentScript",
    "FunctionCall",
    "Matcher",
    "Reply",
    "ReplySource",
    "ScriptContext",
]

UNSCRIPTED_TRANSCRIPT = "(unscripted speech)"
"""Transcript of a user speech turn when no transcript was queued with ``user_says``."""


@dataclass(frozen=True)
class FunctionCall:
    """A function call the emulated model makes (model mode).

    Attributes:
        name: The function's name.
        arguments: JSON arguments, as a string (sent as is) or a dict (encoded for you as a
            model writes it: compact, non-ASCII kept, e.g. ``{"city":"Zürich"}``).
        call_id: The ``call_id``; generated (``call_...``) when ``None``.
    """

    name: str
    arguments: str | dict[str, Any] = "{}"
    call_id: str | None = None

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON string sent on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        # As a model writes it: compact, non-ASCII kept.
        return json.dumps(self.arguments, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Reply:
    """One scripted response: spoken ``text`` and/or a ``function_call`` (made after the text).

    Attributes:
        text: What the assistant says (may be empty when only calling a function).
        function_call: A function call to make after the text, or ``None``.
    """

    text: str = ""
    function_call: FunctionCall | None = None


@dataclass(frozen=True)
class ScriptContext:
    """What a context-aware script callable sees when a response is generated.

    Attributes:
        kind: Why the response happens: ``"user"`` (new user input), ``"greeting"`` (a system
            message asking to welcome or greet the user), ``"function_output"`` (new
            ``function_call_output`` items) or ``"none"`` (``response.create`` with nothing new).
        user_text: The latest user message's text or transcript ("" if none).
        function_outputs: ``function_call_output`` items added since the last response.
        history: The conversation's items (dicts as sent on the wire), oldest first.
        instructions: The session's ``instructions``.
        response_instructions: ``response.instructions`` of this ``response.create``, if any.
        additional_instructions: ``additional_instructions`` of this ``response.create``, if any.
        mode: ``"model"``, ``"agent"`` or ``"classic_agent"``.
        agent_name: The agent's name in agent modes, else ``None``.
        conversation_id: The conversation the response belongs to.
    """

    kind: str
    user_text: str
    function_outputs: tuple[dict[str, Any], ...] = ()
    history: tuple[dict[str, Any], ...] = ()
    instructions: str = ""
    response_instructions: str | None = None
    additional_instructions: str | None = None
    mode: str = "model"
    agent_name: str | None = None
    conversation_id: str = ""


ReplySource = Union[str, Reply, Callable[..., Union[str, Reply]]]  # noqa: UP007 (runtime alias)
"""A reply: text, a :class:`Reply`, or a callable ``(user_text)`` or ``(user_text, context)``."""

Matcher = Union[str, "re.Pattern[str]", Callable[[str], bool]]
"""A rule's condition: a case-insensitive substring, a regex (``search``) or a predicate."""


def _wants_context(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` takes a second positional parameter (the :class:`ScriptContext`)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    has_varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    return has_varargs or len(positional) >= 2


def _as_reply(value: str | Reply) -> Reply:
    return value if isinstance(value, Reply) else Reply(text=str(value))


@dataclass(init=False)
class AgentScript:
    """Rules mapping the user's text to replies, plus the queue of what the user "says".

    Args:
        rules: ``(matcher, reply)`` pairs tried in order on the user's text; see
            :data:`Matcher` and :data:`ReplySource`.
        default: The reply when no rule matches; by default ``"You said: <text>"``.
        greeting: What the agent says when asked to greet (a system message mentioning
            "welcome" or "greet" followed by ``response.create``).
        after_function: The reply after function outputs arrive; by default
            ``"Here is what I found: <output>"``. A context-aware ``default`` callable is used
            instead when this is ``None``.
        interim: What the emulated interim LLM says (``llm_interim_response``): a string, or a
            callable ``(trigger)`` or ``(trigger, user_text)`` with trigger ``"latency"`` or
            ``"tool"``; ``None``: a canned sentence per trigger.

    ``rules`` is a list: append to it, or use :meth:`add_rule`, at any time (the next reply
    sees the change). A context-aware callable (one taking ``(user_text, context)``) given as
    ``default`` sees every response (greetings and function outputs too); a one-argument callable
    only user turns.
    """

    rules: list[tuple[Matcher, ReplySource]]
    default: ReplySource | None
    greeting: ReplySource | None
    after_function: ReplySource | None
    interim: str | Callable[..., str] | None

    def __init__(
        self,
        rules: Sequence[tuple[Matcher, ReplySource]] = (),
        default: ReplySource | None = None,
        greeting: ReplySource | None = None,
        after_function: ReplySource | None = None,
        interim: str | Callable[..., str] | None = None,
    ) -> None:
        self.rules = list(rules)
        self.default = default
        self.greeting = greeting
        self.after_function = after_function
        self.interim = interim
        self._user_turns: deque[str] = deque()

    def add_rule(self, matcher: Matcher, reply: ReplySource, *, first: bool = False) -> AgentScript:
        """Add a rule: when ``matcher`` matches the user's text, answer with ``reply``.

        Args:
            matcher: A case-insensitive substring, a compiled regex or a predicate.
            reply: A string, a :class:`Reply` or a callable (see :data:`ReplySource`).
            first: Try it before the existing rules (default: after them).

        Returns:
            The script itself, so calls can be chained.
        """
        if first:
            self.rules.insert(0, (matcher, reply))
        else:
            self.rules.append((matcher, reply))
        return self

    def interim_text(self, trigger: str, user_text: str) -> str | None:
        """The script's interim text for ``trigger`` (``"latency"``/``"tool"``), if any."""
        if self.interim is None:
            return None
        if isinstance(self.interim, str):
            return self.interim
        if _wants_context(self.interim):
            return str(self.interim(trigger, user_text))
        return str(self.interim(trigger))

    @classmethod
    def coerce(cls, script: AgentScript | Callable[..., str | Reply] | None) -> AgentScript:
        """Turn ``None`` or a plain callable into an :class:`AgentScript`."""
        if script is None:
            return cls()
        if isinstance(script, AgentScript):
            return script
        return cls(default=script)

    def user_says(self, *transcripts: str) -> None:
        """Queue the transcripts of the next user speech turns (shared by all sessions)."""
        self._user_turns.extend(transcripts)

    def next_user_transcript(self) -> str:
        """Pop the next queued user transcript, or :data:`UNSCRIPTED_TRANSCRIPT`."""
        transcript = self.pop_user_transcript()
        return UNSCRIPTED_TRANSCRIPT if transcript is None else transcript

    def pop_user_transcript(self) -> str | None:
        """Pop the next queued user transcript, or ``None`` when nothing is queued."""
        return self._user_turns.popleft() if self._user_turns else None

    def peek_user_transcript(self) -> str | None:
        """The next queued user transcript without using it, or ``None``."""
        return self._user_turns[0] if self._user_turns else None

    @property
    def pending_user_turns(self) -> int:
        """How many queued user transcripts have not been used yet."""
        return len(self._user_turns)

    def reply(self, ctx: ScriptContext) -> Reply:
        """Decide the reply for a response."""
        if ctx.kind == "user":
            for matcher, source in self.rules:
                if _matches(matcher, ctx.user_text):
                    return self._resolve(source, ctx)
            if self.default is not None:
                return self._resolve(self.default, ctx)
            return Reply(f"You said: {ctx.user_text}")
        overridden = (ctx.kind == "function_output" and self.after_function is not None) or (
            ctx.kind == "greeting" and self.greeting is not None
        )
        if callable(self.default) and _wants_context(self.default) and not overridden:
            return self._resolve(self.default, ctx)
        if ctx.kind == "greeting":
            if self.greeting is not None:
                return self._resolve(self.greeting, ctx)
            if ctx.agent_name:
                return Reply(f"Hello! I'm {ctx.agent_name}. How can I help you today?")
            return Reply("Hello! How can I help you today?")
        if ctx.kind == "function_output":
            if self.after_function is not None:
                return self._resolve(self.after_function, ctx)
            outputs = "; ".join(str(item.get("output", "")) for item in ctx.function_outputs)
            return Reply(f"Here is what I found: {outputs}")
        if self.default is not None and not callable(self.default):
            return self._resolve(self.default, ctx)
        return Reply("How can I help you?")

    @staticmethod
    def _resolve(source: ReplySource, ctx: ScriptContext) -> Reply:
        if isinstance(source, (str, Reply)):
            return _as_reply(source)
        if _wants_context(source):
            return _as_reply(source(ctx.user_text, ctx))
        return _as_reply(source(ctx.user_text))


def _matches(matcher: Matcher, text: str) -> bool:
    if isinstance(matcher, str):
        return matcher.lower() in text.lower()
    if isinstance(matcher, re.Pattern):
        return matcher.search(text) is not None
    return bool(matcher(text))
