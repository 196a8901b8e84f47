"""Durable state: preferences, jobs, processed events, usage and the generation log."""

from core.store.base import Preference, Store
from core.store.sqlite import SQLiteStore, open_store

__all__ = ["Preference", "SQLiteStore", "Store", "open_store"]
