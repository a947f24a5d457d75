"""Run a command in a network namespace whose only interface is ``lo`` (for WebRTC on loopback).

Chromium gathers ICE candidates on every interface and prefers the host's own address to
127.0.0.1, so a browser talking to the emulated avatar would send its checks there. Inside a
fresh network namespace (``unshare --net``, which needs root or user namespaces) the only
interface is ``lo``: every candidate, STUN request and media packet stays on loopback. The
avatar's browser test and ``bench/avatar_page.py`` re-run themselves in one.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
from collections.abc import Sequence

__all__ = ["NamespaceUnavailable", "only_loopback", "run_in_loopback_namespace"]


class NamespaceUnavailable(RuntimeError):
    """No network namespace can be made here; the message says why and what to do."""


def only_loopback() -> bool:
    """True inside a network namespace whose only interface is ``lo``."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def run_in_loopback_namespace(
    argv: Sequence[str], *, timeout: float, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a new network namespace with ``lo`` up, and wait for it.

    Args:
        argv: The command (e.g. ``[sys.executable, "-m", "pytest", ...]``).
        timeout: Seconds before the command is killed (``subprocess.TimeoutExpired``).
        capture: Capture stdout and stderr (text) instead of passing them through.

    Raises:
        NamespaceUnavailable: ``unshare`` is missing or may not make a namespace here.
    """
    script = "ip link set lo up && exec " + shlex.join(argv)
    try:
        done = subprocess.run(
            ["unshare", "--net", "--", "sh", "-c", script],
            capture_output=capture,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            check=False,
        )
    except FileNotFoundError:
        raise NamespaceUnavailable(
            "unshare (util-linux) is missing: install util-linux to run on loopback only"
        ) from None
    stderr = done.stderr or ""
    if "unshare" in stderr and "Operation not permitted" in stderr:
        raise NamespaceUnavailable(
            "no permission to make a network namespace (run as root): " + stderr.strip()
        )
    return done
