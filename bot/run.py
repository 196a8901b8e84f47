"""``ima-bot run``: :func:`run` wires everything for production, :func:`serve` runs it.

Order matters. The engine and store first; every adapter whose credentials are set; the HTTP
servers (health checks and webhooks, metrics); then the catalogs are read, the adapters start
receiving, and what a previous run left (jobs, requests stored but not answered) is resumed. On
SIGTERM/SIGINT the adapters stop taking requests and let those in flight be answered or
admitted, the engine stops its jobs (creates on their way get their answer first), and the
adapters disconnect; jobs still running are left in the database for the next start. When
something can't start (the database, the port, a platform's token), one logged sentence says
what, and the exit status is not 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Sequence

from bot.adapters import Entry
from bot.base import Adapter
from bot.http import start_servers
from bot.runtime import Wired, wired
from bot.settings import RunSettings
from core.policy import Policy
from core.settings import Settings
from core.store import Store

log = logging.getLogger(__name__)

#: How often the week-old generation log and request keys are deleted.
PRUNE_EVERY = 6 * 3600
#: How often expired interaction tokens are dropped from the database.
SCRUB_EVERY = 60.0
#: The exit status when the bot could not start (a platform refused it, the port is taken).
EXIT_NOT_STARTED = 1
#: The collector's thresholds once started (Python's are 700, 10, 10). Every request waiting
#: for its turn holds some 70 objects, so at 1,000 arrivals a second a full collection of all
#: of them came every second or so, each stopping the loop for 100-300 ms with as many
#: acknowledgements behind it. With these a full collection is considered after a million
#: allocations, not 70,000; the younger ones stay short (up to 3 and 9 ms, measured). How long
#: a full collection takes is what is held, not this setting.
GC_THRESHOLDS = (2_000, 10, 50)


async def _housekeeping(store: Store) -> None:
    last_prune = time.monotonic()
    while True:
        await asyncio.sleep(SCRUB_EVERY)
        try:
            await store.scrub(time.time())
            if time.monotonic() - last_prune >= PRUNE_EVERY:
                await store.prune(time.time())
                last_prune = time.monotonic()
        except Exception:  # a full disk or a locked file must not stop the bot
            log.exception("database housekeeping failed")


def _reason(error: Exception) -> str:
    return str(error).strip() or type(error).__name__


async def _close_quietly(adapter: Adapter) -> None:
    """Release what a failed start opened (sessions, threads) without raising again."""
    try:
        await adapter.close()
    except Exception:
        log.debug("closing the %s adapter after a failed start", adapter.name, exc_info=True)


async def run(
    settings: Settings,
    process: RunSettings,
    entries: tuple[Entry, ...],
    stop: asyncio.Event | None = None,
) -> int:
    """Run until ``stop`` is set (or a termination signal arrives); returns the exit status."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with wired(settings, process.database_url) as bot:
        adapters: list[Adapter] = []
        for entry in entries:
            platform_settings = entry.load()
            if platform_settings.configured:
                adapters.append(entry.build(bot.engine, platform_settings))
        if not adapters:
            log.error("no chat platform is configured: set DISCORD_TOKEN or FEISHU_APP_ID")
            return 2
        return await serve(bot, adapters, process, settings.policy(), stop)


async def serve(
    bot: Wired,
    adapters: Sequence[Adapter],
    process: RunSettings,
    policy: Policy,
    stop: asyncio.Event,
) -> int:
    """The HTTP server, the adapters and the engine's jobs, until ``stop`` is set; then the
    orderly stop. Returns the exit status (:data:`EXIT_NOT_STARTED` when something refused to
    start: one logged sentence says what)."""
    try:
        servers = await start_servers(bot.store, adapters, process, policy, bot.engine.allowlists)
    except OSError as exc:
        log.error("the HTTP server can't listen: %s", exc)
        return EXIT_NOT_STARTED
    housekeeping = asyncio.create_task(_housekeeping(bot.store))
    started: list[Adapter] = []
    try:
        await bot.engine.warm_up()
        for adapter in adapters:
            try:
                await adapter.start()
            except Exception as exc:  # a refused token or secret, an unreachable platform
                log.error("the %s adapter could not start: %s", adapter.name, _reason(exc))
                log.debug("why the %s adapter did not start", adapter.name, exc_info=True)
                await _close_quietly(adapter)
                return EXIT_NOT_STARTED
            started.append(adapter)
            log.info("%s adapter started", adapter.name)
        resumed = await bot.engine.resume()
        log.info("resumed %d job(s) from the previous run", resumed)
        # What start-up built (modules, catalogs, the SDKs' clients: some 85,000 objects) stays
        # for the life of the process: left out of the collections, a full one (which stops
        # the loop and every acknowledgement waiting on it) no longer walks all of it again.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        await stop.wait()
        log.info("stopping: answering what is in flight; running jobs resume at next start")
    finally:
        housekeeping.cancel()
        for adapter in started:
            await adapter.pause()
        await bot.engine.shutdown()
        for adapter in started:
            try:
                await adapter.close()
            except Exception:
                log.exception("%s adapter did not stop cleanly", adapter.name)
        await servers.close()
    return 0
