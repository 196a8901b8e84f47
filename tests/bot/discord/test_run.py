"""``ima-bot run`` with DISCORD_TOKEN set: the Discord adapter starts and answers."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from bot.adapters import ADAPTERS
from bot.base import Adapter
from bot.run import run
from bot.settings import RunSettings
from sim.app import RunningSimulator
from tests.bot.discord.conftest import SCALE
from tests.bot.discord.world import PNG_MAGIC, World, finished
from tests.fakes.discord import FakeDiscord
from tests.wiring import settings_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_adapter_fits_ima_bot_run(world: World) -> None:
    # The annotation is the check (mypy): the adapter fits bot.run.
    adapter: Adapter = world.adapter
    assert adapter.name == "discord"
    assert adapter.routes() == []


async def test_ima_bot_run_starts_discord(
    fake: FakeDiscord,
    sim: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of a developer's here
    monkeypatch.setenv("DISCORD_TOKEN", fake.token)
    monkeypatch.setenv("DISCORD_API_BASE", fake.api_base)
    monkeypatch.setenv("DISCORD_GATEWAY_URL", fake.gateway_url)
    settings = settings_for(sim, SCALE)
    process = RunSettings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=str(tmp_path / "bot.db"),
        http_host="127.0.0.1",
        http_port=free_port(),
        metrics_port=free_port(),
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run(settings, process, ADAPTERS, stop))
    await fake.wait_for(lambda: fake.commands(), timeout=10, what="synced commands")
    await fake.wait_for_session(timeout=10)

    interaction = await fake.send_slash_command("image", {"prompt": "a cat"})
    message = await interaction.wait_for_original(finished, timeout=10)
    assert message.attachments[0].data.startswith(PNG_MAGIC)

    stop.set()
    assert await asyncio.wait_for(running, 10) == 0
