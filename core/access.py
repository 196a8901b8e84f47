"""Where the bot answers and who no limit applies to: each platform's settings plus what
operators added since (the console, ``ima-bot admin allow`` / ``admins``), kept in the store.

:class:`Allowlists` decides it, once for everyone who asks: the engine per request and press,
the console and ``ima-bot admin`` to show and edit it. The entries are read from the store at
most every :data:`REFRESH_SECONDS`, so every replica follows an edit made on any of them within
that, and the one that made it at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from core.request import ChatRequest

if TYPE_CHECKING:
    from core.store import Store

#: How stale the entries a replica answers by may be (an edit elsewhere shows within this).
REFRESH_SECONDS = 5.0


class AccessKind(StrEnum):
    #: A guild, channel or chat the bot answers in.
    PLACE = "place"
    #: A person no limit applies to.
    ADMIN = "admin"


@dataclass(frozen=True)
class Access:
    """Where a platform's bot answers and who no limit applies to."""

    #: Guild, channel or chat ids the bot answers in (empty: everywhere).
    allowed_places: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()

    def allows(self, request: ChatRequest) -> bool:
        if not self.allowed_places or request.user_id in self.admins:
            return True
        return any(place in self.allowed_places for place in (request.chat_id, *request.places))

    def ids(self, kind: AccessKind) -> frozenset[str]:
        return self.allowed_places if kind is AccessKind.PLACE else self.admins

    def joined(self, other: Access) -> Access:
        return Access(self.allowed_places | other.allowed_places, self.admins | other.admins)


@dataclass(frozen=True)
class AccessEntry:
    """One id an operator added (a row of the store's ``access_entries``)."""

    platform: str
    kind: AccessKind
    entry_id: str
    added_at: float


@dataclass(frozen=True)
class Listed:
    """One id of an allowlist as operators see it."""

    entry_id: str
    #: From the settings: removed only by changing them (and restarting).
    from_settings: bool


def _added(entries: Iterable[AccessEntry]) -> dict[str, Access]:
    places: dict[str, set[str]] = {}
    admins: dict[str, set[str]] = {}
    for entry in entries:
        into = places if entry.kind is AccessKind.PLACE else admins
        into.setdefault(entry.platform, set()).add(entry.entry_id)
    return {
        platform: Access(frozenset(places.get(platform, ())), frozenset(admins.get(platform, ())))
        for platform in places.keys() | admins.keys()
    }


class Allowlists:
    """The allowlists in effect: the settings' (:meth:`configure`) ∪ the store's entries."""

    def __init__(
        self,
        store: Store,
        settings: Mapping[str, Access] | None = None,
        *,
        refresh: float | None = None,  # None: REFRESH_SECONDS
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._settings: dict[str, Access] = dict(settings or {})
        self._refresh = refresh
        self._clock = clock
        self._added: dict[str, Access] = {}
        self._read_at: float | None = None
        self._reading = asyncio.Lock()

    def configure(self, platform: str, settings: Access) -> None:
        """What ``platform``'s settings allow (its adapter registers it as it starts)."""
        self._settings[platform] = settings

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted(self._settings))

    def settings(self, platform: str) -> Access:
        return self._settings.get(platform, Access())

    async def _entries(self) -> dict[str, Access]:
        async with self._reading:  # concurrent requests share one read
            now = self._clock()
            refresh = REFRESH_SECONDS if self._refresh is None else self._refresh
            if self._read_at is None or now - self._read_at >= refresh:
                self._added = _added(await self._store.access_entries())
                self._read_at = now
            return self._added

    async def access(self, platform: str) -> Access:
        """What applies on ``platform`` now (at most :data:`REFRESH_SECONDS` old)."""
        added = (await self._entries()).get(platform, Access())
        return self.settings(platform).joined(added)

    async def listing(self, platform: str, kind: AccessKind) -> list[Listed]:
        """Every id of one allowlist, the settings' first, each part sorted."""
        added = (await self._entries()).get(platform, Access()).ids(kind)
        configured = self.settings(platform).ids(kind)
        return [Listed(i, True) for i in sorted(configured)] + [
            Listed(i, False) for i in sorted(added - configured)
        ]

    async def add(self, platform: str, kind: AccessKind, entry_id: str) -> bool:
        """Allow one more id; False when it was allowed already (by the settings or before)."""
        if entry_id in self.settings(platform).ids(kind):
            return False
        async with self._reading:  # no read begun before the write keeps the cache
            self._read_at = None
            return await self._store.add_access_entry(platform, kind, entry_id, time.time())

    async def remove(self, platform: str, kind: AccessKind, entry_id: str) -> bool:
        """Take back an id operators added; False when there was no such entry (the settings'
        own can't be removed here)."""
        async with self._reading:
            self._read_at = None
            return await self._store.remove_access_entry(platform, kind, entry_id)
