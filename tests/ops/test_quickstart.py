"""The documented quickstart, without Docker: ``cp .env.example .env``, fill in the key and one
platform, ``docker compose up``. Here: the same environment compose gives the container, the
same command, the fakes and the simulator standing in for Discord and IMA."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import yaml

from sim.app import start_simulator
from tests.bot.test_operations import free_port
from tests.fakes.discord import FakeDiscord
from tests.ops.process import ROOT, bare_environment, env_file, ima_bot_run


def compose_service_environment() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {k: str(v) for k, v in compose["services"]["bot"]["environment"].items()}


async def test_the_quickstart_starts_and_stops_cleanly(tmp_path: Path) -> None:
    example = env_file(ROOT / ".env.example")
    # Empty values reach the bot as empty strings, exactly as compose passes them.
    assert example["IMA_POLL_INTERVAL"] == example["USER_DAILY_CREDITS"] == ""
    http_port, metrics_port = free_port(), free_port()
    async with FakeDiscord() as discord, await start_simulator(speed=0.01) as sim:
        env = {**bare_environment(example), **example}
        env.update(  # what the operator fills in: the key and one platform
            IMA_API_KEY="ima_quickstart_key_0123456789",
            DISCORD_TOKEN=discord.token,
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
            IMA_BASE_URL=sim.base_url,  # the simulator stands in for IMA
            IMA_UPLOAD_BASE_URL=sim.base_url,
        )
        env.update(compose_service_environment())  # the compose file's own `environment:`
        env.update(  # where this machine differs from the container: the volume, free ports
            DATABASE_URL=str(tmp_path / "ima-bot.db"),
            HTTP_PORT=str(http_port),
            METRICS_PORT=str(metrics_port),
        )
        async with ima_bot_run(env, tmp_path) as bot:
            await bot.until_ready(http_port)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{http_port}/livez") as resp:
                    assert resp.status == 200
                async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
                    assert "ima_bot_adapter_up" in await resp.text()
            assert await bot.stop() == 0
    log = bot.log
    assert "Traceback" not in log
    assert "stopping" in log
    assert discord.token not in log


def test_compose_works_without_env_and_follows_http_port() -> None:
    bot = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["bot"]
    assert bot["env_file"] == [{"path": ".env", "required": False}]  # `config` before `cp`
    assert bot["ports"] == ["${HTTP_PUBLISH_PORT:-8080}:${HTTP_PORT:-8080}"]
    # The health check is the image's, on the port HTTP_PORT says (empty: not set).
    assert "healthcheck" not in bot
    dockerfile = (ROOT / "Dockerfile").read_text()
    [check] = [line for line in dockerfile.splitlines() if "urlopen" in line]
    assert "os.environ.get('HTTP_PORT') or 8080" in check
    assert "/readyz" in check
