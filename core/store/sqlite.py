"""SQLite through aiosqlite: WAL, versioned migrations, one connection, serialised writes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from core.ima.tasks import TaskType
from core.jobs import Job, JobState, ModelSource
from core.store.base import NO_LIMITS, Admission, Limits, Preference, UsageRow
from core.store.migrations import MIGRATIONS

#: Processed-event keys must outlive Feishu's last redelivery (6 h after the first); the
#: generation log is kept a week, as the spec's script keeps its logs.
KEEP_SECONDS = 7 * 24 * 3600

_JSON_COLUMNS = {"params", "reply_target", "image_urls", "result_urls", "result_covers", "extra"}
_JOB_COLUMNS = (
    "id", "platform", "user_id", "chat_id", "locale", "task_type", "version_id", "model_name",
    "prompt", "params", "n", "credits", "source", "reply_target", "image_urls", "state",
    "ima_task_id", "handle", "created_at", "started_at", "finished_at", "error_kind",
    "result_urls", "result_covers", "extra",
)  # fmt: skip


def database_path(url: str) -> str:
    """``sqlite:///data/bot.db`` or a plain path → the file path (``:memory:`` kept)."""
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


def _encode(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS:
        return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    if isinstance(value, (TaskType, JobState, ModelSource)):
        return value.value
    return value


def _job(row: aiosqlite.Row) -> Job:
    data = {c: row[c] for c in _JOB_COLUMNS}
    for column in _JSON_COLUMNS:
        data[column] = json.loads(data[column])
    return Job(
        **{
            **data,
            "task_type": TaskType(data["task_type"]),
            "state": JobState(data["state"]),
            "source": ModelSource(data["source"]),
            "image_urls": tuple(data["image_urls"]),
            "result_urls": tuple(data["result_urls"]),
            "result_covers": tuple(data["result_covers"]),
        }
    )


class SQLiteStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._write = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> SQLiteStore:
        path = database_path(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db)
        await store._migrate()
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # One script, one transaction: a migration is applied whole or not at all.
            await self._db.executescript(
                f"BEGIN IMMEDIATE;{script};PRAGMA user_version = {number};COMMIT;"
            )

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One writer at a time; BEGIN IMMEDIATE so check-then-insert is atomic."""
        async with self._write:
            if not self._db.in_transaction:
                await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.rollback()
                raise
            else:
                await self._db.commit()

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> bool:
        try:
            async with self._db.execute("SELECT 1") as cursor:
                return (await cursor.fetchone()) is not None
        except (aiosqlite.Error, ValueError):
            return False

    # ── preferences ───────────────────────────────────────────────────────────────────────

    async def get_preference(
        self, platform: str, user_id: str, task_type: TaskType
    ) -> Preference | None:
        async with self._db.execute(
            "SELECT model_id, version_id, model_name, credit, updated_at FROM preferences "
            "WHERE platform = ? AND user_id = ? AND task_type = ?",
            (platform, user_id, task_type.value),
        ) as cursor:
            row = await cursor.fetchone()
        return Preference(*row) if row else None

    async def set_preference(
        self, platform: str, user_id: str, task_type: TaskType, pref: Preference
    ) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO preferences VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, user_id, task_type) DO UPDATE SET "
                "model_id = excluded.model_id, version_id = excluded.version_id, "
                "model_name = excluded.model_name, credit = excluded.credit, "
                "updated_at = excluded.updated_at",
                (platform, user_id, task_type.value, pref.model_id, pref.version_id,
                 pref.model_name, pref.credit, pref.updated_at),
            )  # fmt: skip

    async def clear_preferences(
        self, platform: str, user_id: str, task_type: TaskType | None = None
    ) -> int:
        query = "DELETE FROM preferences WHERE platform = ? AND user_id = ?"
        args: tuple[str, ...] = (platform, user_id)
        if task_type is not None:
            query += " AND task_type = ?"
            args += (task_type.value,)
        async with self._transaction() as db:
            cursor = await db.execute(query, args)
            return cursor.rowcount

    async def list_preferences(self, platform: str, user_id: str) -> dict[TaskType, Preference]:
        async with self._db.execute(
            "SELECT task_type, model_id, version_id, model_name, credit, updated_at "
            "FROM preferences WHERE platform = ? AND user_id = ? ORDER BY task_type",
            (platform, user_id),
        ) as cursor:
            rows = await cursor.fetchall()
        return {TaskType(r[0]): Preference(*r[1:]) for r in rows}

    # ── user state ────────────────────────────────────────────────────────────────────────

    async def get_user_state(self, platform: str, user_id: str, key: str) -> Any | None:
        async with self._db.execute(
            "SELECT value FROM user_state WHERE platform = ? AND user_id = ? AND key = ?",
            (platform, user_id, key),
        ) as cursor:
            row = await cursor.fetchone()
        return json.loads(row[0]) if row else None

    async def set_user_state(
        self, platform: str, user_id: str, key: str, value: Any | None
    ) -> None:
        async with self._transaction() as db:
            if value is None:
                await db.execute(
                    "DELETE FROM user_state WHERE platform = ? AND user_id = ? AND key = ?",
                    (platform, user_id, key),
                )
            else:
                await db.execute(
                    "INSERT OR REPLACE INTO user_state VALUES (?, ?, ?, ?, ?)",
                    (platform, user_id, key, json.dumps(value, ensure_ascii=False), time.time()),
                )

    # ── jobs ──────────────────────────────────────────────────────────────────────────────

    async def add_job(self, job: Job, *, day: str, limits: Limits = NO_LIMITS) -> Admission:
        async with self._transaction() as db:
            if limits.max_active is not None:
                active = await self._scalar(
                    "SELECT COUNT(*) FROM jobs WHERE platform = ? AND user_id = ? "
                    "AND state IN ('accepted', 'running')",
                    (job.platform, job.user_id),
                )
                if active >= limits.max_active:
                    return Admission.TOO_MANY
            caps = (
                (limits.user_daily_credits, "user_id", job.user_id, Admission.USER_CAP),
                (limits.chat_daily_credits, "chat_id", job.chat_id, Admission.CHAT_CAP),
            )
            for cap, column, value, refusal in caps:
                if cap is None:
                    continue
                spent = await self._scalar(
                    "SELECT COALESCE(SUM(credits), 0) FROM usage "  # noqa: S608 - fixed names
                    f"WHERE day = ? AND platform = ? AND {column} = ?",
                    (day, job.platform, value),
                )
                if spent + job.credits > cap:
                    return refusal
            values = [_encode(c, getattr(job, c)) for c in _JOB_COLUMNS]
            await db.execute(
                f"INSERT INTO jobs ({', '.join(_JOB_COLUMNS)}) "  # noqa: S608 - fixed names
                f"VALUES ({', '.join('?' for _ in _JOB_COLUMNS)})",
                values,
            )
            await db.execute(
                "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job.id, day, job.platform, job.user_id, job.chat_id, job.model_name, job.credits),
            )
            return Admission.OK

    async def _scalar(self, query: str, args: tuple[Any, ...]) -> int:
        async with self._db.execute(query, args) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def update_job(self, job_id: str, **fields: Any) -> None:
        unknown = set(fields) - set(_JOB_COLUMNS)
        if unknown or "id" in fields:
            raise ValueError(f"cannot update job columns {sorted(unknown | {'id'} & set(fields))}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        async with self._transaction() as db:
            await db.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ?",  # noqa: S608 - checked names
                [*(_encode(k, v) for k, v in fields.items()), job_id],
            )

    async def get_job(self, job_id: str) -> Job | None:
        async with self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)) as cursor:
            row = await cursor.fetchone()
        return _job(row) if row else None

    async def job_by_handle(self, platform: str, handle: str) -> Job | None:
        async with self._db.execute(
            "SELECT * FROM jobs WHERE platform = ? AND handle = ? ORDER BY created_at DESC LIMIT 1",
            (platform, handle),
        ) as cursor:
            row = await cursor.fetchone()
        return _job(row) if row else None

    async def active_jobs(self) -> list[Job]:
        async with self._db.execute(
            "SELECT * FROM jobs WHERE state IN ('accepted', 'running') ORDER BY created_at"
        ) as cursor:
            return [_job(r) for r in await cursor.fetchall()]

    async def count_active(self, platform: str, user_id: str) -> int:
        return await self._scalar(
            "SELECT COUNT(*) FROM jobs WHERE platform = ? AND user_id = ? "
            "AND state IN ('accepted', 'running')",
            (platform, user_id),
        )

    async def recent_jobs(self, platform: str, user_id: str, limit: int = 10) -> list[Job]:
        async with self._db.execute(
            "SELECT * FROM jobs WHERE platform = ? AND user_id = ? "
            "ORDER BY created_at DESC LIMIT ?",
            (platform, user_id, limit),
        ) as cursor:
            return [_job(r) for r in await cursor.fetchall()]

    # ── events, usage, log ────────────────────────────────────────────────────────────────

    async def first_seen(self, key: str) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO processed_events VALUES (?, ?)", (key, time.time())
            )
            return cursor.rowcount == 1

    async def set_usage(self, job_id: str, credits: int) -> None:
        async with self._transaction() as db:
            await db.execute("UPDATE usage SET credits = ? WHERE job_id = ?", (credits, job_id))

    async def release_usage(self, job_id: str) -> None:
        async with self._transaction() as db:
            await db.execute("DELETE FROM usage WHERE job_id = ?", (job_id,))

    async def usage(
        self, since_day: str, *, platform: str | None = None, user_id: str | None = None
    ) -> Sequence[UsageRow]:
        query = (
            "SELECT day, platform, user_id, chat_id, model_name, COUNT(*), SUM(credits) "
            "FROM usage WHERE day >= ?"
        )
        args: list[Any] = [since_day]
        if platform is not None:
            query += " AND platform = ?"
            args.append(platform)
        if user_id is not None:
            query += " AND user_id = ?"
            args.append(user_id)
        query += " GROUP BY day, platform, user_id, chat_id, model_name ORDER BY day, platform"
        async with self._db.execute(query, args) as cursor:
            return [UsageRow(*r) for r in await cursor.fetchall()]

    async def log(self, job_id: str, step: str, detail: Mapping[str, Any] | None = None) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO generation_log (at, job_id, step, detail) VALUES (?, ?, ?, ?)",
                (time.time(), job_id, step, json.dumps(dict(detail or {}), ensure_ascii=False)),
            )

    async def prune(self, now: float) -> None:
        cutoff = now - KEEP_SECONDS
        async with self._transaction() as db:
            await db.execute("DELETE FROM generation_log WHERE at < ?", (cutoff,))
            await db.execute("DELETE FROM processed_events WHERE seen_at < ?", (cutoff,))


async def open_store(url: str) -> SQLiteStore:
    return await SQLiteStore.open(url)
