"""Command line: ``voiceagent emulator`` / ``python -m voiceagent.emulator``.

A scriptable standalone emulator: load a script (``--script module:object``), add rules
(``--rule``), queue what the user says (``--say``), pick the timing profile and turn the voice
(espeak-ng) and the ears (pocketsphinx) on or off.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import logging
import re
import signal
import sys
from pathlib import Path
from typing import Any

from .listening import SpeechUnavailableError
from .script import AgentScript
from .server import Emulator

__all__ = ["build_emulator", "build_parser", "load_script", "main", "parse_rule"]


def _port(text: str) -> int:
    """``--port``: a TCP port number, 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a port number: use 1-65535, or 0 for any free port"
        )
    return port


def build_parser() -> argparse.ArgumentParser:
    """The emulator's argument parser (the ``voiceagent emulator`` CLI reuses it)."""
    parser = argparse.ArgumentParser(
        prog="voiceagent emulator",
        description="Run a local Azure AI Voice Live emulator (loopback only by default).",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=_port, default=8765, help="port to bind (default 8765; 0 = any)")
    add("--api-key", default=None, help="api-key to require (default: accept any)")
    add("--token", default=None, help="bearer token to require (default: accept any)")
    add("--fast", action="store_true", help="send reply audio as fast as possible")
    add("--speed", type=float, default=1.0, help="pacing factor for reply audio")
    add(
        "--timing",
        choices=("immediate", "realistic"),
        default="immediate",
        help="response timing profile: immediate (default) or realistic (think time, jitter)",
    )
    add(
        "--model",
        action="append",
        default=[],
        dest="models",
        metavar="NAME",
        help="accept this model name too, besides the documented Voice Live models (repeatable)",
    )
    add("--agent-description", default="An emulated Foundry agent.", help="session.agent text")
    add(
        "--invocations-url",
        default=None,
        metavar="URL",
        help="voice an Invocations-protocol agent at URL (http://127.0.0.1:8088/invocations)",
    )
    script = parser.add_argument_group("script")
    script.add_argument(
        "--script",
        metavar="MODULE:OBJECT",
        default=None,
        help="an AgentScript, a reply callable or a function returning either, as "
        "module:name or path/to/file.py:name",
    )
    script.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="PATTERN=REPLY",
        help="answer REPLY when the user's text contains PATTERN (case-insensitive); "
        "'re:PATTERN=REPLY' for a regex; split at the first '='; repeatable; added after "
        "the script's own rules",
    )
    script.add_argument("--default", default=None, help="the reply when no rule matches")
    script.add_argument("--greeting", default=None, help="what the agent says to greet")
    script.add_argument(
        "--interim", default=None, help="what the emulated interim LLM says (interim_response)"
    )
    script.add_argument(
        "--say",
        action="append",
        default=[],
        metavar="TEXT",
        help="queue the transcript of the next user speech turn; repeatable",
    )
    speech = parser.add_argument_group("speech")
    speech.add_argument(
        "--speech",
        choices=("auto", "on", "off"),
        default=None,
        help="voice and listening together: on = espeak-ng voice and pocketsphinx (both "
        "required), off = synthetic voice and no recognition, auto (default) = what is installed",
    )
    speech.add_argument(
        "--voice",
        choices=("auto", "espeak", "synthetic"),
        default=None,
        help="the agent's voice (overrides --speech)",
    )
    speech.add_argument(
        "--listen",
        choices=("auto", "on", "off"),
        default=None,
        help="transcribe unscripted user speech with pocketsphinx (overrides --speech)",
    )
    memory = parser.add_argument_group("memory")
    memory.add_argument(
        "--keep-sessions", type=int, default=100, help="closed sessions kept for inspection"
    )
    memory.add_argument(
        "--max-conversations", type=int, default=1000, help="stored conversations kept at most"
    )
    memory.add_argument(
        "--conversation-ttl",
        type=float,
        default=None,
        metavar="SECONDS",
        help="forget conversations idle this long (default: never)",
    )
    add(
        "--record",
        action="store_true",
        help="keep every event in memory (off by default: memory grows with every reply)",
    )
    add("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def parse_rule(spec: str) -> tuple[str | re.Pattern[str], str]:
    """``"PATTERN=REPLY"`` (substring) or ``"re:PATTERN=REPLY"`` (regex) as a rule.

    Raises:
        ValueError: No ``=``, an empty pattern or an invalid regex.
    """
    pattern, sep, reply = spec.partition("=")
    if not sep or not pattern:
        raise ValueError(f"a rule is PATTERN=REPLY, got {spec!r}")
    if pattern.startswith("re:"):
        try:
            return re.compile(pattern[3:], re.IGNORECASE), reply
        except re.error as exc:
            raise ValueError(f"invalid regex in rule {spec!r}: {exc}") from None
    return pattern, reply


def load_script(spec: str) -> AgentScript:
    """Load ``module:name`` or ``path/to/file.py:name`` as an :class:`AgentScript`.

    The object may be an :class:`AgentScript`, a reply callable (it becomes the default reply)
    or a function without parameters that returns either.

    Raises:
        ValueError: The spec or the object is not usable.
    """
    module_name, sep, attribute = spec.rpartition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"--script takes module:object or file.py:object, got {spec!r}")
    if module_name.endswith(".py"):
        path = Path(module_name)
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        if loader_spec is None or loader_spec.loader is None or not path.is_file():
            raise ValueError(f"--script {spec}: no such Python file {module_name}")
        module = importlib.util.module_from_spec(loader_spec)
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:  # the user's file: say which and why, not a traceback
            raise ValueError(
                f"--script {spec}: running {module_name} failed: {type(exc).__name__}: {exc}"
            ) from None
    else:
        sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise ValueError(
                f"--script {spec}: cannot import {module_name}: {type(exc).__name__}: {exc}"
            ) from None
    try:
        obj: Any = getattr(module, attribute)
    except AttributeError:
        names = sorted(n for n in vars(module) if not n.startswith("_"))
        raise ValueError(
            f"--script {spec}: {module_name} has no {attribute!r} (it defines: "
            f"{', '.join(names[:12]) or 'nothing public'})"
        ) from None
    if isinstance(obj, AgentScript):
        return obj
    if isinstance(obj, type) or not callable(obj):
        raise ValueError(f"{spec} is neither an AgentScript nor a callable")
    if _takes_arguments(obj):
        return AgentScript.coerce(obj)  # a reply callable: (user_text) or (user_text, context)
    produced = obj()  # a factory
    if isinstance(produced, AgentScript):
        return produced
    if callable(produced):
        return AgentScript.coerce(produced)
    raise ValueError(f"{spec}() returned {type(produced).__name__}, not an AgentScript")


def _takes_arguments(fn: Any) -> bool:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters
    )


def build_emulator(args: argparse.Namespace) -> Emulator:
    """The :class:`Emulator` the parsed command line describes (not started).

    Raises:
        ValueError: A bad ``--script`` or ``--rule``.
        SpeechUnavailableError: ``--speech on`` (or ``--voice espeak``, ``--listen on``) and
            the speech packages are missing.
    """
    script = load_script(args.script) if args.script else AgentScript()
    for spec in args.rule:
        script.add_rule(*parse_rule(spec))
    if args.default is not None:
        script.default = args.default
    if args.greeting is not None:
        script.greeting = args.greeting
    if args.interim is not None:
        script.interim = args.interim
    script.user_says(*args.say)
    speech = args.speech or "auto"
    voice = args.voice or {"auto": "auto", "on": "espeak", "off": "synthetic"}[speech]
    listen = args.listen or speech
    return Emulator(
        api_key=args.api_key,
        token=args.token,
        realtime=not args.fast,
        speed=args.speed,
        timing=args.timing,
        host=args.host,
        port=args.port,
        agent_description=args.agent_description,
        record_events=args.record,
        script=script,
        voice=voice,
        listen=listen,
        keep_sessions=args.keep_sessions,
        max_conversations=args.max_conversations,
        conversation_ttl_s=args.conversation_ttl,
        invocations_url=args.invocations_url,
        models=args.models,
    )


def _describe(emulator: Emulator) -> str:
    from .listening import recognizer_available
    from .voices import espeak_available

    voice = emulator.settings.voice
    if voice == "auto":
        voice = "espeak-ng" if espeak_available() else "synthetic (espeak-ng not installed)"
    listen = emulator.settings.listen
    if listen == "auto":
        listen = "pocketsphinx" if recognizer_available() else "off (pocketsphinx not installed)"
    rules = len(emulator.script.rules)
    return f"  voice: {voice}; listening: {listen}; rules: {rules}"


async def _serve(emulator: Emulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    async with emulator:
        print(f"Voice Live emulator listening on {emulator.endpoint}", flush=True)
        print(
            f"  connect(endpoint={emulator.endpoint!r}, credential=AzureKeyCredential('any'), ...)"
        )
        print(_describe(emulator), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until interrupted; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        emulator = build_emulator(args)
    except SpeechUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        parser.error(str(exc))  # exits with status 2
    try:
        asyncio.run(_serve(emulator))
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}")
        return 1
    return 0
