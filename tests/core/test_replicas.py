"""Two engines (replicas) on one database: a request one of them stored and never answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.replier import Stage
from sim.app import start_simulator
from tests.core.harness import harness, request

LEASE = 0.6


async def test_a_request_a_dead_replica_stored_is_answered_once_by_another(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bot.db"
    async with (
        await start_simulator(speed=0.001, seed=3) as sim,
        harness(sim, db, replica_id="a", lease_seconds=LEASE) as a,
        harness(sim, db, replica_id="b", lease_seconds=LEASE) as b,
    ):
        await b.engine.resume()  # b is up and looks after the others' work from now on
        stored = request("draw a lighthouse", user="p1")
        # a stores the request (and would acknowledge it), then dies before answering it.
        assert await a.store.receive(stored.key, stored.to_json(), expires_at=None)
        await asyncio.sleep(LEASE / 2)
        assert "p1" not in b.rebuilt  # a's lease still runs: b leaves it alone

        def answered() -> bool:
            replier = b.rebuilt.get("p1")
            return replier is not None and any(
                m.current.stage is Stage.SUCCESS for m in replier.messages
            )

        async with asyncio.timeout(10):
            while not answered():  # noqa: ASYNC110 - b's next round takes it
                await asyncio.sleep(0.05)
        await b.engine.drain()
        assert len(b.rebuilt["p1"].messages) == 1
        assert len(b.creates) == 1
        assert await a.engine.resume() == 0  # a restarted: nothing of it is left to answer
        await a.engine.drain()
        assert "p1" not in a.rebuilt
        assert len(a.creates) == 1
