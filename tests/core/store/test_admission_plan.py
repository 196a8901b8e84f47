"""Admission reads no whole table: 5,000 admissions took 23 s when each scanned every job."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.jobs import JobState
from core.store import open_store
from core.store.sql import _HOLDING_SQL, _WAITING_SELECT


async def test_admissions_read_the_queue_and_the_slots_through_indexes(tmp_path: Path) -> None:
    await (await open_store(f"sqlite:///{tmp_path / 'bot.db'}")).close()
    queries = (
        (f"SELECT {_WAITING_SELECT} FROM jobs WHERE state = ? ORDER BY created_at, id",  # noqa: S608
         (JobState.QUEUED.value,)),
        (f"SELECT COUNT(*) FROM jobs WHERE state IN {_HOLDING_SQL}", ()),  # noqa: S608
        (f"SELECT COUNT(*) FROM jobs WHERE state IN {_HOLDING_SQL} "  # noqa: S608
         "AND platform = ? AND chat_id = ?", ("test", "c1")),
    )  # fmt: skip
    with sqlite3.connect(tmp_path / "bot.db") as db:
        for query, args in queries:
            plan = " ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {query}", args))
            assert "SCAN" not in plan, (query, plan)
            assert "TEMP B-TREE" not in plan, (query, plan)
