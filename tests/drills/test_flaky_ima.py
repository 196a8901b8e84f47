"""Drill: IMA answers 429, 500 or drops the connection on 20 % of polls; every job completes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.replier import Stage
from sim.app import start_simulator
from tests.core.harness import harness
from tests.recording import RecordingReplier


async def test_every_job_completes_through_flaky_polls(tmp_path: Path) -> None:
    async with (
        # Slow enough that retries and back-off fit a loaded machine's time budget.
        await start_simulator(speed=0.01, seed=20) as sim,
        harness(sim, tmp_path / "bot.db", scale=0.01) as h,
    ):
        sim.state.faults.rates = {"detail": {"429": 0.07, "500": 0.07, "reset": 0.06}}
        repliers = [RecordingReplier() for _ in range(100)]
        kinds = ["draw a cat", "a video of rain", "a calm piano song"]
        await asyncio.gather(
            *(
                h.say(f"{kinds[i % 3]} {i}", user=f"u{i}", replier=r, wait=False)
                for i, r in enumerate(repliers)
            )
        )
        await h.engine.drain()
        assert [r.messages[0].current.stage for r in repliers] == [Stage.SUCCESS] * 100
        applied = [f for endpoint, f in sim.state.faults.applied if endpoint == "detail"]
        assert len(applied) >= 20  # the faults really happened
        assert len(sim.state.calls("create")) == 100
