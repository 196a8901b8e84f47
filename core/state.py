"""Small per-person conversation state, typed: what the bot waits for from someone.

Each kind of state is a dataclass and a :class:`Key` naming where it is stored; nothing else
reads or writes the store's user-state rows, so a key and its shape are decided here once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from core.store import Store

T = TypeVar("T")


@dataclass(frozen=True)
class PendingSave:
    """ "Make it your default?" was asked after ``job_id`` used a model the person named that
    was not their saved one."""

    job_id: str
    task_type: str
    version_id: str
    model_id: str
    model_name: str
    #: The model's lowest price, kept with a saved preference like the spec's script does.
    credit: int
    locale: str


@dataclass(frozen=True)
class FirstFrame:
    """A picture result picked as the first frame of a video, waiting for the last."""

    job_id: str
    url: str
    prompt: str


@dataclass(frozen=True)
class Pictures:
    """Pictures sent on their own in one chat, waiting for the words that say what to do.

    Keyed by the platform's message id, so a redelivered message adds nothing twice."""

    at: float
    by_message: Mapping[str, list[Mapping[str, Any]]] = field(default_factory=dict)

    def attachments(self) -> list[Mapping[str, Any]]:
        return [a for items in self.by_message.values() for a in items]


@dataclass(frozen=True)
class Key(Generic[T]):
    name: str
    shape: type[T]

    def of(self, scope: str) -> Key[T]:
        """The same kind of state, one per ``scope`` (a chat)."""
        return Key(f"{self.name}:{scope}", self.shape)


PENDING_SAVE = Key("pending_save", PendingSave)
FIRST_FRAME = Key("first_frame", FirstFrame)
PICTURES = Key("pictures", Pictures)


class UserState:
    """Typed access to one store's per-person state rows."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, platform: str, user_id: str, key: Key[T]) -> T | None:
        raw = await self._store.get_user_state(platform, user_id, key.name)
        if not isinstance(raw, dict):
            return None
        try:
            return key.shape(**raw)
        except TypeError:  # written by an older version in another shape: forget it
            return None

    async def set(self, platform: str, user_id: str, key: Key[T], value: T | None) -> None:
        data = dataclasses.asdict(value) if value is not None else None  # type: ignore[call-overload]
        await self._store.set_user_state(platform, user_id, key.name, data)
