"""PostgreSQL through asyncpg: a connection pool, shared by every replica of the bot.

Atomic check-then-write (caps, active limits) takes transaction-scoped advisory locks on the
person and the chat (:meth:`_Connection.serialise`), so admissions on different replicas never
overshoot; everything else is single conditional statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from prometheus_client import Counter

from core.leases import Lease
from core.store.base import StoreError
from core.store.migrations import MIGRATIONS
from core.store.sql import Row, SQLStore

#: Held while migrating, so replicas starting together migrate once.
_MIGRATION_LOCK = 0x1AB07
_CONNECT_TIMEOUT = 10.0
#: Connections for requests and jobs; one more is kept for the leases (:meth:`leasing`), so a
#: renewal never waits behind a burst of admissions for a connection and loses every lease, and
#: one for storing arriving requests (:meth:`receiving`), so an acknowledgement doesn't either.
POOL_SIZE = 10

#: Exchanges with the server: every statement, a transaction's BEGIN and COMMIT, and the reset
#: the pool runs when a connection is given back (``bench/replicas.py`` divides it by jobs).
ROUND_TRIPS = Counter(
    "ima_bot_database_round_trips_total",
    "Round trips to PostgreSQL (statements and their framing).",
)


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def _named(url: str) -> str:
    """``host:port/db``: how messages name the database (never the password)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname or 'localhost'}{port}{parts.path or '/'}"


@lru_cache(maxsize=512)
def _placeholders(query: str) -> str:
    """``?`` → ``$1, $2, …`` (the store's SQL has no ``?`` inside literals)."""
    count = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(count)}", query)


def _changed(status: str) -> int:
    """``UPDATE 3`` / ``INSERT 0 1`` / ``DELETE 0`` → how many rows."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _cause(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return str(error).strip().rstrip(".") or type(error).__name__


class _Connection:
    def __init__(self, conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        self._conn = conn

    async def execute(self, query: str, args: Sequence[Any] = ()) -> int:
        ROUND_TRIPS.inc()
        return _changed(await self._conn.execute(_placeholders(query), *args))

    async def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            ROUND_TRIPS.inc()
            await self._conn.executemany(_placeholders(query), rows)

    async def fetchall(self, query: str, args: Sequence[Any] = ()) -> list[Row]:
        ROUND_TRIPS.inc()
        return list(await self._conn.fetch(_placeholders(query), *args))

    async def fetchone(self, query: str, args: Sequence[Any] = ()) -> Row | None:
        ROUND_TRIPS.inc()
        row: Row | None = await self._conn.fetchrow(_placeholders(query), *args)
        return row

    async def serialise(self, keys: Sequence[str]) -> None:
        # Sorted: two transactions taking overlapping keys never wait on each other in a cycle.
        for key in sorted(set(keys)):
            ROUND_TRIPS.inc()
            await self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)

    async def notify(self, channel: str, payload: str) -> None:
        await self._conn.execute("SELECT pg_notify($1, $2)", channel, payload)


@asynccontextmanager
async def _acquired(pool: asyncpg.Pool[asyncpg.Record]) -> AsyncIterator[_Connection]:
    ROUND_TRIPS.inc()  # the reset on release
    async with pool.acquire() as conn:
        yield _Connection(conn)


@asynccontextmanager
async def _transaction(pool: asyncpg.Pool[asyncpg.Record]) -> AsyncIterator[_Connection]:
    ROUND_TRIPS.inc(3)  # BEGIN, COMMIT (or ROLLBACK) and the reset on release
    async with pool.acquire() as conn, conn.transaction():
        yield _Connection(conn)


_Listener = Callable[[object, int, str, object], None]

_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)


class PostgresDriver:
    errors = _ERRORS
    skip_locked = "FOR UPDATE SKIP LOCKED"

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],
        name: str,
        lease_pool: asyncpg.Pool[asyncpg.Record],
        intake_pool: asyncpg.Pool[asyncpg.Record],
    ) -> None:
        """``lease_pool``, ``intake_pool``: the one connection lease writes use, and the one
        arriving requests are stored through (see :data:`POOL_SIZE`)."""
        self._pool = pool
        self._lease_pool = lease_pool
        self._intake_pool = intake_pool
        self.name = name
        #: The connection held for :meth:`listen` (LISTEN lasts as long as its connection),
        #: and what listens on it.
        self._listening: PoolConnectionProxy[asyncpg.Record] | None = None
        self._listeners: list[tuple[str, _Listener]] = []

    def cause(self, error: Exception) -> str:
        return _cause(error)

    def reading(self) -> AbstractAsyncContextManager[_Connection]:
        return _acquired(self._pool)

    def transaction(self) -> AbstractAsyncContextManager[_Connection]:
        return _transaction(self._pool)

    def leasing(self) -> AbstractAsyncContextManager[_Connection]:
        return _transaction(self._lease_pool)

    def receiving(self) -> AbstractAsyncContextManager[_Connection]:
        return _acquired(self._intake_pool)  # one statement: atomic without BEGIN and COMMIT

    async def migrate(self) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            version = await conn.fetchval("SELECT MAX(version) FROM schema_version") or 0
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                if migration.postgres_script.strip():
                    await conn.execute(migration.postgres_script)
                await conn.execute("INSERT INTO schema_version VALUES ($1)", number)

    async def listen(self, channel: str, heard: Callable[[str], None]) -> None:
        """When this connection is lost, notifications stop; the store's periodic look at
        the jobs cancelled lately carries on."""
        if self._listening is None:
            self._listening = await self._pool.acquire()

        def listener(_conn: object, _pid: int, _channel: str, payload: object) -> None:
            heard(str(payload))

        await self._listening.add_listener(channel, listener)
        self._listeners.append((channel, listener))

    async def close(self) -> None:
        if self._listening is not None:
            with contextlib.suppress(*_ERRORS):  # a lost connection is released all the same
                for channel, listener in self._listeners:
                    await self._listening.remove_listener(channel, listener)
                await self._pool.release(self._listening)
            self._listening, self._listeners = None, []
        await self._pool.close()
        await self._lease_pool.close()
        await self._intake_pool.close()


async def open_postgres(url: str, lease: Lease | None = None) -> SQLStore:
    """Connect, migrate and try a write; :class:`StoreError` naming the cause when the server
    can't be reached or used, with nothing left running."""
    name = _named(url)
    try:
        pool = await asyncio.wait_for(
            asyncpg.create_pool(url, min_size=1, max_size=POOL_SIZE), _CONNECT_TIMEOUT
        )
    except (*_ERRORS, ValueError) as exc:  # type: ignore[misc]  # mypy can't star a tuple
        raise StoreError(f"The database {name} can't be opened: {_cause(exc)}.") from None
    singles: list[asyncpg.Pool[asyncpg.Record]] = []  # the leases', then the intake's
    try:
        for _ in range(2):
            singles.append(
                await asyncio.wait_for(
                    asyncpg.create_pool(url, min_size=1, max_size=1), _CONNECT_TIMEOUT
                )
            )
    except _ERRORS as exc:
        for opened in (pool, *singles):
            await opened.close()
        raise StoreError(f"The database {name} can't be opened: {_cause(exc)}.") from None
    lease_pool, intake_pool = singles
    driver = PostgresDriver(pool, name, lease_pool, intake_pool)
    store = SQLStore(driver, lease)
    try:
        await driver.migrate()
        await store._probe()
    except _ERRORS as exc:
        await driver.close()
        raise StoreError(f"The database {name} can't be used: {_cause(exc)}.") from None
    return store
