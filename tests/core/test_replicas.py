"""Two engines (replicas) on one database: a request one of them stored and never answered."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from core.jobs import Job
from core.leases import Lease
from core.replier import Stage
from core.store import open_store
from sim.app import start_simulator
from tests.core.harness import harness, request
from tests.core.store.test_store_contract import job

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


async def test_a_job_whose_lease_is_lost_while_it_is_shown_asks_nothing_more_here(
    tmp_path: Path,
) -> None:
    """The replica that takes it over shows the result again and asks what follows: the
    question (here "make it your default?") must not be asked by both."""
    db = tmp_path / "bot.db"
    async with (
        await start_simulator(speed=0.001, seed=3) as sim,
        harness(sim, db, replica_id="a", lease_seconds=LEASE) as a,
        harness(sim, db, replica_id="b", lease_seconds=LEASE) as b,
    ):
        await a.say("draw a lighthouse")  # the default is saved as this person's model
        delivered = a.store.mark_delivered

        async def taken_over_first(job_id: str, *, at: float) -> bool:
            await b.store.claim(time.time() + LEASE + 1)  # a stalled: b holds the job now
            return bool(await delivered(job_id, at=at))

        a.store.mark_delivered = taken_over_first
        replier = await a.say("use Nano Banana Pro to draw a lighthouse")
        [message] = replier.messages
        assert message.current.stage is Stage.SUCCESS
        assert all(m.current.stage is not Stage.QUESTION for m in replier.messages)


async def test_a_dead_replicas_jobs_are_looked_for_as_soon_as_its_lease_ends(
    tmp_path: Path,
) -> None:
    """Not up to a renewal interval later: the survivor's look comes just after the lease end."""
    lease = 6.0  # renewals (and the survivor's regular looks) every 2 s
    db = tmp_path / "bot.db"
    async with (
        await start_simulator(speed=0.001, seed=3) as sim,
        harness(sim, db, replica_id="b", lease_seconds=lease) as b,
    ):
        dead = await open_store(str(db), Lease("a", lease))
        claimed_at: list[float] = []
        claim = b.store.claim

        async def recording(now: float, *, previous_life: bool = False) -> list[Job]:
            jobs: list[Job] = await claim(now, previous_life=previous_life)
            if jobs and not previous_life:
                claimed_at.append(time.time())
            return jobs

        b.store.claim = recording
        await b.engine.resume()
        await asyncio.sleep(1.0)  # half-way between b's regular looks (every 2 s)
        await dead.admit(job())  # a admits a job and dies: its lease ends 6 s from now
        admitted = time.time()
        async with asyncio.timeout(15):
            while not claimed_at:  # noqa: ASYNC110 - b's look takes it
                await asyncio.sleep(0.05)
        # A regular look would come 1 s after the lease end; this one comes 0.3 s after it.
        assert lease <= claimed_at[0] - admitted < lease + 0.7, claimed_at[0] - admitted
        await b.engine.drain()
        await dead.close()
