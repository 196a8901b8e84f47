"""SQLite through aiosqlite: WAL, versioned migrations, one connection, serialised writes."""

from __future__ import annotations

import asyncio
import errno
import functools
import inspect
import json
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from core.ima.tasks import TaskType
from core.jobs import ACTIVE, Job, JobState, ModelSource
from core.limits import Caps
from core.replier import Handle, expiry, scrub, scrub_handle
from core.store.base import (
    NO_LIMITS,
    Admission,
    FailureRow,
    Limits,
    Preference,
    StoreError,
    UsageRow,
)
from core.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

#: Request and press keys must outlive Feishu's last redelivery (6 h after the first); the
#: generation log is kept a week, as the spec's script keeps its logs.
KEEP_SECONDS = 7 * 24 * 3600

_JSON_COLUMNS = {"params", "reply_target", "image_urls", "attachments", "result_urls",
                 "result_covers", "wants"}  # fmt: skip
_JOB_COLUMNS = (
    "id", "platform", "user_id", "chat_id", "locale", "task_type", "version_id", "model_id",
    "model_name", "prompt", "params", "n", "credits", "source", "reply_target", "image_urls",
    "attachments", "state", "ima_task_id", "handle", "created_at", "started_at", "finished_at",
    "error_kind", "result_urls", "result_covers", "origin_id", "wants",
)  # fmt: skip
_ACTIVE_SQL = "(" + ", ".join(f"'{s.value}'" for s in sorted(ACTIVE)) + ")"


def database_path(url: str) -> str:
    """``sqlite:///data/bot.db`` or a plain path → the file path (``:memory:`` kept)."""
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


def _encode(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS:
        return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    if column == "handle":
        return value.dumps() if value is not None else None
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
            "attachments": tuple(data["attachments"]),
            "result_urls": tuple(data["result_urls"]),
            "result_covers": tuple(data["result_covers"]),
            "handle": Handle.loads(data["handle"]) if data["handle"] else None,
        }
    )


def _openable(path: str) -> None:
    """Raise what opening ``path`` for writing raises (see :meth:`SQLiteStore.open`): the
    system's own words first ("read-only file system"), which sqlite's don't give."""
    if path == ":memory:":
        return
    if Path(path).is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    sqlite3.connect(path).close()


def _cause(error: Exception) -> str:
    """What went wrong, in sqlite's or the system's words ("database or disk is full")."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


_Method = TypeVar("_Method", bound=Callable[..., Coroutine[Any, Any, Any]])


def _refusals_named(method: _Method) -> _Method:
    """sqlite3's errors out of ``method`` become :class:`StoreError`; the first of an outage
    is logged (see :meth:`SQLiteStore._failed`)."""

    @functools.wraps(method)
    async def named(self: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    return named  # type: ignore[return-value]


_Class = TypeVar("_Class", bound=type)


def _naming_refusals(cls: _Class) -> _Class:
    """Every public coroutine method of ``cls`` through :func:`_refusals_named` (but
    ``ping``, which answers False instead)."""
    for name, method in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(method) and name != "ping":
            setattr(cls, name, _refusals_named(method))
    return cls


@_naming_refusals
class SQLiteStore:
    """Every public method raises :class:`StoreError` when the database refuses, never
    sqlite3's own errors (see :func:`_naming_refusals`)."""

    def __init__(self, db: aiosqlite.Connection, path: str = ":memory:") -> None:
        self._db = db
        self._path = path
        self._write = asyncio.Lock()
        #: The cause of the failure being logged (None while the database works).
        self._outage: str | None = None

    @classmethod
    async def open(cls, url: str) -> SQLiteStore:
        """Open, migrate and try a write; :class:`StoreError` when the file can't be used (a
        directory, not a database, read-only), with nothing left running."""
        path = database_path(url)
        try:
            # First with plain sqlite3: when aiosqlite's connect fails, its worker thread
            # outlives the event loop and prints a traceback at exit.
            await asyncio.to_thread(_openable, path)
            db = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"The database {path} can't be opened: {_cause(exc)}.") from None
        store = cls(db, path)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA busy_timeout=5000")
            await store._migrate()
            await store._probe()
        except sqlite3.Error as exc:
            await db.close()  # else its thread keeps the process alive
            raise StoreError(f"The database {path} can't be used: {_cause(exc)}.") from None
        return store

    def _failed(self, error: sqlite3.Error) -> StoreError:
        """The error for a refused call; its cause is logged once until a write works again."""
        cause = _cause(error)
        if cause != self._outage:
            self._outage = cause
            log.error("the database %s can't be used: %s", self._path, cause)
        return StoreError(f"The database {self._path} can't be used: {cause}.")

    def _works(self) -> None:
        if self._outage is not None:
            self._outage = None
            log.warning("the database %s works again", self._path)

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
                if self._db.in_transaction:
                    await self._db.rollback()
                raise
            else:
                await self._db.commit()
                self._works()

    async def _changed(self, query: str, args: Sequence[Any]) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(query, args)
            return cursor.rowcount > 0

    async def _scalar(self, query: str, args: Sequence[Any]) -> int:
        async with self._db.execute(query, args) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> bool:
        try:
            await self._probe()
        except sqlite3.Error as exc:
            self._failed(exc)
            return False
        except ValueError:  # closed
            return False
        return True

    async def _probe(self) -> None:
        """A real write: a full, locked or read-only database fails it."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO user_state VALUES ('', '', 'health', '1', ?)",
                (time.time(),),
            )

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
        known = {t.value for t in TaskType}
        return {TaskType(r[0]): Preference(*r[1:]) for r in rows if r[0] in known}

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

    # ── requests and presses ──────────────────────────────────────────────────────────────

    async def receive(
        self, key: str, request: Mapping[str, Any], *, expires_at: float | None
    ) -> bool:
        return await self._changed(
            "INSERT OR IGNORE INTO requests (key, body, received_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (key, json.dumps(request, ensure_ascii=False), time.time(), expires_at),
        )

    async def finish_request(self, key: str) -> None:
        await self._changed(
            "UPDATE requests SET finished_at = ? WHERE key = ? AND finished_at IS NULL",
            (time.time(), key),
        )

    async def unfinished_requests(self, since: float) -> list[Mapping[str, Any]]:
        async with self._db.execute(
            "SELECT body FROM requests WHERE finished_at IS NULL AND received_at >= ? "
            "ORDER BY received_at",
            (since,),
        ) as cursor:
            return [json.loads(r[0]) for r in await cursor.fetchall()]

    async def first_seen(self, key: str) -> bool:
        return await self._changed(
            "INSERT OR IGNORE INTO processed_events VALUES (?, ?)", (key, time.time())
        )

    # ── jobs ──────────────────────────────────────────────────────────────────────────────

    async def admit(
        self, job: Job, *, day: str, limits: Limits = NO_LIMITS, request_key: str | None = None
    ) -> Admission:
        async with self._transaction() as db:
            refusal = await self._over_limits(job, job.credits, day, limits, count_self=False)
            if refusal is not None:
                return refusal
            values = [_encode(c, getattr(job, c)) for c in _JOB_COLUMNS]
            await db.execute(
                f"INSERT INTO jobs ({', '.join(_JOB_COLUMNS)}, expires_at) "  # noqa: S608
                f"VALUES ({', '.join('?' for _ in _JOB_COLUMNS)}, ?)",
                [*values, expiry(job.reply_target)],
            )
            await db.execute(
                "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job.id, day, job.platform, job.user_id, job.chat_id, job.model_name, job.credits),
            )
            if request_key is not None:
                await db.execute(
                    "UPDATE requests SET finished_at = ? WHERE key = ?", (time.time(), request_key)
                )
            return Admission.OK

    async def _over_limits(
        self, job: Job, credits: int, day: str, limits: Limits, *, count_self: bool
    ) -> Admission | None:
        """Which limit ``job`` at ``credits`` would break; ``count_self``: it is stored
        already (a reprice), so its own running slot and reserved credits are not counted."""
        if limits.max_active is not None and not count_self:
            active = await self._scalar(
                "SELECT COUNT(*) FROM jobs WHERE platform = ? AND user_id = ? "  # noqa: S608
                f"AND state IN {_ACTIVE_SQL}",
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
                f"WHERE day = ? AND platform = ? AND {column} = ? AND job_id != ?",
                (day, job.platform, value, job.id),
            )
            if spent + credits > cap:
                return refusal
        return None

    async def _move(
        self, job_id: str, sources: Sequence[JobState], target: JobState, **fields: Any
    ) -> bool:
        """One conditional transition: ``sources`` → ``target`` with ``fields`` set."""
        sets = ", ".join(["state = ?", *(f"{name} = ?" for name in fields)])
        marks = ", ".join("?" for _ in sources)
        return await self._changed(
            f"UPDATE jobs SET {sets} WHERE id = ? AND state IN ({marks})",  # noqa: S608
            [target.value, *(_encode(k, v) for k, v in fields.items()), job_id,
             *(s.value for s in sources)],
        )  # fmt: skip

    async def mark_creating(self, job_id: str) -> bool:
        return await self._move(job_id, (JobState.ACCEPTED,), JobState.CREATING)

    async def mark_not_sent(self, job_id: str) -> bool:
        return await self._move(job_id, (JobState.CREATING,), JobState.ACCEPTED)

    async def mark_running(
        self, job_id: str, *, task_id: str, started_at: float, credits: int
    ) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE jobs SET state = ?, ima_task_id = ?, started_at = ?, credits = ? "
                "WHERE id = ? AND state = ?",
                (JobState.RUNNING.value, task_id, started_at, credits, job_id,
                 JobState.CREATING.value),
            )  # fmt: skip
            if cursor.rowcount == 0:
                return False
            await db.execute("UPDATE usage SET credits = ? WHERE job_id = ?", (credits, job_id))
            return True

    async def reprice(self, job_id: str, credits: int, *, day: str, limits: Limits) -> Admission:
        async with self._transaction() as db:
            job = await self.get_job(job_id)
            if job is None or job.state not in (JobState.ACCEPTED, JobState.CREATING):
                return Admission.OK
            refusal = await self._over_limits(job, credits, day, limits, count_self=True)
            if refusal is not None:
                return refusal
            await db.execute("UPDATE jobs SET credits = ? WHERE id = ?", (credits, job_id))
            await db.execute("UPDATE usage SET credits = ? WHERE job_id = ?", (credits, job_id))
            return Admission.OK

    async def mark_delivering(
        self, job_id: str, *, result_urls: Sequence[str], result_covers: Sequence[str | None]
    ) -> bool:
        return await self._move(
            job_id,
            (JobState.RUNNING, JobState.DELIVERING),
            JobState.DELIVERING,
            result_urls=tuple(result_urls),
            result_covers=tuple(result_covers),
        )

    async def mark_delivered(self, job_id: str, *, at: float) -> bool:
        return await self._move(job_id, (JobState.DELIVERING,), JobState.DELIVERED, finished_at=at)

    async def mark_failed(self, job_id: str, *, error_kind: str, at: float, release: bool) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                f"UPDATE jobs SET state = ?, error_kind = ?, finished_at = ? "  # noqa: S608
                f"WHERE id = ? AND state IN {_ACTIVE_SQL}",
                (JobState.FAILED.value, error_kind, at, job_id),
            )
            if cursor.rowcount == 0:
                return False
            if release:
                await db.execute("DELETE FROM usage WHERE job_id = ?", (job_id,))
            return True

    async def mark_cancelled(self, job_id: str, *, at: float) -> bool:
        async with self._transaction() as db:
            job = await self.get_job(job_id)
            if job is None or not job.state.active:
                return False
            await db.execute(
                "UPDATE jobs SET state = ?, finished_at = ? WHERE id = ?",
                (JobState.CANCELLED.value, at, job_id),
            )
            if job.state is JobState.ACCEPTED:  # never sent: nothing was charged
                await db.execute("DELETE FROM usage WHERE job_id = ?", (job_id,))
            return True

    async def set_handle(self, job_id: str, handle: Handle, *, expires_at: float | None) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE jobs SET handle = ?, expires_at = ? WHERE id = ?",
                (handle.dumps(), expires_at, job_id),
            )
            platform = await self._scalar_text("SELECT platform FROM jobs WHERE id = ?", (job_id,))
            now = time.time()
            await db.executemany(
                "INSERT OR REPLACE INTO job_messages VALUES (?, ?, ?, ?)",
                [(platform, message_id, job_id, now) for message_id in handle.message_ids],
            )

    async def _scalar_text(self, query: str, args: Sequence[Any]) -> str:
        async with self._db.execute(query, args) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else ""

    async def set_inputs(self, job_id: str, image_urls: Sequence[str]) -> None:
        await self._changed(
            "UPDATE jobs SET image_urls = ?, attachments = '[]' WHERE id = ?",
            (json.dumps(list(image_urls)), job_id),
        )

    async def get_job(self, job_id: str) -> Job | None:
        async with self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)) as cursor:
            row = await cursor.fetchone()
        return _job(row) if row else None

    async def job_state(self, job_id: str) -> str | None:
        return await self._scalar_text("SELECT state FROM jobs WHERE id = ?", (job_id,)) or None

    async def job_for_message(self, platform: str, message_id: str) -> Job | None:
        async with self._db.execute(
            "SELECT jobs.* FROM job_messages JOIN jobs ON jobs.id = job_messages.job_id "
            "WHERE job_messages.platform = ? AND job_messages.message_id = ?",
            (platform, message_id),
        ) as cursor:
            row = await cursor.fetchone()
        return _job(row) if row else None

    async def active_jobs(self) -> list[Job]:
        async with self._db.execute(
            f"SELECT * FROM jobs WHERE state IN {_ACTIVE_SQL} ORDER BY created_at"  # noqa: S608
        ) as cursor:
            return [_job(r) for r in await cursor.fetchall()]

    async def count_active(self, platform: str, user_id: str) -> int:
        return await self._scalar(
            "SELECT COUNT(*) FROM jobs WHERE platform = ? AND user_id = ? "  # noqa: S608
            f"AND state IN {_ACTIVE_SQL}",
            (platform, user_id),
        )

    async def recent_jobs(
        self, platform: str, user_id: str, limit: int = 10, *, chat_id: str | None = None
    ) -> list[Job]:
        query = "SELECT * FROM jobs WHERE platform = ? AND user_id = ?"
        args: list[Any] = [platform, user_id]
        if chat_id is not None:
            query += " AND chat_id = ?"
            args.append(chat_id)
        query += " ORDER BY created_at DESC LIMIT ?"
        async with self._db.execute(query, [*args, limit]) as cursor:
            return [_job(r) for r in await cursor.fetchall()]

    # ── caps ──────────────────────────────────────────────────────────────────────────────

    async def chat_caps(self, platform: str, chat_id: str) -> Caps | None:
        async with self._db.execute(
            "SELECT caps FROM chat_caps WHERE platform = ? AND chat_id = ?", (platform, chat_id)
        ) as cursor:
            row = await cursor.fetchone()
        return Caps.from_json(json.loads(row[0])) if row else None

    async def set_chat_caps(self, platform: str, chat_id: str, caps: Caps | None) -> bool:
        if caps is None:
            return await self._changed(
                "DELETE FROM chat_caps WHERE platform = ? AND chat_id = ?", (platform, chat_id)
            )
        return await self._changed(
            "INSERT OR REPLACE INTO chat_caps VALUES (?, ?, ?, ?)",
            (platform, chat_id, json.dumps(caps.to_json()), time.time()),
        )

    async def all_chat_caps(self) -> dict[tuple[str, str], Caps]:
        async with self._db.execute(
            "SELECT platform, chat_id, caps FROM chat_caps ORDER BY platform, chat_id"
        ) as cursor:
            rows = await cursor.fetchall()
        return {(r[0], r[1]): Caps.from_json(json.loads(r[2])) for r in rows}

    # ── usage ─────────────────────────────────────────────────────────────────────────────

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

    async def spent(
        self, day: str, platform: str, *, user_id: str | None = None, chat_id: str | None = None
    ) -> int:
        query = "SELECT COALESCE(SUM(credits), 0) FROM usage WHERE day = ? AND platform = ?"
        args: list[Any] = [day, platform]
        if user_id is not None:
            query += " AND user_id = ?"
            args.append(user_id)
        if chat_id is not None:
            query += " AND chat_id = ?"
            args.append(chat_id)
        return await self._scalar(query, args)

    async def recent_failures(self, since: float, limit: int | None = 50) -> list[FailureRow]:
        query = (
            "SELECT j.id, j.finished_at, j.platform, j.user_id, j.chat_id, j.model_name, "
            "j.error_kind, (SELECT g.detail FROM generation_log g WHERE g.job_id = j.id "
            "AND g.step = 'failed' ORDER BY g.id DESC LIMIT 1) "
            "FROM jobs j WHERE j.state = 'failed' AND j.finished_at >= ? "
            "ORDER BY j.finished_at DESC, j.id"
        )
        args: list[Any] = [since]
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        async with self._db.execute(query, args) as cursor:
            rows = await cursor.fetchall()
        failures = []
        for job_id, at, platform, user_id, chat_id, model, kind, logged in rows:
            told = json.loads(logged) if logged else {}
            failures.append(
                FailureRow(job_id, at, platform, user_id, chat_id, model, kind or "unknown",
                           told.get("reason"), told.get("detail"))
            )  # fmt: skip
        return failures

    # ── log and housekeeping ──────────────────────────────────────────────────────────────

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
            await db.execute("DELETE FROM requests WHERE received_at < ?", (cutoff,))

    async def scrub(self, now: float) -> int:
        changed = 0
        async with self._transaction() as db:
            async with db.execute(
                "SELECT id, reply_target, handle FROM jobs WHERE expires_at <= ?", (now,)
            ) as cursor:
                jobs = await cursor.fetchall()
            for job_id, target_text, handle_text in jobs:
                target = scrub(json.loads(target_text), now)
                handle = scrub_handle(Handle.loads(handle_text), now) if handle_text else None
                times = [t for t in (expiry(target), handle and expiry(handle)) if t]
                await db.execute(
                    "UPDATE jobs SET reply_target = ?, handle = ?, expires_at = ? WHERE id = ?",
                    (json.dumps(target, ensure_ascii=False), handle.dumps() if handle else None,
                     min(times) if times else None, job_id),
                )  # fmt: skip
                changed += 1
            async with db.execute(
                "SELECT key, body FROM requests WHERE expires_at <= ?", (now,)
            ) as cursor:
                requests = await cursor.fetchall()
            for key, body in requests:
                request = json.loads(body)
                request["reply_target"] = scrub(request.get("reply_target") or {}, now)
                await db.execute(
                    "UPDATE requests SET body = ?, expires_at = ? WHERE key = ?",
                    (json.dumps(request, ensure_ascii=False), expiry(request["reply_target"]),
                     key),
                )  # fmt: skip
                changed += 1
        return changed


async def open_store(url: str) -> SQLiteStore:
    """The store at ``url``, or :class:`StoreError` saying why it can't be used."""
    return await SQLiteStore.open(url)
