"""Durable state: preferences, jobs, processed events, usage and the generation log."""

from core.store.base import (
    NO_LIMITS,
    Admission,
    FailureRow,
    Limits,
    Preference,
    Store,
    StoreError,
    UsageRow,
)
from core.store.sqlite import SQLiteStore, open_store

__all__ = [
    "NO_LIMITS",
    "Admission",
    "FailureRow",
    "Limits",
    "Preference",
    "SQLiteStore",
    "Store",
    "StoreError",
    "UsageRow",
    "open_store",
]
