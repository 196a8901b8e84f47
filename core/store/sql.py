"""The store, written once in SQL both backends run (SQLite ≥ 3.24 and PostgreSQL).

What differs between backends lives in a small :class:`Driver`: how to connect, ``?``
placeholders turned into the backend's own, transactions (and what makes a check-then-write
atomic), migration bookkeeping, and which exceptions mean "the database can't be used" — every
one of those becomes :class:`StoreError` here, logged once per outage.

To add a store method: write its SQL once with ``?`` placeholders and ``ON CONFLICT`` (never
``INSERT OR …``), read through :meth:`SQLStore._read` and write through
:meth:`SQLStore._transaction`, and add a schema change to :mod:`core.store.migrations` for both
backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, NamedTuple, Protocol, TypeVar

from core.access import AccessEntry, AccessKind
from core.ima.tasks import TaskType
from core.jobs import ACTIVE, HOLDING, UNSENT, Job, JobState, ModelSource
from core.leases import Lease, default_lease, fair_share
from core.limits import NO_CAPS, Caps
from core.replier import Handle, expiry, scrub, scrub_handle
from core.store.base import (
    Admission,
    ConsoleSession,
    FailureRow,
    Preference,
    StoreError,
    UsageRow,
)

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
    "error_kind", "result_urls", "result_covers", "origin_id", "wants", "user_slots",
    "chat_slots",
)  # fmt: skip
_JOB_SELECT = ", ".join(_JOB_COLUMNS)
#: The fence of a job this replica lost: no lease version matches it.
_LOST = -1
#: Seconds between looks for the jobs other processes cancelled (one query for all of them).
CANCEL_CHECK = 2.0
#: How far before the previous look each look reaches back: a cancel is timed by the clock of
#: the process that made it (another machine's, maybe), and committed a moment after.
_CANCEL_SLACK = 60.0
#: The notification channel of cancels, on backends that have one (PostgreSQL).
_CANCELS = "ima_job_cancelled"
#: Requests stored by one statement at most (SQLite takes up to 32,766 values in one).
_ARRIVALS_PER_WRITE = 500


def _states_sql(states: frozenset[JobState]) -> str:
    return "(" + ", ".join(f"'{s.value}'" for s in sorted(states)) + ")"


_ACTIVE_SQL = _states_sql(ACTIVE)
_HOLDING_SQL = _states_sql(HOLDING)
#: Serialised by every transaction that gives slots, so two replicas never give the same one.
_SLOTS = "slots"


class _Waiting(NamedTuple):
    """A queued job, as much of it as its place in the queue needs (thousands may wait: their
    whole rows, decoded for each admission and each look at the queue, were most of the CPU
    of answering in a burst)."""

    id: str
    platform: str
    user_id: str
    chat_id: str
    user_slots: int | None
    chat_slots: int | None


_WAITING_SELECT = ", ".join(_Waiting._fields)
_Line = tuple[str, str, str]
#: The line of everyone's slots (``max_running``).
_EVERYONE: _Line = ("everyone", "", "")


def _lines(job: Job | _Waiting) -> tuple[_Line, _Line]:
    """A job's person and its chat, each a line of slots."""
    return ("user", job.platform, job.user_id), ("chat", job.platform, job.chat_id)


def _holds(job: Job | _Waiting) -> tuple[_Line, ...]:
    """What a queued job waits in: everyone's slots, its person's and its chat's."""
    return (_EVERYONE, *_lines(job))


def _needs(job: Job | _Waiting, max_running: int | None) -> tuple[_Line, ...]:
    """The slots ``job`` waits for: everyone's when they are limited, else its person's and,
    when its chat's are limited, its chat's."""
    if max_running is not None:
        return (_EVERYONE,)
    person, chat = _lines(job)
    return (person, chat) if job.chat_slots is not None else (person,)


def _competes(earlier: _Waiting, job: Job | _Waiting, max_running: int | None) -> bool:
    """Whether queued ``earlier`` waits for a slot ``job`` needs too, so it goes first."""
    return not set(_holds(earlier)).isdisjoint(_needs(job, max_running))


def _places(queued: Sequence[_Waiting], max_running: int | None) -> dict[str, int]:
    """Each queued job's place: 1 + the earlier ones it competes with (:func:`_competes`),
    counted in one pass rather than compared in pairs."""
    holding: Counter[_Line] = Counter()  # earlier jobs in each line
    in_both: Counter[tuple[_Line, _Line]] = Counter()  # ... in both a person's and a chat's
    places: dict[str, int] = {}
    for job in queued:
        needs = _needs(job, max_running)
        ahead = sum(holding[line] for line in needs)
        if len(needs) == 2:  # the person's and the chat's: those in both counted once
            ahead -= in_both[_lines(job)]
        places[job.id] = 1 + ahead
        holding.update(_holds(job))
        in_both[_lines(job)] += 1
    return places


class Row(Protocol):
    """A result row, by position or by column name (sqlite3.Row and asyncpg.Record both)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """One connection (inside a transaction, or for reads); queries use ``?`` placeholders."""

    async def execute(self, query: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        ...

    async def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def fetchall(self, query: str, args: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, query: str, args: Sequence[Any] = ()) -> Row | None: ...

    async def serialise(self, keys: Sequence[str]) -> None:
        """Inside a transaction: no other transaction serialising any of ``keys`` runs until
        this one ends (on every replica), so a check-then-write on them is atomic."""
        ...

    async def notify(self, channel: str, payload: str) -> None:
        """Inside a transaction: tell ``payload`` to every process listening on ``channel``
        when it commits (nothing, on a backend without notifications)."""
        ...


class Driver(Protocol):
    #: How messages name the database: a path, or host and database (never a password).
    name: str
    #: What the backend raises when the database can't be used.
    errors: tuple[type[Exception], ...]
    #: Appended to the SELECT of jobs to claim: rows another replica is claiming are skipped
    #: rather than waited for (PostgreSQL's ``FOR UPDATE SKIP LOCKED``; SQLite has one writer).
    skip_locked: str

    def cause(self, error: Exception) -> str:
        """What went wrong, in the backend's or the system's words."""
        ...

    def reading(self) -> AbstractAsyncContextManager[Connection]: ...

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """Commits when the block ends, rolls back when it raises."""
        ...

    def receiving(self) -> AbstractAsyncContextManager[Connection]:
        """Where arriving requests are stored, by one statement (atomic on its own, so without
        BEGIN and COMMIT: fewer waits before the acknowledgement): it goes before the jobs'
        writes waiting for theirs (SQLite's one writer), or has a connection of its own
        (PostgreSQL), so an acknowledgement never waits behind job work still to start."""
        ...

    def leasing(self) -> AbstractAsyncContextManager[Connection]:
        """A transaction for lease writes (claims and renewals), on a connection of their own
        where the backend has several: they never wait for one behind the jobs' traffic."""
        ...

    async def listen(self, channel: str, heard: Callable[[str], None]) -> None:
        """Call ``heard(payload)`` for every notification on ``channel`` from now on (nothing,
        on a backend without notifications)."""
        ...

    async def close(self) -> None: ...


def _encode(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS:
        return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    if column == "handle":
        return value.dumps() if value is not None else None
    if isinstance(value, (TaskType, JobState, ModelSource)):
        return value.value
    return value


def _job(row: Row) -> Job:
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


def _preference(row: Row) -> Preference:
    return Preference(
        row["model_id"],
        row["version_id"],
        row["model_name"],
        row["credit"],
        row["updated_at"],
        bool(row["chosen"]),
    )


def _int(row: Row | None) -> int:
    return int(row[0]) if row and row[0] is not None else 0


def _text(row: Row | None) -> str:
    return str(row[0]) if row and row[0] is not None else ""


_Method = TypeVar("_Method", bound=Callable[..., Coroutine[Any, Any, Any]])


def _refusals_named(method: _Method) -> _Method:
    """The driver's errors out of ``method`` become :class:`StoreError`; the first of an
    outage is logged (see :meth:`SQLStore._failed`)."""

    @functools.wraps(method)
    async def named(self: SQLStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except self._driver.errors as exc:
            raise self._failed(exc) from exc

    return named  # type: ignore[return-value]


_Class = TypeVar("_Class", bound=type)


def naming_refusals(cls: _Class) -> _Class:
    """Every public coroutine method of ``cls`` through :func:`_refusals_named` (but
    ``ping``, which answers False instead). Subclasses adding methods apply it too."""
    for name, method in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(method) and name != "ping":
            setattr(cls, name, _refusals_named(method))
    return cls


#: Seconds within which the same cause of failure, after a write worked, is not logged again.
_RELOG_AFTER = 60.0


@naming_refusals
class SQLStore:
    """Every public method raises :class:`StoreError` when the database refuses, never the
    driver's own errors (see :func:`naming_refusals`)."""

    def __init__(self, driver: Driver, lease: Lease | None = None) -> None:
        self._driver = driver
        self.lease = lease or default_lease()
        #: Job id → the lease version this replica holds it with (see :mod:`core.leases`).
        self._fences: dict[str, int] = {}
        #: The cause of the failure being logged (None while the database works).
        self._outage: str | None = None
        #: The cause last logged and when: a database that flaps (a full disk lets the writes
        #: that don't grow a file through) is named once a minute, not at every flip.
        self._logged: tuple[str, float] | None = None

        #: Who is told of cancels (:meth:`watch_cancels`), and the task that looks for the
        #: cancels of other processes.
        self._cancel_watchers: list[Callable[[str], None]] = []
        self._cancel_watch: asyncio.Task[None] | None = None
        #: Requests waiting to be stored (:meth:`receive`), each with the future told whether
        #: it was new, and the task storing them.
        self._arrivals: list[tuple[str, str, float | None, asyncio.Future[bool]]] = []
        self._storing: asyncio.Task[None] | None = None

    def _failed(self, error: Exception) -> StoreError:
        """The error for a refused call; its cause is logged once until a write works again,
        and the same cause at most once a minute (see ``_logged``)."""
        cause = self._driver.cause(error)
        if cause != self._outage:
            self._outage = cause
            now = time.monotonic()
            last = self._logged
            if last is None or last[0] != cause or now - last[1] >= _RELOG_AFTER:
                self._logged = (cause, now)
                log.error("the database %s can't be used: %s", self._driver.name, cause)
        return StoreError(f"The database {self._driver.name} can't be used: {cause}.")

    def _works(self) -> None:
        if self._outage is not None:
            self._outage = None
            log.warning("the database %s works again", self._driver.name)

    def _read(self) -> AbstractAsyncContextManager[Connection]:
        return self._driver.reading()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self._driver.transaction() as c:
            yield c
        self._works()

    @asynccontextmanager
    async def _leasing(self) -> AsyncIterator[Connection]:
        async with self._driver.leasing() as c:
            yield c
        self._works()

    async def _changed(self, query: str, args: Sequence[Any]) -> bool:
        async with self._transaction() as c:
            return await c.execute(query, args) > 0

    async def _fetchone(self, query: str, args: Sequence[Any] = ()) -> Row | None:
        async with self._read() as c:
            return await c.fetchone(query, args)

    async def _fetchall(self, query: str, args: Sequence[Any] = ()) -> list[Row]:
        async with self._read() as c:
            return await c.fetchall(query, args)

    async def close(self) -> None:
        if self._storing is not None:  # the requests arriving now are stored first
            await asyncio.wait({self._storing})
        if self._cancel_watch is not None:
            self._cancel_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cancel_watch
        await self._driver.close()

    async def ping(self) -> bool:
        try:
            await self._probe()
        except self._driver.errors as exc:
            self._failed(exc)
            return False
        except ValueError:  # closed
            return False
        return True

    async def _probe(self) -> None:
        """A real write: a full, locked or read-only database fails it."""
        async with self._transaction() as c:
            await c.execute(
                "INSERT INTO user_state VALUES ('', '', 'health', '1', ?) "
                "ON CONFLICT (platform, user_id, key) "
                "DO UPDATE SET updated_at = excluded.updated_at",
                (time.time(),),
            )

    # ── preferences ───────────────────────────────────────────────────────────────────────

    async def get_preference(
        self, platform: str, user_id: str, task_type: TaskType
    ) -> Preference | None:
        row = await self._fetchone(
            "SELECT model_id, version_id, model_name, credit, updated_at, chosen "
            "FROM preferences WHERE platform = ? AND user_id = ? AND task_type = ?",
            (platform, user_id, task_type.value),
        )
        return _preference(row) if row else None

    async def set_preference(
        self, platform: str, user_id: str, task_type: TaskType, pref: Preference
    ) -> None:
        async with self._transaction() as c:
            await c.execute(
                "INSERT INTO preferences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, user_id, task_type) DO UPDATE SET "
                "model_id = excluded.model_id, version_id = excluded.version_id, "
                "model_name = excluded.model_name, credit = excluded.credit, "
                "updated_at = excluded.updated_at, chosen = excluded.chosen",
                (platform, user_id, task_type.value, pref.model_id, pref.version_id,
                 pref.model_name, pref.credit, pref.updated_at, int(pref.chosen)),
            )  # fmt: skip

    async def clear_preferences(
        self, platform: str, user_id: str, task_type: TaskType | None = None
    ) -> int:
        query = "DELETE FROM preferences WHERE platform = ? AND user_id = ?"
        args: tuple[str, ...] = (platform, user_id)
        if task_type is not None:
            query += " AND task_type = ?"
            args += (task_type.value,)
        async with self._transaction() as c:
            return await c.execute(query, args)

    async def list_preferences(self, platform: str, user_id: str) -> dict[TaskType, Preference]:
        rows = await self._fetchall(
            "SELECT task_type, model_id, version_id, model_name, credit, updated_at, chosen "
            "FROM preferences WHERE platform = ? AND user_id = ? ORDER BY task_type",
            (platform, user_id),
        )
        known = {t.value for t in TaskType}
        return {TaskType(r[0]): _preference(r) for r in rows if r[0] in known}

    # ── user state ────────────────────────────────────────────────────────────────────────

    async def get_user_state(self, platform: str, user_id: str, key: str) -> Any | None:
        row = await self._fetchone(
            "SELECT value FROM user_state WHERE platform = ? AND user_id = ? AND key = ?",
            (platform, user_id, key),
        )
        return json.loads(row[0]) if row else None

    async def set_user_state(
        self, platform: str, user_id: str, key: str, value: Any | None
    ) -> None:
        async with self._transaction() as c:
            if value is None:
                await c.execute(
                    "DELETE FROM user_state WHERE platform = ? AND user_id = ? AND key = ?",
                    (platform, user_id, key),
                )
            else:
                await c.execute(
                    "INSERT INTO user_state VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (platform, user_id, key) DO UPDATE SET "
                    "value = excluded.value, updated_at = excluded.updated_at",
                    (platform, user_id, key, json.dumps(value, ensure_ascii=False), time.time()),
                )

    # ── requests and presses ──────────────────────────────────────────────────────────────

    async def receive(
        self, key: str, request: Mapping[str, Any], *, expires_at: float | None
    ) -> bool:
        """Requests arriving together are stored together: one statement in one transaction
        (:meth:`Driver.receiving`) for all those that arrived while the previous one ran."""
        told: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._arrivals.append((key, json.dumps(request, ensure_ascii=False), expires_at, told))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_arrivals(), name="arrivals")
        return await told

    async def _store_arrivals(self) -> None:
        while self._arrivals:
            batch = self._arrivals[:_ARRIVALS_PER_WRITE]
            del self._arrivals[:_ARRIVALS_PER_WRITE]
            try:
                stored = await self._insert_requests(batch)
            except Exception as exc:  # each caller raises it (as StoreError, see receive)
                for *_, told in batch:
                    if not told.done():
                        told.set_exception(exc)
                continue
            for key, *_, told in batch:
                if not told.done():
                    told.set_result(key in stored)
                stored.discard(key)  # the same key twice in a batch: the second is a redelivery

    async def _insert_requests(
        self, batch: Sequence[tuple[str, str, float | None, asyncio.Future[bool]]]
    ) -> set[str]:
        """Insert ``batch``'s requests; the keys that were new."""
        now = time.time()
        rows = ", ".join("(?, ?, ?, ?, ?, ?)" for _ in batch)
        values = [
            value
            for key, body, expires_at, _ in batch
            for value in (key, body, now, expires_at, self.lease.replica, now + self.lease.seconds)
        ]
        async with self._driver.receiving() as c:
            new = await c.fetchall(
                "INSERT INTO requests (key, body, received_at, expires_at, owner, lease_until) "  # noqa: S608
                f"VALUES {rows} ON CONFLICT DO NOTHING RETURNING key",
                values,
            )
        self._works()
        return {str(r[0]) for r in new}

    async def finish_request(self, key: str) -> None:
        await self._changed(
            "UPDATE requests SET finished_at = ? WHERE key = ? AND finished_at IS NULL",
            (time.time(), key),
        )

    async def claim_requests(
        self, since: float, now: float, *, previous_life: bool = False
    ) -> list[Mapping[str, Any]]:
        unanswered = "finished_at IS NULL AND received_at >= ?"
        async with self._leasing() as c:
            live, total, held = await self._load(c, "requests", unanswered, (since,), now)
            rows = await c.fetchall(
                "UPDATE requests SET owner = ?, lease_until = ? "  # noqa: S608 - fixed names
                f"WHERE key IN (SELECT key FROM requests WHERE {unanswered} "
                "AND (owner IS NULL OR lease_until < ?) "
                f"ORDER BY received_at LIMIT ? {self._driver.skip_locked}) "
                "RETURNING key, body, received_at",
                [self.lease.replica, now + self.lease.seconds, since, now,
                 fair_share(total, live, held)],
            )  # fmt: skip
            if previous_life:
                rows += await c.fetchall(
                    "UPDATE requests SET lease_until = ? "  # noqa: S608 - fixed names
                    f"WHERE owner = ? AND {unanswered} RETURNING key, body, received_at",
                    [now + self.lease.seconds, self.lease.replica, since],
                )
        claimed = {str(r[0]): (float(r[2]), str(r[1])) for r in rows}  # one each, claimed twice
        return [json.loads(body) for _, body in sorted(claimed.values())]

    async def first_seen(self, key: str) -> bool:
        return await self._changed(
            "INSERT INTO processed_events VALUES (?, ?) ON CONFLICT DO NOTHING", (key, time.time())
        )

    # ── jobs ──────────────────────────────────────────────────────────────────────────────

    async def admit(
        self,
        job: Job,
        *,
        caps: Caps = NO_CAPS,
        max_running: int | None = None,
        request_key: str | None = None,
    ) -> Admission:
        async with self._transaction() as c:
            if request_key is not None and not await c.execute(
                "UPDATE requests SET finished_at = ? "
                "WHERE key = ? AND finished_at IS NULL AND owner = ?",
                (time.time(), request_key, self.lease.replica),
            ):
                return Admission.ANSWERED
            await c.serialise(
                (f"user:{job.platform}:{job.user_id}", f"chat:{job.platform}:{job.chat_id}", _SLOTS)
            )
            refusal = await self._over_caps(c, job, job.credits, caps)
            if refusal is not None:
                return refusal
            waiting = await self._waiting(c)
            starts = not any(_competes(q, job, max_running) for q in waiting) and (
                await self._slot_free(c, job, max_running)
            )
            job.state = JobState.ACCEPTED if starts else JobState.QUEUED
            values = [_encode(col, getattr(job, col)) for col in _JOB_COLUMNS]
            await c.execute(
                f"INSERT INTO jobs ({_JOB_SELECT}, expires_at, owner, lease_until, "  # noqa: S608
                f"lease_version) VALUES ({', '.join('?' for _ in _JOB_COLUMNS)}, ?, ?, ?, 1)",
                [*values, expiry(job.reply_target), self.lease.replica,
                 time.time() + self.lease.seconds],
            )  # fmt: skip
            day = time.strftime("%Y-%m-%d", time.gmtime(job.created_at))
            await c.execute(
                "INSERT INTO usage (job_id, day, platform, user_id, chat_id, model_name, "
                "credits, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job.id, day, job.platform, job.user_id, job.chat_id, job.model_name,
                 job.credits, job.created_at),
            )  # fmt: skip
        self._fences[job.id] = 1
        return Admission.OK if starts else Admission.QUEUED

    async def _slot_free(self, c: Connection, job: Job | _Waiting, max_running: int | None) -> bool:
        """Whether ``job`` is within its person's, its chat's and everyone's running limits."""
        limits = (
            (max_running, "1 = 1", ()),
            (job.user_slots, "platform = ? AND user_id = ?", (job.platform, job.user_id)),
            (job.chat_slots, "platform = ? AND chat_id = ?", (job.platform, job.chat_id)),
        )
        for limit, where, args in limits:
            if limit is None:
                continue
            holding = _int(
                await c.fetchone(
                    f"SELECT COUNT(*) FROM jobs WHERE state IN {_HOLDING_SQL} AND {where}",  # noqa: S608
                    args,
                )
            )
            if holding >= limit:
                return False
        return True

    async def _over_caps(
        self, c: Connection, job: Job, credits: int, caps: Caps
    ) -> Admission | None:
        """Which credit cap ``job`` at ``credits`` would break in the window holding its
        creation (its own reserved credits, when stored already, are not counted). The
        caller serialises on the person and the chat, so concurrent admissions (on any
        replica) can never overshoot."""
        since = caps.window.start(job.created_at)
        checks = (
            (caps.user_credits, "user_id", job.user_id, Admission.USER_CAP),
            (caps.chat_credits, "chat_id", job.chat_id, Admission.CHAT_CAP),
        )
        for cap, column, value, refusal in checks:
            if cap is None:
                continue
            spent = _int(
                await c.fetchone(
                    "SELECT COALESCE(SUM(credits), 0) FROM usage "  # noqa: S608 - fixed names
                    f"WHERE at >= ? AND platform = ? AND {column} = ? AND job_id != ?",
                    (since, job.platform, value, job.id),
                )
            )
            if spent + credits > cap:
                return refusal
        return None

    async def promote(self, max_running: int | None = None) -> list[Job]:
        if not _int(await self._fetchone("SELECT COUNT(*) FROM jobs WHERE state = 'queued'")):
            return []  # nothing waits: no write transaction (the common case)
        promoted: list[Job] = []
        versions: dict[str, int] = {}
        async with self._transaction() as c:
            await c.serialise((_SLOTS,))
            for queued in await self._waiting(c):
                if await self._slot_free(c, queued, max_running):
                    # Whoever gives the slot runs the job: it takes the lease (a new version),
                    # so the replica that admitted it can't write to it any more.
                    taken = await c.fetchall(
                        "UPDATE jobs SET state = ?, owner = ?, lease_until = ?, "
                        "lease_version = lease_version + 1 WHERE id = ? AND state = ? "
                        "RETURNING lease_version",
                        (JobState.ACCEPTED.value, self.lease.replica,
                         time.time() + self.lease.seconds, queued.id, JobState.QUEUED.value),
                    )  # fmt: skip
                    job = await self._job(c, queued.id) if taken else None
                    if job is not None:  # not cancelled meanwhile
                        versions[queued.id] = int(taken[0][0])
                        promoted.append(job)
                elif max_running is not None and not await self._slot_free(
                    c, queued._replace(user_slots=None, chat_slots=None), max_running
                ):
                    break  # everyone's limit is reached: nobody else starts either
        self._fences.update(versions)
        return promoted

    async def _waiting(self, c: Connection) -> list[_Waiting]:
        """The queued jobs, first come first."""
        rows = await c.fetchall(
            f"SELECT {_WAITING_SELECT} FROM jobs WHERE state = ? ORDER BY created_at, id",  # noqa: S608
            (JobState.QUEUED.value,),
        )
        return [_Waiting(*r) for r in rows]

    async def queue_positions(self, max_running: int | None = None) -> dict[str, int]:
        async with self._read() as c:
            return _places(await self._waiting(c), max_running)

    async def _move(
        self, job_id: str, sources: Sequence[JobState], target: JobState, **fields: Any
    ) -> bool:
        """One conditional transition: ``sources`` → ``target`` with ``fields`` set."""
        sets = ", ".join(["state = ?", *(f"{name} = ?" for name in fields)])
        marks = ", ".join("?" for _ in sources)
        fence, held = self._fence(job_id)
        changed = await self._changed(
            f"UPDATE jobs SET {sets} WHERE id = ? AND state IN ({marks}){fence}",  # noqa: S608
            [target.value, *(_encode(k, v) for k, v in fields.items()), job_id,
             *(s.value for s in sources), *held],
        )  # fmt: skip
        if changed and not target.active:
            self._fences.pop(job_id, None)
        return changed

    def _fence(self, job_id: str) -> tuple[str, list[Any]]:
        """The condition a write on ``job_id`` adds: this replica still holds its lease, with
        the version it claimed (none for jobs it doesn't run, e.g. ``ima-bot admin``)."""
        version = self._fences.get(job_id)
        if version is None:
            return "", []
        return " AND owner = ? AND lease_version = ?", [self.lease.replica, version]

    async def mark_creating(self, job_id: str) -> bool:
        return await self._move(job_id, (JobState.ACCEPTED,), JobState.CREATING)

    async def mark_not_sent(self, job_id: str) -> bool:
        return await self._move(job_id, (JobState.CREATING,), JobState.ACCEPTED)

    async def mark_running(
        self, job_id: str, *, task_id: str, started_at: float, credits: int
    ) -> bool:
        fence, held = self._fence(job_id)
        async with self._transaction() as c:
            changed = await c.execute(
                "UPDATE jobs SET state = ?, ima_task_id = ?, started_at = ?, "  # noqa: S608
                f"credits = ? WHERE id = ? AND state = ?{fence}",
                (JobState.RUNNING.value, task_id, started_at, credits, job_id,
                 JobState.CREATING.value, *held),
            )  # fmt: skip
            if not changed:
                return False
            await c.execute("UPDATE usage SET credits = ? WHERE job_id = ?", (credits, job_id))
            return True

    async def reprice(self, job_id: str, credits: int, *, caps: Caps = NO_CAPS) -> Admission:
        async with self._transaction() as c:
            job = await self._job(c, job_id)
            if job is None or job.state not in (JobState.ACCEPTED, JobState.CREATING):
                return Admission.OK
            await c.serialise(
                (f"user:{job.platform}:{job.user_id}", f"chat:{job.platform}:{job.chat_id}")
            )
            refusal = await self._over_caps(c, job, credits, caps)
            if refusal is not None:
                return refusal
            await c.execute("UPDATE jobs SET credits = ? WHERE id = ?", (credits, job_id))
            await c.execute("UPDATE usage SET credits = ? WHERE job_id = ?", (credits, job_id))
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
        fence, held = self._fence(job_id)
        async with self._transaction() as c:
            changed = await c.execute(
                "UPDATE jobs SET state = ?, error_kind = ?, finished_at = ? "  # noqa: S608
                f"WHERE id = ? AND state IN {_ACTIVE_SQL}{fence}",
                (JobState.FAILED.value, error_kind, at, job_id, *held),
            )
            if not changed:
                return False
            if release:
                await c.execute("DELETE FROM usage WHERE job_id = ?", (job_id,))
        self._fences.pop(job_id, None)
        return True

    async def mark_cancelled(self, job_id: str, *, at: float) -> bool:
        async with self._transaction() as c:
            job = await self._job(c, job_id)
            if job is None or not job.state.active:
                return False
            await c.execute(
                "UPDATE jobs SET state = ?, finished_at = ? WHERE id = ?",
                (JobState.CANCELLED.value, at, job_id),
            )
            if job.state in UNSENT:  # never sent: nothing was charged
                await c.execute("DELETE FROM usage WHERE job_id = ?", (job_id,))
            await c.notify(_CANCELS, job_id)
        self._fences.pop(job_id, None)
        self._tell_cancelled(job_id)
        return True

    def watch_cancels(self, told: Callable[[str], None]) -> None:
        """Cancels through this store are told at once; those of other processes by the
        backend's notifications (PostgreSQL) and, on every backend, by one look every
        :data:`CANCEL_CHECK` seconds at the jobs cancelled since the previous look (which also
        catches what a lost notification missed). A cancel is told more than once."""
        self._cancel_watchers.append(told)
        if self._cancel_watch is None:
            self._cancel_watch = asyncio.get_running_loop().create_task(
                self._watch_cancels(), name="cancels"
            )

    def _tell_cancelled(self, job_id: str) -> None:
        for told in self._cancel_watchers:
            told(job_id)

    async def _watch_cancels(self) -> None:
        try:
            await self._driver.listen(_CANCELS, self._tell_cancelled)
        except self._driver.errors as exc:  # the periodic look stands in for it
            self._failed(exc)
        since = time.time()
        while True:
            await asyncio.sleep(CANCEL_CHECK)
            now = time.time()
            try:
                rows = await self._fetchall(  # the literal state: its index is partial
                    "SELECT id FROM jobs WHERE state = 'cancelled' AND finished_at >= ?",
                    (since - _CANCEL_SLACK,),
                )
            except self._driver.errors as exc:
                self._failed(exc)
                continue
            since = now
            # Told again at each look for a while: a job may start here after the first.
            for row in rows:
                self._tell_cancelled(str(row[0]))

    async def set_handle(self, job_id: str, handle: Handle, *, expires_at: float | None) -> None:
        async with self._transaction() as c:
            await c.execute(
                "UPDATE jobs SET handle = ?, expires_at = ? WHERE id = ?",
                (handle.dumps(), expires_at, job_id),
            )
            platform = _text(await c.fetchone("SELECT platform FROM jobs WHERE id = ?", (job_id,)))
            now = time.time()
            await c.executemany(
                "INSERT INTO job_messages VALUES (?, ?, ?, ?) "
                "ON CONFLICT (platform, message_id) DO UPDATE SET "
                "job_id = excluded.job_id, at = excluded.at",
                [(platform, message_id, job_id, now) for message_id in handle.message_ids],
            )

    async def set_inputs(self, job_id: str, image_urls: Sequence[str]) -> None:
        await self._changed(
            "UPDATE jobs SET image_urls = ?, attachments = '[]' WHERE id = ?",
            (json.dumps(list(image_urls)), job_id),
        )

    async def _job(self, c: Connection, job_id: str) -> Job | None:
        row = await c.fetchone(f"SELECT {_JOB_SELECT} FROM jobs WHERE id = ?", (job_id,))  # noqa: S608
        return _job(row) if row else None

    async def get_job(self, job_id: str) -> Job | None:
        async with self._read() as c:
            return await self._job(c, job_id)

    async def job_state(self, job_id: str) -> str | None:
        return _text(await self._fetchone("SELECT state FROM jobs WHERE id = ?", (job_id,))) or None

    async def job_for_message(self, platform: str, message_id: str) -> Job | None:
        columns = ", ".join(f"jobs.{c}" for c in _JOB_COLUMNS)
        row = await self._fetchone(
            f"SELECT {columns} FROM job_messages "  # noqa: S608
            "JOIN jobs ON jobs.id = job_messages.job_id "
            "WHERE job_messages.platform = ? AND job_messages.message_id = ?",
            (platform, message_id),
        )
        return _job(row) if row else None

    async def active_jobs(self) -> list[Job]:
        rows = await self._fetchall(
            f"SELECT {_JOB_SELECT} FROM jobs WHERE state IN {_ACTIVE_SQL} "  # noqa: S608
            "ORDER BY created_at"
        )
        return [_job(r) for r in rows]

    async def active_counts(self, platform: str, user_id: str) -> dict[JobState, int]:
        async with self._read() as c:
            rows = await c.fetchall(
                "SELECT state, COUNT(*) FROM jobs WHERE platform = ? AND user_id = ? "  # noqa: S608
                f"AND state IN {_ACTIVE_SQL} GROUP BY state",
                (platform, user_id),
            )
        return {JobState(r[0]): int(r[1]) for r in rows}

    async def recent_jobs(
        self, platform: str, user_id: str, limit: int = 10, *, chat_id: str | None = None
    ) -> list[Job]:
        query = f"SELECT {_JOB_SELECT} FROM jobs WHERE platform = ? AND user_id = ?"  # noqa: S608
        args: list[Any] = [platform, user_id]
        if chat_id is not None:
            query += " AND chat_id = ?"
            args.append(chat_id)
        query += " ORDER BY created_at DESC LIMIT ?"
        return [_job(r) for r in await self._fetchall(query, [*args, limit])]

    # ── leases (core/leases.py) ───────────────────────────────────────────────────────────

    async def claim(self, now: float, *, previous_life: bool = False) -> list[Job]:
        """Take active jobs no replica holds (unowned, or their lease expired), oldest first and
        at most this replica's :func:`~core.leases.fair_share`, and return them;
        ``previous_life``: also every one this replica id held before it restarted."""
        async with self._leasing() as c:
            live, total, held = await self._load(c, "jobs", f"state IN {_ACTIVE_SQL}", (), now)
            share = fair_share(total, live, held)
            rows = await c.fetchall(
                "UPDATE jobs SET owner = ?, lease_until = ?, "  # noqa: S608 - fixed names
                "lease_version = lease_version + 1 "
                f"WHERE id IN (SELECT id FROM jobs WHERE state IN {_ACTIVE_SQL} "
                "AND (owner IS NULL OR lease_until < ?) "
                f"ORDER BY created_at LIMIT ? {self._driver.skip_locked}) "
                "RETURNING id, lease_version",
                [self.lease.replica, now + self.lease.seconds, now, share],
            )  # fmt: skip
            if previous_life:
                rows += await c.fetchall(
                    "UPDATE jobs SET lease_until = ?, lease_version = lease_version + 1 "  # noqa: S608
                    f"WHERE owner = ? AND state IN {_ACTIVE_SQL} RETURNING id, lease_version",
                    [now + self.lease.seconds, self.lease.replica],
                )
            versions = {str(r[0]): int(r[1]) for r in rows}
            jobs = [j for job_id in versions if (j := await self._job(c, job_id)) is not None]
        self._fences.update(versions)
        return sorted(jobs, key=lambda j: j.created_at)

    async def _load(
        self, c: Connection, table: str, active: str, args: Sequence[Any], now: float
    ) -> tuple[int, int, int]:
        """``(live replicas, active rows, rows this replica holds)`` of ``table``: a replica is
        live while it holds an unexpired lease on a job or a request (this one always is)."""
        live = {self.lease.replica}
        for kind in ("jobs", "requests"):
            rows = await c.fetchall(
                f"SELECT DISTINCT owner FROM {kind} WHERE lease_until >= ?",  # noqa: S608
                (now,),
            )
            live.update(str(r[0]) for r in rows if r[0] is not None)
        counts = await c.fetchall(
            f"SELECT owner, COUNT(*) FROM {table} WHERE {active} "  # noqa: S608 - fixed names
            "AND (owner IS NULL OR owner != ? OR lease_until >= ?) GROUP BY owner",
            (*args, self.lease.replica, now),
        )
        total = sum(int(r[1]) for r in counts)
        held = sum(int(r[1]) for r in counts if r[0] == self.lease.replica)
        return len(live), total, held

    async def renew(self, now: float) -> list[str]:
        """Extend every lease this replica holds (one write); returns the ids of the active
        jobs it lost meanwhile (another replica claimed them), which it must stop."""
        # Which jobs this replica holds is read before the write: a job admitted (or claimed)
        # while the write runs is not in it, so it is never mistaken for one that ended. A
        # fence that changes meanwhile (the job ended, or was claimed again) is left as it is.
        held = {i: v for i, v in self._fences.items() if v != _LOST}
        async with self._leasing() as c:
            rows = await c.fetchall(
                f"UPDATE jobs SET lease_until = ? WHERE owner = ? AND state IN {_ACTIVE_SQL} "  # noqa: S608
                "RETURNING id, lease_version",
                (now + self.lease.seconds, self.lease.replica),
            )
            await c.execute(
                "UPDATE requests SET lease_until = ? WHERE owner = ? AND finished_at IS NULL",
                (now + self.lease.seconds, self.lease.replica),
            )
            lost: list[str] = []
            if held:
                marks = ", ".join("?" for _ in held)
                taken = await c.fetchall(
                    f"SELECT id FROM jobs WHERE id IN ({marks}) AND owner != ? "  # noqa: S608
                    f"AND state IN {_ACTIVE_SQL}",
                    [*held, self.lease.replica],
                )
                lost = [str(r[0]) for r in taken]
        kept = {str(r[0]) for r in rows}
        lost = [i for i in lost if self._fences.get(i) == held[i]]
        for job_id, version in held.items():
            if self._fences.get(job_id) != version:
                continue
            if job_id in lost:
                self._fences[job_id] = _LOST  # told once; its writes keep failing
            elif job_id not in kept:
                del self._fences[job_id]  # ended
        return lost

    async def next_lease_end(self, now: float) -> float | None:
        row = await self._fetchone(
            f"SELECT MIN(lease_until) FROM jobs WHERE state IN {_ACTIVE_SQL} "  # noqa: S608
            "AND owner != ? AND lease_until >= ?",
            (self.lease.replica, now),
        )
        return float(row[0]) if row is not None and row[0] is not None else None

    async def release(self, job_ids: Sequence[str] | None = None) -> None:
        """Give up leases (all, or ``job_ids``) so another replica takes the jobs at once."""
        ids = list(self._fences) if job_ids is None else list(job_ids)
        if not ids:
            return
        marks = ", ".join("?" for _ in ids)
        await self._changed(
            "UPDATE jobs SET owner = NULL, lease_until = NULL "  # noqa: S608
            f"WHERE owner = ? AND id IN ({marks})",
            [self.lease.replica, *ids],
        )
        for job_id in ids:
            self._fences.pop(job_id, None)

    async def holds(self, job_id: str) -> bool:
        """Whether this replica still holds ``job_id`` (True for a job it never claimed)."""
        version = self._fences.get(job_id)
        if version is None:
            return True
        row = await self._fetchone("SELECT owner, lease_version FROM jobs WHERE id = ?", (job_id,))
        return row is not None and row[0] == self.lease.replica and int(row[1]) == version

    # ── caps ──────────────────────────────────────────────────────────────────────────────

    async def chat_caps(self, platform: str, chat_id: str) -> Caps | None:
        row = await self._fetchone(
            "SELECT caps FROM chat_caps WHERE platform = ? AND chat_id = ?", (platform, chat_id)
        )
        return Caps.from_json(json.loads(row[0])) if row else None

    async def set_chat_caps(self, platform: str, chat_id: str, caps: Caps | None) -> bool:
        if caps is None:
            return await self._changed(
                "DELETE FROM chat_caps WHERE platform = ? AND chat_id = ?", (platform, chat_id)
            )
        return await self._changed(
            "INSERT INTO chat_caps VALUES (?, ?, ?, ?) ON CONFLICT (platform, chat_id) "
            "DO UPDATE SET caps = excluded.caps, updated_at = excluded.updated_at",
            (platform, chat_id, json.dumps(caps.to_json()), time.time()),
        )

    async def all_chat_caps(self) -> dict[tuple[str, str], Caps]:
        rows = await self._fetchall(
            "SELECT platform, chat_id, caps FROM chat_caps ORDER BY platform, chat_id"
        )
        return {(r[0], r[1]): Caps.from_json(json.loads(r[2])) for r in rows}

    # ── allowlists ────────────────────────────────────────────────────────────────────────

    async def access_entries(self) -> list[AccessEntry]:
        rows = await self._fetchall(
            "SELECT platform, kind, entry_id, added_at FROM access_entries "
            "ORDER BY platform, kind, entry_id"
        )
        known = {k.value for k in AccessKind}
        return [
            AccessEntry(r[0], AccessKind(r[1]), r[2], float(r[3])) for r in rows if r[1] in known
        ]

    async def add_access_entry(
        self, platform: str, kind: AccessKind, entry_id: str, at: float
    ) -> bool:
        return await self._changed(
            "INSERT INTO access_entries VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (platform, kind.value, entry_id, at),
        )

    async def remove_access_entry(self, platform: str, kind: AccessKind, entry_id: str) -> bool:
        return await self._changed(
            "DELETE FROM access_entries WHERE platform = ? AND kind = ? AND entry_id = ?",
            (platform, kind.value, entry_id),
        )

    # ── the console's sessions and wrong passwords ────────────────────────────────────────

    async def start_session(self, token_hash: str, session: ConsoleSession, *, now: float) -> None:
        async with self._transaction() as c:
            await c.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (now,))
            await c.execute(
                "INSERT INTO console_sessions VALUES (?, ?, ?)",
                (token_hash, session.csrf, session.expires_at),
            )

    async def session(self, token_hash: str, *, now: float) -> ConsoleSession | None:
        row = await self._fetchone(
            "SELECT csrf, expires_at FROM console_sessions WHERE token_hash = ? AND expires_at > ?",
            (token_hash, now),
        )
        return ConsoleSession(row[0], float(row[1])) if row else None

    async def end_session(self, token_hash: str) -> None:
        await self._changed("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))

    async def login_failed(self, address: str, *, now: float, window: float) -> None:
        async with self._transaction() as c:
            await c.execute("DELETE FROM console_login_failures WHERE at < ?", (now - window,))
            await c.execute("INSERT INTO console_login_failures VALUES (?, ?)", (address, now))

    async def login_failures(self, address: str, *, since: float) -> int:
        return _int(
            await self._fetchone(
                "SELECT COUNT(*) FROM console_login_failures WHERE address = ? AND at >= ?",
                (address, since),
            )
        )

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
        return [
            UsageRow(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]))
            for r in await self._fetchall(query, args)
        ]

    async def spent(
        self, since: float, platform: str, *, user_id: str | None = None, chat_id: str | None = None
    ) -> int:
        query = "SELECT COALESCE(SUM(credits), 0) FROM usage WHERE at >= ? AND platform = ?"
        args: list[Any] = [since, platform]
        if user_id is not None:
            query += " AND user_id = ?"
            args.append(user_id)
        if chat_id is not None:
            query += " AND chat_id = ?"
            args.append(chat_id)
        return _int(await self._fetchone(query, args))

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
        failures = []
        for job_id, at, platform, user_id, chat_id, model, kind, logged in await self._fetchall(
            query, args
        ):
            told = json.loads(logged) if logged else {}
            failures.append(
                FailureRow(job_id, float(at), platform, user_id, chat_id, model, kind or "unknown",
                           told.get("reason"), told.get("detail"))
            )  # fmt: skip
        return failures

    # ── log and housekeeping ──────────────────────────────────────────────────────────────

    async def log(self, job_id: str, step: str, detail: Mapping[str, Any] | None = None) -> None:
        async with self._transaction() as c:
            await c.execute(
                "INSERT INTO generation_log (at, job_id, step, detail) VALUES (?, ?, ?, ?)",
                (time.time(), job_id, step, json.dumps(dict(detail or {}), ensure_ascii=False)),
            )

    async def prune(self, now: float) -> None:
        cutoff = now - KEEP_SECONDS
        async with self._transaction() as c:
            await c.execute("DELETE FROM generation_log WHERE at < ?", (cutoff,))
            await c.execute("DELETE FROM processed_events WHERE seen_at < ?", (cutoff,))
            await c.execute("DELETE FROM requests WHERE received_at < ?", (cutoff,))
            await c.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (now,))

    async def scrub(self, now: float) -> int:
        changed = 0
        async with self._transaction() as c:
            jobs = await c.fetchall(
                "SELECT id, reply_target, handle FROM jobs WHERE expires_at <= ?", (now,)
            )
            for job_id, target_text, handle_text in jobs:
                target = scrub(json.loads(target_text), now)
                handle = scrub_handle(Handle.loads(handle_text), now) if handle_text else None
                times = [t for t in (expiry(target), handle and expiry(handle)) if t]
                await c.execute(
                    "UPDATE jobs SET reply_target = ?, handle = ?, expires_at = ? WHERE id = ?",
                    (json.dumps(target, ensure_ascii=False), handle.dumps() if handle else None,
                     min(times) if times else None, job_id),
                )  # fmt: skip
                changed += 1
            requests = await c.fetchall(
                "SELECT key, body FROM requests WHERE expires_at <= ?", (now,)
            )
            for key, body in requests:
                request = json.loads(body)
                request["reply_target"] = scrub(request.get("reply_target") or {}, now)
                await c.execute(
                    "UPDATE requests SET body = ?, expires_at = ? WHERE key = ?",
                    (json.dumps(request, ensure_ascii=False), expiry(request["reply_target"]),
                     key),
                )  # fmt: skip
                changed += 1
        return changed
