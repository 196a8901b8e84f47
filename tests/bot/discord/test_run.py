"""``ima-bot run`` with DISCORD_TOKEN set: the Discord adapter starts and answers."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from bot.base import Adapter
from bot.discord.adapter import build_discord_adapter
from bot.run import AdapterBuilder, run
from core.settings import Settings
from sim.app import RunningSimulator
from tests.bot.discord.conftest import SCALE
from tests.bot.discord.world import PNG_MAGIC, World, finished
from tests.fakes.discord import FakeDiscord


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_adapter_fits_ima_bot_run(world: World) -> None:
    # The annotations are the check (mypy): the builder and the adapter fit bot.run.
    builders: list[AdapterBuilder] = [build_discord_adapter]
    adapter: Adapter = world.adapter
    assert len(builders) == 1
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
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        ima_api_key="ima_discord_run_key",  # type: ignore[arg-type]
        ima_base_url=sim.base_url,
        ima_upload_base_url=sim.base_url,
        database_url=str(tmp_path / "bot.db"),
        http_host="127.0.0.1",
        http_port=free_port(),
        time_scale=SCALE,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run(settings, [build_discord_adapter], stop))
    await fake.wait_for(lambda: fake.commands(), timeout=10, what="synced commands")
    await fake.wait_for_session(timeout=10)

    interaction = await fake.send_slash_command("image", {"prompt": "a cat"})
    message = await interaction.wait_for_original(finished, timeout=10)
    assert message.attachments[0].data.startswith(PNG_MAGIC)

    stop.set()
    assert await asyncio.wait_for(running, 10) == 0
