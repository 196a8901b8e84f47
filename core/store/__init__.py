"""Durable state: preferences, jobs, processed events, usage and the generation log."""

from core.store.base import (
    Admission,
    ConsoleSession,
    FailureRow,
    Preference,
    Store,
    StoreError,
    UsageRow,
)
from core.store.database import open_store
from core.store.sql import SQLStore

__all__ = [
    "Admission",
    "ConsoleSession",
    "FailureRow",
    "Preference",
    "SQLStore",
    "Store",
    "StoreError",
    "UsageRow",
    "open_store",
]
