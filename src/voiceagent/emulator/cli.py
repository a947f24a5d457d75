"""Command line: ``voiceagent emulator`` / ``python -m voiceagent.emulator``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .server import Emulator

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The emulator's argument parser (the ``voiceagent emulator`` CLI reuses it)."""
    parser = argparse.ArgumentParser(
        prog="voiceagent emulator",
        description="Run a local Azure AI Voice Live emulator (loopback only by default).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port to bind (default 8765; 0 = any)"
    )
    parser.add_argument("--api-key", default=None, help="api-key to require (default: accept any)")
    parser.add_argument(
        "--token", default=None, help="bearer token to require (default: accept any)"
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="send reply audio as fast as possible instead of in real time",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="pacing factor for reply audio")
    parser.add_argument(
        "--timing",
        choices=("immediate", "realistic"),
        default="immediate",
        help="response timing profile: immediate (default) or realistic (think time, jitter)",
    )
    parser.add_argument(
        "--agent-description",
        default="An emulated Foundry agent.",
        help="session.agent.description",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="keep every event in memory (off by default: memory grows with every reply)",
    )
    parser.add_argument(
        "--invocations-url",
        default=None,
        metavar="URL",
        help="voice an Invocations-protocol agent at URL (e.g. http://127.0.0.1:8088/invocations)",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    emulator = Emulator(
        api_key=args.api_key,
        token=args.token,
        realtime=not args.fast,
        speed=args.speed,
        timing=args.timing,
        host=args.host,
        port=args.port,
        agent_description=args.agent_description,
        record_events=args.record,
        invocations_url=args.invocations_url,
    )
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
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until interrupted; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        asyncio.run(_serve(args))
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}")
        return 1
    return 0
