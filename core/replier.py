"""The port through which the engine talks back: adapters implement :class:`Replier`.

The engine decides what to say and when; an adapter decides how it looks (an embed, a card, a
console line). All four steps of a generation go to ONE message: ``send`` it once, then ``edit``
it in place. ``Reply.key`` is stable per job and step, so an adapter whose platform supports
idempotent sends (Feishu's ``uuid``) can make a repeated delivery a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from core.ima.tasks import MediaKind


class Stage(StrEnum):
    INFO = "info"
    QUESTION = "question"
    BEFORE = "before"
    PROGRESS = "progress"
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class Button:
    """A choice. ``action`` is opaque to adapters: they hand it back to ``Engine.handle_action``."""

    label: str
    action: str


@dataclass(frozen=True)
class ResultMedia:
    url: str
    kind: MediaKind
    cover_url: str | None = None
    filename: str = "result"


@dataclass(frozen=True)
class Reply:
    stage: Stage
    text: str
    buttons: tuple[Button, ...] = ()
    media: tuple[ResultMedia, ...] = ()
    #: Stable per job and step (``<job id>:<stage>``) for idempotent sends; None for chatter.
    key: str | None = None
    #: The person the reply is for (adapters mention them when they can't reply in place).
    user_id: str | None = None
    #: The language of ``text`` ("zh" or "en"), for the adapter's own words around it.
    locale: str | None = None


class Replier(Protocol):
    async def send(self, reply: Reply) -> str:
        """Send a new message; return a handle that ``edit`` understands (and that survives a
        restart: it is stored with the job)."""
        ...

    async def edit(self, handle: str, reply: Reply) -> None:
        """Replace the message behind ``handle``; adapters fall back to sending anew when the
        platform no longer allows editing it."""
        ...


class ReplierFactory(Protocol):
    def __call__(self, target: Mapping[str, Any]) -> Replier:
        """Rebuild a replier from the reply target stored with a job (after a restart)."""
        ...
