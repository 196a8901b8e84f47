"""The engine against the simulator, on a fresh database, for the engine's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sim.app import start_simulator
from tests.core.harness import SCALE, Harness, harness


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        await start_simulator(speed=SCALE, seed=11) as sim,
        harness(sim, tmp_path / "bot.db") as running,
    ):
        yield running
