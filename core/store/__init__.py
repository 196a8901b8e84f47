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
from core.store.database import open_store
from core.store.sql import SQLStore

__all__ = [
    "NO_LIMITS",
    "Admission",
    "FailureRow",
    "Limits",
    "Preference",
    "SQLStore",
    "Store",
    "StoreError",
    "UsageRow",
    "open_store",
]
