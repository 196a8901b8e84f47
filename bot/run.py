"""``ima-bot run``: the one function that wires and starts everything for production.

Order matters: the engine and store first; every adapter whose credentials are set; the HTTP
server (health, metrics, webhooks); then the adapters start receiving and running jobs from the
previous run are resumed. On SIGTERM/SIGINT the adapters stop taking requests and the process
exits; jobs still running are left in the database for the next start to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable

from aiohttp import web

from bot.base import Adapter
from bot.http import build_app
from bot.runtime import engine_context
from core.engine import Engine
from core.settings import Settings
from core.store import Store

log = logging.getLogger(__name__)

AdapterBuilder = Callable[[Settings, Engine], Adapter | None]

#: How often the generation log and processed-event keys older than a week are deleted.
PRUNE_EVERY = 6 * 3600


async def _prune_periodically(store: Store) -> None:
    while True:
        await asyncio.sleep(PRUNE_EVERY)
        try:
            await store.prune(time.time())
        except Exception:  # a full disk or a locked file must not stop the bot
            log.exception("pruning the database failed")


async def run(
    settings: Settings, builders: list[AdapterBuilder], stop: asyncio.Event | None = None
) -> int:
    """Run until ``stop`` is set (or a termination signal arrives); returns the exit status."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with engine_context(settings) as engine:
        adapters = [a for build in builders if (a := build(settings, engine)) is not None]
        if not adapters:
            log.error("no chat platform is configured: set DISCORD_TOKEN or FEISHU_APP_ID")
            return 2
        runner = web.AppRunner(build_app(engine.store, adapters), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        log.info("http server on %s:%s", settings.http_host, settings.http_port)
        pruner = asyncio.create_task(_prune_periodically(engine.store))
        try:
            await engine.warm_up()
            for adapter in adapters:
                await adapter.start()
                log.info("%s adapter started", adapter.name)
            resumed = await engine.resume()
            log.info("resumed %d job(s) from the previous run", resumed)
            await stop.wait()
            log.info("stopping: no new requests; running jobs resume at the next start")
        finally:
            pruner.cancel()
            # Jobs stop first, while the adapters can still talk; then the adapters close.
            await engine.shutdown()
            for adapter in adapters:
                try:
                    await adapter.stop()
                except Exception:
                    log.exception("%s adapter did not stop cleanly", adapter.name)
            await runner.cleanup()
    return 0
