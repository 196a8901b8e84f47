"""The HTTP servers of ``ima-bot run``: health that tells the truth, metrics kept private."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from aiohttp import web

from bot.http import Servers, start_servers
from bot.settings import RunSettings
from core.access import Allowlists
from core.ima.tasks import TaskType
from core.jobs import Job, ModelSource, new_job_id
from core.policy import Policy
from core.store import Store, open_store
from tests.bot.test_operations import free_port
from tests.ops.samples import scraped


class Adapter:
    """What the servers see of an adapter: its name, its health and its routes."""

    name: ClassVar[str] = "stub"

    def __init__(self) -> None:
        self.connected = True

    async def start(self) -> None:
        pass

    async def pause(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def healthy(self) -> bool:
        return self.connected

    def routes(self) -> list[web.RouteDef]:
        return []


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(str(tmp_path / "bot.db"))
    yield opened
    await opened.close()


def process_settings(**overrides: Any) -> RunSettings:
    values: dict[str, Any] = {
        "http_host": "127.0.0.1",
        "http_port": free_port(),
        "metrics_port": free_port(),
        **overrides,
    }
    return RunSettings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def serving(
    store: Store, adapter: Adapter, process: RunSettings, policy: Policy | None = None
) -> AsyncIterator[Servers]:
    servers = await start_servers(store, [adapter], process, policy or Policy(), Allowlists(store))
    try:
        yield servers
    finally:
        await servers.close()


async def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.json()


async def test_live_while_an_adapter_reconnects_ready_only_when_all_is_well(store: Store) -> None:
    adapter, process = Adapter(), process_settings()
    base = f"http://127.0.0.1:{process.http_port}"
    async with serving(store, adapter, process):
        ready = {"status": "ok", "database": True, "adapters": {"stub": True}}
        assert await get_json(f"{base}/readyz") == (200, ready)
        assert await get_json(f"{base}/healthz") == (200, ready)

        adapter.connected = False  # Discord is away; the adapter reconnects by itself
        assert await get_json(f"{base}/livez") == (200, {"status": "ok"})
        unready = {"status": "unready", "database": True, "adapters": {"stub": False}}
        assert await get_json(f"{base}/readyz") == (503, unready)
        assert await get_json(f"{base}/healthz") == (503, unready)

        adapter.connected = True
        await store.close()  # the database no longer takes writes
        status, body = await get_json(f"{base}/readyz")
        assert (status, body["database"]) == (503, False)
        assert (await get_json(f"{base}/livez"))[0] == 200
        status, _, text = await get(f"http://127.0.0.1:{process.metrics_port}/metrics")
        assert status == 200
        assert scraped(text.decode())[("ima_bot_database_up", frozenset())] == 0


async def test_metrics_have_their_own_private_server(store: Store) -> None:
    assert RunSettings(_env_file=None).metrics_host == "127.0.0.1"  # type: ignore[call-arg]
    process = process_settings(metrics_host="127.0.0.1")
    async with serving(store, Adapter(), process) as servers:
        assert [runner.addresses[0][:2] for runner in servers.runners] == [
            ("127.0.0.1", process.http_port),
            ("127.0.0.1", process.metrics_port),
        ]
        assert (await get(f"http://127.0.0.1:{process.http_port}/metrics"))[0] == 404
        url = f"http://127.0.0.1:{process.metrics_port}/metrics"
        status, headers, body = await get(url)
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = body.decode()
        assert "ima_bot_build_info{" in text
        assert "_created" not in text  # they read like "jobs created", and aren't
        # Content negotiation and compression, as the scraper asks.
        _, headers, body = await get(url, Accept="application/openmetrics-text; version=1.0.0")
        assert headers["Content-Type"].startswith("application/openmetrics-text")
        assert body.decode().rstrip().endswith("# EOF")
        _, headers, _ = await get(url, **{"Accept-Encoding": "gzip"})
        assert headers["Content-Encoding"] == "gzip"
        assert (await get(f"http://127.0.0.1:{process.metrics_port}/readyz"))[0] == 404


async def test_the_same_port_serves_metrics_with_the_webhooks(store: Store) -> None:
    port = free_port()
    process = process_settings(http_port=port, metrics_port=port)
    async with serving(store, Adapter(), process) as servers:
        assert len(servers.runners) == 1
        assert (await get(f"http://127.0.0.1:{port}/metrics"))[0] == 200


def job(**kw: Any) -> Job:
    values: dict[str, Any] = dict(
        id=new_job_id(), platform="discord", user_id="u1", chat_id="g1", locale="en",
        task_type=TaskType.TEXT_TO_IMAGE, version_id="doubao-seedream-4.5",
        model_id="doubao-seedream-4.5", model_name="SeeDream 4.5", prompt="a cat", params={},
        n=1, credits=5, source=ModelSource.DEFAULT, reply_target={}, created_at=time.time(),
    )  # fmt: skip
    values.update(kw)
    return Job(**values)


async def test_a_scrape_reads_the_database(store: Store) -> None:
    await store.admit(job(created_at=time.time() - 600, credits=25))
    await store.admit(job(user_id="u2", credits=5))
    await store.admit(job(user_id="u3", chat_id="g2", credits=10))
    process = process_settings()
    policy = Policy(user_daily_credits=100)
    adapter = Adapter()
    adapter.connected = False
    async with serving(store, adapter, process, policy):
        _, _, body = await get(f"http://127.0.0.1:{process.metrics_port}/metrics")
    series = scraped(body.decode())
    assert series[("ima_bot_jobs_running", frozenset())] == 3
    assert series[("ima_bot_jobs_waiting", frozenset())] == 0
    assert 600 <= series[("ima_bot_oldest_running_job_seconds", frozenset())] < 900
    assert series[("ima_bot_daily_credits_highest", frozenset({("scope", "user")}))] == 25
    assert series[("ima_bot_daily_credits_highest", frozenset({("scope", "chat")}))] == 30
    assert series[("ima_bot_daily_credits_cap", frozenset({("scope", "user")}))] == 100
    assert ("ima_bot_daily_credits_cap", frozenset({("scope", "chat")})) not in series
    assert series[("ima_bot_adapter_up", frozenset({("platform", "stub")}))] == 0
    assert series[("ima_bot_database_up", frozenset())] == 1
