"""An aiohttp app served on 127.0.0.1 for a test: the one helper the phone and serve tests share."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

__all__ = ["listening"]


@asynccontextmanager
async def listening(
    app: web.Application, *, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) for the duration; yields ``host:port``.

    Args:
        app: The application.
        ssl_context: Serve TLS with it (None: plain HTTP).
    """
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
    try:
        yield f"127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
