"""The bot's HTTP server: ``/healthz``, ``/metrics`` and the adapters' webhook routes."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.base import Adapter
from core.store import Store


def build_app(store: Store, adapters: Sequence[Adapter]) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        database = await store.ping()
        connected = {adapter.name: adapter.healthy() for adapter in adapters}
        ok = database and all(connected.values())
        return web.json_response(
            {"status": "ok" if ok else "unhealthy", "database": database, "adapters": connected},
            status=200 if ok else 503,
        )

    async def metrics(request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    for adapter in adapters:
        app.router.add_routes(adapter.routes())
    return app
