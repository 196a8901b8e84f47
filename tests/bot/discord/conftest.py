"""A world for the Discord adapter: the fake Discord, the IMA simulator and a bot on SQLite.

The simulator and the engine share one time scale, so a generation takes well under a second
and every expected time, poll and progress interval shrinks alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from sim.app import RunningSimulator, start_simulator
from tests.bot.discord.world import World, world_at
from tests.fakes.discord import FakeDiscord

SCALE = 0.005


@pytest.fixture(autouse=True)
def _restore_discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter points discord.py's class-level REST base and gateway at the fake."""
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with await start_simulator(speed=SCALE, seed=7) as running:
        yield running


@pytest.fixture
async def world(fake: FakeDiscord, sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[World]:
    async with world_at(fake, sim, tmp_path / "bot.db", scale=SCALE) as running:
        yield running
