from collections.abc import AsyncIterator

import aiohttp
import pytest

from sim.app import RunningSimulator, start_simulator
from tests.sim.helpers import HEADERS, Api


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with await start_simulator(speed=0.001, seed=7, slow_seconds=0.3) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=HEADERS) as session:
        yield session


@pytest.fixture
def api(sim: RunningSimulator, http: aiohttp.ClientSession) -> Api:
    return Api(http, sim.base_url)
