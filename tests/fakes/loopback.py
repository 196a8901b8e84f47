"""What the fake Discord and the fake Feishu share: serving an aiohttp app on 127.0.0.1, and
waiting for their state to change.

Both fakes run on the event loop of the test that started them. Tests never poll or sleep:
every change of a fake bumps its :class:`Notifier`, and waiters re-check their condition then.
"""

# The waiting helper takes a timeout on purpose: a test double must never hang a test,
# and its own timeout error names what was awaited.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

T = TypeVar("T")

#: Largest request body the fakes accept; uploads of a few MiB must get through to be checked.
MAX_REQUEST_BYTES = 64 * 1024 * 1024
#: Connections waiting to be accepted. aiohttp's default of 128 overflows when a bot answers
#: hundreds of events at once (each on a connection of its own): the kernel drops the extra
#: SYNs and the client sends them again a second later, a delay the real platforms don't add.
#: The kernel caps it at ``net.core.somaxconn`` (4096 by default).
BACKLOG = 4096


class Notifier:
    """Wakes waiters whenever a fake's state changes (no polling, no fixed sleeps)."""

    def __init__(self, name: str) -> None:
        #: Which fake this is, for timeout messages ("fake Discord", "FakeFeishu").
        self.name = name
        self._changed = asyncio.Event()

    def bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float, what: str) -> T:
        """Return the first truthy value of ``predicate()``, re-checked after every change;
        ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while not (result := predicate()):
                    await self._changed.wait()
                return result
        except TimeoutError:
            raise TimeoutError(
                f"{self.name}: timed out after {timeout}s waiting for {what}"
            ) from None


class LoopbackServer:
    """One aiohttp application on 127.0.0.1 and a port the OS picked."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; ``RuntimeError`` before :meth:`start`."""
        if self._runner is None:
            raise RuntimeError("the fake is not started")
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        """Serve the app; returns :attr:`base_url`."""
        # Open websockets are closed by each fake before stop(); 2 s bounds a stuck handler.
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, backlog=BACKLOG).start()
        self.port = int(self._runner.addresses[0][1])
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
