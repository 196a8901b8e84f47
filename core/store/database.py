"""Which backend a ``DATABASE_URL`` names, opened and migrated."""

from __future__ import annotations

from core.store.sql import SQLStore
from core.store.sqlite import open_sqlite


async def open_store(url: str) -> SQLStore:
    """The store at ``url`` (a SQLite path or ``sqlite:///…`` URL), or :class:`StoreError`
    saying why it can't be used."""
    return await open_sqlite(url)
