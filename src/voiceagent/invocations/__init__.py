"""Helpers for agents built on the Invocations protocol, so that Voice Live can voice them.

* :func:`create_app`: an aiohttp application serving ``POST /invocations`` that streams the
  app's reply as Server-Sent Events in the shape Voice Live speaks;
* :func:`check_manifest`: the ``agent.manifest.yaml`` declares ``voiceLiveCompatible: "true"``.

The emulator voices such an agent too (``Emulator(invocations_url=...)``), so the whole path runs
offline. See ``docs/invocations.md``.
"""

from .app import INVOCATIONS_PATH, ReplyStream, create_app, sse_frame
from .manifest import check_manifest

__all__ = ["INVOCATIONS_PATH", "ReplyStream", "check_manifest", "create_app", "sse_frame"]
