"""SQLite through aiosqlite: WAL, versioned migrations, one connection, serialised writes."""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from core.leases import Lease
from core.store.base import StoreError
from core.store.migrations import MIGRATIONS
from core.store.sql import Row, SQLStore


def database_path(url: str) -> str:
    """``sqlite:///data/bot.db`` or a plain path → the file path (``:memory:`` kept)."""
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


def _openable(path: str) -> None:
    """Raise what opening ``path`` for writing raises (see :func:`open_sqlite`): the system's
    own words first ("read-only file system"), which sqlite's don't give."""
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


class _Connection:
    """Each statement is one hand-off to aiosqlite's thread (and one wait for the busy event
    loop to take the answer back). A transaction holds SQLite's one writer for all of its
    hand-offs, and the arriving requests wait for it: a query and its rows are one, not three
    (execute, fetch, close the cursor)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, query: str, args: Sequence[Any] = ()) -> int:
        cursor = await self._db.execute(query, args)
        return cursor.rowcount

    async def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._db.executemany(query, rows)

    async def fetchall(self, query: str, args: Sequence[Any] = ()) -> list[Row]:
        return list(await self._db.execute_fetchall(query, args))

    async def fetchone(self, query: str, args: Sequence[Any] = ()) -> Row | None:
        """The first row; every such query of the store is a lookup by key or an aggregate
        (one row at most), so reading them all costs nothing and saves two hand-offs."""
        rows = await self.fetchall(query, args)
        return rows[0] if rows else None

    async def serialise(self, keys: Sequence[str]) -> None:
        """Nothing to do: there is one writer (BEGIN IMMEDIATE, one connection)."""

    async def notify(self, channel: str, payload: str) -> None:
        """Nothing to do: SQLite has no notifications (the store looks periodically)."""


class _Writers:
    """One writer at a time, in arrival order, except that urgent ones (storing arriving
    requests, so they can be acknowledged) go before every ordinary one still waiting."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        if self._busy:
            given: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._ordinary).append(given)
            try:
                await given
            except BaseException:
                if given.done() and not given.cancelled():
                    self._hand_on()  # given the turn, then cancelled: the next one has it
                raise  # (a cancelled waiter stays queued; _hand_on skips it)
        self._busy = True
        try:
            yield
        finally:
            self._hand_on()

    def _hand_on(self) -> None:
        for waiting in (self._urgent, self._ordinary):
            while waiting:
                given = waiting.popleft()
                if not given.done():
                    given.set_result(None)  # still busy: it is that waiter's turn now
                    return
        self._busy = False


class SQLiteDriver:
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    skip_locked = ""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self._connection = _Connection(db)
        self._writers = _Writers()
        self.name = path

    def cause(self, error: Exception) -> str:
        return _cause(error)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[_Connection]:
        yield self._connection

    def transaction(self) -> AbstractAsyncContextManager[_Connection]:
        return self._transaction(urgent=False)

    @asynccontextmanager
    async def receiving(self) -> AsyncIterator[_Connection]:
        """The writer's turn before every ordinary one waiting, and no BEGIN or COMMIT: the
        arrivals are stored by one statement, a transaction of its own (autocommit), so
        storing them is one hand-off instead of three."""
        async with self._writers.turn(urgent=True):
            yield self._connection

    @asynccontextmanager
    async def _transaction(self, *, urgent: bool) -> AsyncIterator[_Connection]:
        """One writer at a time; BEGIN IMMEDIATE so check-then-insert is atomic."""
        async with self._writers.turn(urgent=urgent):
            if not self._db.in_transaction:
                await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                if self._db.in_transaction:
                    await self._db.rollback()
                raise
            else:
                await self._db.commit()

    def leasing(self) -> AbstractAsyncContextManager[_Connection]:
        return self.transaction()  # one connection, one writer

    async def listen(self, channel: str, heard: Callable[[str], None]) -> None:
        """Nothing to do: SQLite has no notifications (the store looks periodically)."""

    async def migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            # One script, one transaction: a migration is applied whole or not at all.
            await self._db.executescript(
                f"BEGIN IMMEDIATE;{migration.sqlite};PRAGMA user_version = {number};COMMIT;"
            )

    async def close(self) -> None:
        await self._db.close()


async def open_sqlite(url: str, lease: Lease | None = None) -> SQLStore:
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
    driver = SQLiteDriver(db, path)
    store = SQLStore(driver, lease)
    try:
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        await driver.migrate()
        await store._probe()
    except sqlite3.Error as exc:
        await db.close()  # else its thread keeps the process alive
        raise StoreError(f"The database {path} can't be used: {_cause(exc)}.") from None
    return store
