"""Which backend a ``DATABASE_URL`` names, opened and migrated."""

from __future__ import annotations

from core.leases import Lease
from core.store.postgres import is_postgres, open_postgres
from core.store.sql import SQLStore
from core.store.sqlite import open_sqlite


async def open_store(url: str, lease: Lease | None = None) -> SQLStore:
    """The store at ``url``: ``postgresql://user:password@host:port/db`` is PostgreSQL,
    anything else a SQLite path or ``sqlite:///…`` URL. :class:`StoreError` says why it
    can't be used. ``lease``: this replica's id and lease time (:mod:`core.leases`)."""
    if is_postgres(url):
        return await open_postgres(url, lease)
    return await open_sqlite(url, lease)
