"""The ``voiceagent`` command: parse, set up logging, hand over to a subcommand."""

from __future__ import annotations

import argparse
import gc
import logging
import sys

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Talk to an Azure AI Foundry agent (or a realtime model) through Azure AI Voice Live,
run a local emulator of the service, or try a scripted demo: no Azure account needed
for 'demo', 'emulator' and 'run --emulator'."""

_EPILOG = """\
examples:
  voiceagent demo                         a scripted conversation on the embedded emulator
  voiceagent run --emulator               talk (microphone, speaker) to the local emulator
  voiceagent run --emulator --text        type instead of speaking
  voiceagent run --agent-name concierge --project-name contoso \\
      --endpoint https://<resource>.services.ai.azure.com
  voiceagent run --model gpt-realtime --api-key <key> --endpoint <endpoint>
  voiceagent emulator --port 8765         a local Voice Live service for your app's tests
  voiceagent devices                      the microphones and speakers PortAudio sees

Settings: flags beat the environment, which beats a .env file in the working directory."""

_RUN_DESCRIPTION = """\
A console for talking to your agent: live state, microphone level and captions on a
terminal, plain lines in a pipe. Ctrl+C (or SIGTERM) stops it within a second and
prints how to resume the conversation.

Modes: a Foundry agent (default: --agent-name, --project-name), a model (--model, with
--api-key or --use-token-credential), a classic agent (--agent-id). --emulator talks to
an embedded emulator instead of Azure (no account, no credential)."""


def _verbosity() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more logging (-vv)"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The ``voiceagent`` argument parser (``emulator`` arguments are passed on untouched)."""
    from voiceagent import __version__

    from . import demo, run

    common = _verbosity()
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="voiceagent",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=raw,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"voiceagent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.add_arguments(
        sub.add_parser(
            "run",
            help="talk to your agent (or a model, or the emulator)",
            description=_RUN_DESCRIPTION,
            formatter_class=raw,
            parents=[common],
        )
    )
    demo.add_arguments(
        sub.add_parser(
            "demo",
            help="a scripted voice conversation with an interruption, on the emulator",
            description="Speak a question into the embedded emulator, interrupt the answer, "
            "print the transcript and write the agent's voice to a WAV file.",
            parents=[common],
        )
    )
    sub.add_parser(
        "emulator",
        help="run a local Voice Live emulator (see: voiceagent emulator --help)",
        add_help=False,
    )
    sub.add_parser("devices", help="list audio devices", parents=[common])
    from . import serve

    serve.add_arguments(
        sub.add_parser(
            "serve",
            help="a web page to talk to your agent in the browser (one conversation per tab)",
            description="Serve the voice page at / and its WebSocket at /ws, with run's "
            "connection settings. The key or token never leaves this process.",
            parents=[common],
        )
    )
    for command_parser in sub.choices.values():  # for errors in the subcommand's terms
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def _emulator_args(argv: list[str]) -> tuple[int, list[str]] | None:
    """For ``[-v ...] emulator ARGS``: the verbosity and ARGS (passed on whole)."""
    verbose = 0
    for i, arg in enumerate(argv):
        if arg in ("-v", "--verbose") or (arg.startswith("-v") and set(arg[1:]) == {"v"}):
            verbose += arg.count("v") if arg.startswith("-v") else 1
        elif arg == "emulator":
            return verbose, argv[i + 1 :]
        else:
            return None
    return None


def _logging(verbose: int) -> None:
    level = [logging.ERROR, logging.INFO, logging.DEBUG][min(verbose, 2)]
    from rich.logging import RichHandler

    screen = RichHandler(show_path=False, rich_tracebacks=False, level=level)
    logging.basicConfig(level=level, format="%(name)s: %(message)s", handlers=[screen])


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    code = _main(list(sys.argv[1:] if argv is None else argv))
    if argv is None:  # the process ends next (not a call from other code)
        # The interpreter's last garbage collection walks every object of the SDK, aiohttp,
        # numpy and rich: 0.1-0.3 s of the one second Ctrl+C may take. Nothing needs it.
        gc.freeze()
    return code


def _main(argv: list[str]) -> int:
    emulator = _emulator_args(argv)
    if emulator is not None:
        from voiceagent.emulator import main as emulator_main

        return emulator_main(emulator[1])
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # The subcommand's usage, not the top-level one: the flag is wrong for *that* command.
        command_parser: argparse.ArgumentParser = getattr(args, "command_parser", parser)
        command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    _logging(getattr(args, "verbose", 0))
    from voiceagent import VoiceAgentError

    try:
        if args.command == "run":
            from .run import run_command

            return run_command(args, argv[argv.index("run") + 1 :])
        if args.command == "serve":
            from .serve import serve_command

            return serve_command(args)
        if args.command == "demo":
            from .demo import demo_command

            return demo_command(args)
        from .devices import devices_command

        return devices_command()
    except VoiceAgentError as exc:
        print(f"voiceagent: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
