"""``voiceagent run``: talk to an agent from a terminal (or a pipe), in the Azure samples' terms.

Flags beat the environment, which beats a ``.env`` in the working directory (see
:mod:`.settings`). This module builds the session from public names only; :mod:`.console`
drives it and :mod:`.view` shows it.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .settings import ENV, MissingSettings, RunSettings, read_env, resolve

__all__ = ["add_arguments", "build_session", "run_command"]

log = logging.getLogger("voiceagent.cli")

_SAMPLE_FLAGS: tuple[tuple[str, str], ...] = (
    ("endpoint", "Voice Live endpoint, https://<resource>.services.ai.azure.com"),
    ("agent_name", "Foundry agent name"),
    ("project_name", "Foundry project name"),
    ("agent_version", "pin an agent version (default: latest)"),
    ("conversation_id", "resume this conversation"),
    ("foundry_resource_override", "Foundry resource hosting the agent, if not the endpoint's"),
    ("agent_authentication_identity_client_id", "managed identity for the override resource"),
    ("voice", "voice, e.g. en-US-Ava:DragonHDLatestNeural or alloy"),
    ("model", "model mode: the model, e.g. gpt-realtime"),
    ("api_key", "model mode: Voice Live API key (else Entra with --use-token-credential)"),
    ("instructions", "model mode: system instructions"),
    ("agent_id", "classic agent mode: the agent id (asst_...)"),
    ("agent_connection_string", "classic agent mode: hub project connection string"),
)


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """The Azure samples' connection flags, each with its variable (``run`` and ``serve``)."""
    samples = parser.add_argument_group("Azure samples' settings (flag > environment > .env)")
    for name, text in _SAMPLE_FLAGS:
        variables = "/".join(ENV[name])
        samples.add_argument(
            "--" + name.replace("_", "-"), dest=name, default=None, help=f"{text} [{variables}]"
        )
    samples.add_argument(
        "--use-token-credential",
        action="store_true",
        help="model mode: Microsoft Entra ID (DefaultAzureCredential) instead of an API key",
    )


def add_arguments(run: argparse.ArgumentParser) -> None:
    """Add the ``run`` flags: the samples' (each with its variable) and the console's own."""
    add_connection_flags(run)
    ours = run.add_argument_group("console")
    ours.add_argument(
        "--emulator",
        action="store_true",
        help="talk to an embedded local emulator: no Azure account or credential needed",
    )
    ours.add_argument("--greeting", default=None, help="'llm' (the agent greets) or a TEXT to say")
    ours.add_argument(
        "--avatar",
        default=None,
        metavar="CHARACTER:STYLE",
        help="a talking avatar, e.g. lisa:casual-sitting (WebRTC video: docs/avatar.md)",
    )
    ours.add_argument("--input-device", default=None, help="microphone: index or part of a name")
    ours.add_argument("--output-device", default=None, help="speaker: index or part of a name")
    ours.add_argument(
        "--input-wav",
        default=None,
        help="say this WAV file instead of using a microphone; exits once the agent has replied",
    )
    ours.add_argument("--output-wav", default=None, help="write the agent's voice to this WAV")
    ours.add_argument(
        "--text", action="store_true", help="type instead of speaking (reads lines from stdin)"
    )
    ours.add_argument(
        "--log-dir", default=None, help="write the conversation (JSON Lines) and a debug log here"
    )
    ours.add_argument(
        "--metrics",
        action="store_true",
        help="print the latency figures (time to first audio, barge-in reaction, ...) at exit",
    )


def _is_loopback(endpoint: str) -> bool:
    try:
        host = urlsplit(endpoint).hostname or ""
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _credential(settings: RunSettings, endpoint: str, notes: list[str]) -> Any:
    """The credential for the mode: None lets the session use DefaultAzureCredential."""
    api_key = settings.get("api_key")
    if settings.mode == "model" and api_key and not settings.emulator:
        from azure.core.credentials import AzureKeyCredential

        return AzureKeyCredential(api_key)
    if settings.emulator or _is_loopback(endpoint):
        from voiceagent.testing import EmulatorCredential

        if not settings.emulator:
            notes.append(f"{endpoint} is a loopback address: using EmulatorCredential")
        return EmulatorCredential()
    if settings.mode == "model":
        from azure.identity.aio import DefaultAzureCredential

        return DefaultAzureCredential()
    return None  # agent modes: the session's DefaultAzureCredential


def _agent(settings: RunSettings) -> Any:
    from voiceagent import AgentConfig, ClassicAgentConfig

    get = settings.get
    if settings.mode == "classic":
        project = get("project_name")
        return ClassicAgentConfig(
            agent_id=get("agent_id") or "",
            project_name=project,
            connection_string=None if project else get("agent_connection_string"),
        )
    if settings.mode == "agent":
        return AgentConfig(
            agent_name=get("agent_name") or "",
            project_name=get("project_name") or "",
            agent_version=get("agent_version"),
            conversation_id=get("conversation_id"),
            foundry_resource_override=get("foundry_resource_override"),
            authentication_identity_client_id=get("agent_authentication_identity_client_id"),
        )
    return None


def build_audio(args: argparse.Namespace) -> Any:
    """The audio backend for the flags (files, memory or the sound card)."""
    from voiceagent import NullAudio, SoundDeviceAudio, WavAudio

    if args.input_wav or args.output_wav:
        return WavAudio(
            input_path=None if args.text else args.input_wav,
            output_path=args.output_wav,
            realtime=False,
        )
    if args.text:
        return NullAudio(realtime=True)
    return SoundDeviceAudio(input_device=args.input_device, output_device=args.output_device)


def build_session(
    args: argparse.Namespace, settings: RunSettings, endpoint: str, audio: Any, notes: list[str]
) -> Any:
    """The :class:`~voiceagent.VoiceAgentSession` for ``settings``.

    Raises:
        ConfigError: A value is invalid (the message names it).
    """
    from voiceagent import InputTranscription, SessionOptions, VoiceAgentSession

    fields: dict[str, Any] = {"input_transcription": InputTranscription(model="azure-speech")}
    if settings.get("voice"):
        fields["voice"] = settings.get("voice")
    if settings.get("instructions"):
        fields["instructions"] = settings.get("instructions")
    if getattr(args, "avatar", None):
        from voiceagent.config import parse_avatar

        fields["avatar"] = parse_avatar(args.avatar)
    log_path = None
    if args.log_dir:
        log_path = Path(args.log_dir) / f"conversation-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    return VoiceAgentSession(
        endpoint,
        _agent(settings),
        credential=_credential(settings, endpoint, notes),
        options=SessionOptions(**fields),
        audio=audio,
        greeting=args.greeting,
        model=settings.get("model") if settings.mode == "model" else None,
        log_path=log_path,
    )


def describe(settings: RunSettings, endpoint: str) -> str:
    """One line: who the console talks to, and where."""
    get = settings.get
    if settings.mode == "agent":
        who = f"agent {get('agent_name')} (project {get('project_name')}"
        who += f", version {get('agent_version')})" if get("agent_version") else ")"
    elif settings.mode == "classic":
        who = f"classic agent {get('agent_id')}"
    else:
        who = f"model {get('model')}"
    where = "the embedded emulator" if settings.emulator else endpoint
    return f"voiceagent: {who} on {where}"


def resume_command(argv: list[str], conversation_id: str) -> str:
    """``voiceagent run`` with the same flags, resuming ``conversation_id``."""
    import shlex

    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--conversation-id":
            skip = True
        elif not arg.startswith("--conversation-id="):
            kept.append(arg)
    return shlex.join(["voiceagent", "run", *kept, "--conversation-id", conversation_id])


def _debug_log(directory: Path) -> None:
    """Also write a debug log (secrets are redacted by the library's loggers) to ``directory``.

    It holds the user's words (transcripts at DEBUG), like the conversation log beside it: the
    file is created 0600 and a folder created here 0700 (an existing folder is left as it is).
    """
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"voiceagent-{time.strftime('%Y%m%d-%H%M%S')}.log"
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))  # owner only
    handler = logging.FileHandler(path)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(session_id)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def run_command(args: argparse.Namespace, argv: list[str]) -> int:
    """``voiceagent run``; returns the exit code (2: settings missing or invalid)."""
    import asyncio

    from .console import Console as RunConsole

    env, origin = read_env()
    try:
        settings = resolve(args, env, origin)
    except MissingSettings as exc:
        print(f"voiceagent run: {exc}", file=sys.stderr)
        return 2
    if args.output_wav and not (args.input_wav or args.text):
        print(
            "voiceagent run: --output-wav needs --input-wav or --text (no sound card is used then)",
            file=sys.stderr,
        )
        return 2
    if args.log_dir:
        _debug_log(Path(args.log_dir))
    return asyncio.run(RunConsole(args, argv, settings).main())
