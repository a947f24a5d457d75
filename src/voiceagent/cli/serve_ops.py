"""``voiceagent serve``'s operator settings: flag > environment > default, checked at start."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

__all__ = ["OPERATOR_NOTE", "Operations", "operations"]

OPERATOR_NOTE = (
    "voiceagent serve: /sessions and /metrics are closed: listening beyond loopback with no "
    "operator token (set --operator-token or VOICEAGENT_OPERATOR_TOKEN and send it as "
    "'Authorization: Bearer ...'). /healthz and /readyz stay open for probes."
)


@dataclass(frozen=True)
class Operations:
    """How many conversations, for how long, how to stop, who may look."""

    max_sessions: int = 50
    idle_timeout_s: float | None = None
    drain_timeout_s: float = 3600.0
    operator_token: str | None = None


def _number(flag: str, env: str, given: float | None, *, whole: bool) -> float | None:
    if given is not None:
        value: float = given
    elif os.environ.get(env, "").strip():
        text = os.environ[env].strip()
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number of seconds"
            raise ValueError(f"{env}={text!r} is not {kind} (it sets {flag})") from None
    else:
        return None
    if value <= 0 and not (flag == "--drain-timeout" and value == 0):
        raise ValueError(f"{flag} (or {env}) must be positive, got {value:g}")
    return value


def operations(args: argparse.Namespace) -> Operations:
    """The operator settings from ``args`` and the environment.

    Raises:
        ValueError: a value is not a number or not positive (the message names flag and variable).
    """
    sessions = _number(
        "--max-sessions", "VOICEAGENT_MAX_SESSIONS", args.max_conversations, whole=True
    )
    idle = _number("--idle-timeout", "VOICEAGENT_IDLE_TIMEOUT", args.idle_timeout, whole=False)
    drain = _number("--drain-timeout", "VOICEAGENT_DRAIN_TIMEOUT", args.drain_timeout, whole=False)
    token = args.operator_token or os.environ.get("VOICEAGENT_OPERATOR_TOKEN") or None
    return Operations(
        max_sessions=int(sessions) if sessions is not None else 50,
        idle_timeout_s=idle,
        drain_timeout_s=3600.0 if drain is None else drain,
        operator_token=token,
    )
