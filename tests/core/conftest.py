"""The engine against the simulator, on a fresh database, for the engine's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sim.app import start_simulator
from tests.core.test_engine import SCALE, Harness, make_engine


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with await start_simulator(speed=SCALE, seed=11) as sim:
        engine, store = await make_engine(sim, str(tmp_path / "bot.db"))
        yield Harness(sim, engine, store, tmp_path / "bot.db")
        await engine.drain()
        await engine.client.session.close()
        await store.close()
