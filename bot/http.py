"""The bot's HTTP servers: health checks and webhooks on one, metrics on another.

* ``HTTP_HOST:HTTP_PORT`` must be reachable by the platforms (Feishu's webhook) and by
  whatever checks the bot's health:

  - ``/livez``: the process works. It is answered on the bot's one event loop, so a loop that
    is stuck (or a process that is gone) fails it; restart the bot when it fails.
  - ``/readyz``: the database takes a write now and every adapter is connected. It fails
    while an adapter reconnects (Discord or Feishu being away), which a restart doesn't cure:
    alert on it, don't restart on it.
  - ``/healthz``: the same as ``/readyz``, for setups made before the two were told apart.
  - the adapters' webhook routes.
  - ``/admin``: the operator console (:mod:`bot.web`), only when ``ADMIN_PASSWORD`` is set.

* ``METRICS_HOST:METRICS_PORT`` (loopback unless set otherwise) serves ``/metrics``, which has
  no authentication, in Prometheus' text or OpenMetrics format as the scraper asks, compressed
  when it accepts gzip. The database's gauges and the adapters' are read on each scrape. When
  ``METRICS_PORT`` equals ``HTTP_PORT``, ``/metrics`` is served by the first server instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from bot.base import Adapter
from bot.settings import RunSettings
from bot.web.app import Console, console_app
from core import metrics
from core.access import Allowlists
from core.i18n import Translator
from core.operations import Operations
from core.policy import Policy
from core.runner import today
from core.store import Store

log = logging.getLogger(__name__)

#: A database that doesn't take a write within this is not ready (health checks give up at 5 s).
DATABASE_TIMEOUT = 3.0


async def _database_writable(store: Store) -> bool:
    try:
        return await asyncio.wait_for(store.ping(), DATABASE_TIMEOUT)
    except TimeoutError:
        return False


class _Checks:
    """What the health checks and the scrape ask of the store and the adapters."""

    def __init__(self, store: Store, adapters: Sequence[Adapter]) -> None:
        self.store = store
        self.adapters = adapters
        self._database_was_up = True

    async def livez(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        database = await _database_writable(self.store)
        connected = {adapter.name: adapter.healthy() for adapter in self.adapters}
        ok = database and all(connected.values())
        return web.json_response(
            {"status": "ok" if ok else "unready", "database": database, "adapters": connected},
            status=200 if ok else 503,
        )

    async def refresh(self) -> None:
        """Set the gauges that are read rather than counted, just before a scrape."""
        for adapter in self.adapters:
            metrics.ADAPTER_UP.labels(adapter.name).set(adapter.healthy())
        up = await _database_writable(self.store)
        metrics.DATABASE_UP.set(up)
        if up:
            try:
                await asyncio.wait_for(metrics.read_database(self.store, today()), DATABASE_TIMEOUT)
            except Exception:  # a scrape must not fail for it: the gauges keep their values
                log.warning("the database's gauges could not be read", exc_info=True)
        elif self._database_was_up:
            log.warning("the database does not take writes (ima_bot_database_up is 0)")
        self._database_was_up = up


def _metrics_route(checks: _Checks) -> web.RouteDef:
    serve = make_aiohttp_handler()

    async def scrape(request: web.Request) -> web.StreamResponse:
        await checks.refresh()
        return await serve(request)

    return web.get("/metrics", scrape)


@dataclass
class Servers:
    """The running HTTP servers of ``ima-bot run``."""

    runners: list[web.AppRunner]

    async def close(self) -> None:
        for runner in self.runners:
            await runner.cleanup()


async def _serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def _console(
    store: Store, allowlists: Allowlists, password: str, secure: bool, policy: Policy
) -> Console:
    operations = Operations(store, Translator.load(), policy.caps, max_running=policy.max_running)
    return Console(operations, password, allowlists, secure_cookie=secure)


async def start_servers(
    store: Store,
    adapters: Sequence[Adapter],
    process: RunSettings,
    policy: Policy,
    allowlists: Allowlists,
) -> Servers:
    """Start the webhook server and the metrics server (see the module's docstring).
    ``allowlists``: the engine's, which the console shows and edits."""
    metrics.set_caps(policy.user_daily_credits, policy.chat_daily_credits)
    checks = _Checks(store, adapters)
    main = web.Application()
    main.router.add_get("/livez", checks.livez)
    main.router.add_get("/readyz", checks.readyz)
    main.router.add_get("/healthz", checks.readyz)
    for adapter in adapters:
        main.router.add_routes(adapter.routes())
    if process.admin_password is not None:
        password = process.admin_password.get_secret_value()
        console = _console(store, allowlists, password, process.admin_secure_cookie, policy)
        main.add_subapp("/admin", console_app(console))
        log.info("the operator console is on /admin")
    shared = process.metrics_port == process.http_port
    if shared:
        main.router.add_routes([_metrics_route(checks)])
    runners = [await _serve(main, process.http_host, process.http_port)]
    log.info("health checks and webhooks on %s:%s", process.http_host, process.http_port)
    if not shared:
        private = web.Application()
        private.router.add_routes([_metrics_route(checks)])
        try:
            runners.append(await _serve(private, process.metrics_host, process.metrics_port))
        except BaseException:
            await Servers(runners).close()
            raise
    host = process.http_host if shared else process.metrics_host
    log.info("metrics on %s:%s", host, process.metrics_port)
    return Servers(runners)
