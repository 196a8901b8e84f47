"""One contract every Store backend must pass (run against each backend)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.ima.tasks import TaskType
from core.jobs import Job, JobState, ModelSource, new_job_id
from core.store import Admission, Limits, Preference, Store, open_store
from core.store.sqlite import KEEP_SECONDS

DAY = "2026-11-25"


@pytest.fixture(params=["file", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite:///{tmp_path / 'bot.db'}" if request.param == "file" else ":memory:"
    s = await open_store(url)
    yield s
    await s.close()


def job(user: str = "u1", **kw: object) -> Job:
    values: dict[str, object] = {
        "id": new_job_id(),
        "platform": "test",
        "user_id": user,
        "chat_id": "c1",
        "locale": "en",
        "task_type": TaskType.TEXT_TO_IMAGE,
        "version_id": "v",
        "model_name": "Model",
        "prompt": "a cat",
        "params": {"size": "2K"},
        "n": 1,
        "credits": 5,
        "source": ModelSource.DEFAULT,
        "reply_target": {"channel": "c1"},
        "created_at": time.time(),
    }
    values.update(kw)
    return Job(**values)  # type: ignore[arg-type]


async def test_preferences_roundtrip(store: Store) -> None:
    pref = Preference("m", "v", "Model", 5, 1.0)
    assert await store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE) is None
    await store.set_preference("test", "u1", TaskType.TEXT_TO_IMAGE, pref)
    await store.set_preference("test", "u1", TaskType.TEXT_TO_VIDEO, pref)
    assert await store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE) == pref
    newer = Preference("m2", "v2", "Other", 9, 2.0)
    await store.set_preference("test", "u1", TaskType.TEXT_TO_IMAGE, newer)
    assert (await store.list_preferences("test", "u1"))[TaskType.TEXT_TO_IMAGE] == newer
    assert await store.get_preference("other", "u1", TaskType.TEXT_TO_IMAGE) is None
    assert await store.clear_preferences("test", "u1", TaskType.TEXT_TO_VIDEO) == 1
    assert await store.clear_preferences("test", "u1") == 1
    assert await store.list_preferences("test", "u1") == {}


async def test_job_roundtrip_and_update(store: Store) -> None:
    j = job(image_urls=("https://x/1.png",), extra={"k": [1]})
    assert await store.add_job(j, day=DAY) is Admission.OK
    await store.update_job(j.id, state=JobState.RUNNING, ima_task_id="t1", handle="h")
    found = await store.job_by_handle("test", "h")
    assert found is not None
    assert found.id == j.id
    assert await store.job_by_handle("other", "h") is None
    loaded = await store.get_job(j.id)
    assert loaded is not None
    assert loaded.state is JobState.RUNNING
    assert loaded.ima_task_id == "t1"
    assert loaded.image_urls == ("https://x/1.png",)
    assert loaded.params == {"size": "2K"}
    assert loaded.extra == {"k": [1]}
    assert [x.id for x in await store.active_jobs()] == [j.id]
    await store.update_job(j.id, state=JobState.DELIVERED, result_urls=("https://r",))
    assert await store.active_jobs() == []
    with pytest.raises(ValueError, match="cannot update"):
        await store.update_job(j.id, nonsense=1)


async def test_active_limit_is_atomic_under_concurrency(store: Store) -> None:
    limits = Limits(max_active=3)
    results = await asyncio.gather(
        *(store.add_job(job(), day=DAY, limits=limits) for _ in range(20))
    )
    assert results.count(Admission.OK) == 3
    assert results.count(Admission.TOO_MANY) == 17
    assert await store.count_active("test", "u1") == 3
    assert await store.add_job(job(user="u2"), day=DAY, limits=limits) is Admission.OK


async def test_daily_caps_never_overshoot_under_50_concurrent_requests(store: Store) -> None:
    user_cap = Limits(user_daily_credits=100)
    results = await asyncio.gather(
        *(store.add_job(job(credits=7), day=DAY, limits=user_cap) for _ in range(50))
    )
    assert results.count(Admission.OK) == 14  # 14 × 7 = 98 ≤ 100 < 105
    assert sum(r.credits for r in await store.usage(DAY)) == 98
    chat_cap = Limits(chat_daily_credits=20)
    results = await asyncio.gather(
        *(
            store.add_job(job(user=f"x{i}", chat_id="c2", credits=5), day=DAY, limits=chat_cap)
            for i in range(50)
        )
    )
    assert results.count(Admission.OK) == 4
    assert set(results) == {Admission.OK, Admission.CHAT_CAP}
    assert await store.add_job(job(credits=5), day="2026-11-26", limits=user_cap) is Admission.OK


async def test_first_seen_once(store: Store) -> None:
    results = await asyncio.gather(*(store.first_seen("event-1") for _ in range(10)))
    assert results.count(True) == 1
    assert await store.first_seen("event-2")


async def test_usage_ledger_reserve_correct_release(store: Store) -> None:
    j = job(credits=25)
    await store.add_job(j, day=DAY)
    await store.add_job(job(credits=5), day=DAY)
    rows = await store.usage("2026-11-01", platform="test")
    assert sum(r.credits for r in rows) == 30
    assert sum(r.jobs for r in rows) == 2
    await store.set_usage(j.id, 40)
    assert sum(r.credits for r in await store.usage(DAY)) == 45
    await store.release_usage(j.id)
    assert sum(r.credits for r in await store.usage(DAY)) == 5


async def test_log_is_pruned_after_a_week(store: Store) -> None:
    await store.log("j1", "created", {"task": "t"})
    await store.first_seen("old-event")
    await store.prune(time.time() + KEEP_SECONDS + 10)
    assert await store.first_seen("old-event")


async def test_user_state(store: Store) -> None:
    assert await store.get_user_state("test", "u1", "k") is None
    await store.set_user_state("test", "u1", "k", {"a": 1})
    assert await store.get_user_state("test", "u1", "k") == {"a": 1}
    await store.set_user_state("test", "u1", "k", None)
    assert await store.get_user_state("test", "u1", "k") is None


async def test_recent_jobs_newest_first(store: Store) -> None:
    for i in range(3):
        await store.add_job(job(created_at=float(i), prompt=f"p{i}"), day=DAY)
    assert [j.prompt for j in await store.recent_jobs("test", "u1", 2)] == ["p2", "p1"]


async def test_migrations_are_versioned(tmp_path: Path) -> None:
    import sqlite3

    from core.store.migrations import MIGRATIONS

    s = await open_store(str(tmp_path / "v.db"))
    await s.close()
    with sqlite3.connect(tmp_path / "v.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_reopen_keeps_data(tmp_path: Path) -> None:
    url = str(tmp_path / "bot.db")
    first = await open_store(url)
    j = job()
    await first.add_job(j, day=DAY)
    await first.close()
    second = await open_store(url)
    assert (await second.get_job(j.id)) is not None
    assert await second.ping()
    await second.close()
