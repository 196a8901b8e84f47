"""Drill: kill -9 the bot with 200 jobs in flight, restart, and count what users saw."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path

from sim.app import start_simulator

JOBS = 200
SPEED = 0.05  # Wan 2.6 takes 300~420 s in the catalog: 15~21 s here, far longer than admitting 200


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.drills.worker", *args)


def running_jobs(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            query = "SELECT COUNT(*) FROM jobs WHERE state = 'running'"
            return int(conn.execute(query).fetchone()[0])
    except sqlite3.OperationalError:  # the worker is still creating the tables
        return 0


async def test_kill9_with_200_jobs_in_flight(tmp_path: Path) -> None:
    db, out = tmp_path / "bot.db", tmp_path / "replies.jsonl"
    async with await start_simulator(speed=SPEED, seed=99) as sim:
        common = ["--db", str(db), "--sim", sim.base_url, "--out", str(out), "--scale", str(SPEED)]
        first = await spawn(*common, "--jobs", str(JOBS))
        for _ in range(600):
            if db.exists() and running_jobs(db) == JOBS:
                break
            await asyncio.sleep(0.05)
        assert running_jobs(db) == JOBS
        first.send_signal(signal.SIGKILL)
        await first.wait()
        before = [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]
        assert not [e for e in before if e["stage"] == "success"]

        second = await spawn(*common, "--resume")
        assert await asyncio.wait_for(second.wait(), 120) == 0

        entries = [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]
        successes = Counter(e["user"] for e in entries if e["stage"] == "success")
        assert len(successes) == JOBS
        assert set(successes.values()) == {1}  # each delivered exactly once
        assert len(sim.state.calls("create")) == JOBS  # no task created twice
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            states = dict(
                conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
            )
        assert states == {"delivered": JOBS}
