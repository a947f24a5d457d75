"""The ``voiceagent`` command line, built on the public API only.

``voiceagent run`` (a console for talking to an agent), ``voiceagent demo``, ``voiceagent
emulator`` and ``voiceagent devices``. See ``voiceagent --help``.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
