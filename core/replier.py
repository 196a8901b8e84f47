"""The port through which the engine talks back: adapters implement :class:`Replier`.

The engine decides what to say and when; an adapter decides how it looks (an embed, a card, a
console line). All four steps of a generation go to ONE message: ``send`` it once, then ``edit``
it in place. Both return a :class:`Handle` saying where the message is *now*: a platform may
refuse an edit (a Discord interaction token past its 15 minutes, a deleted Feishu card), and the
adapter then posts anew and returns the new message's handle, which the engine stores with the
job so every later edit, reply and restart uses it.

``Reply.key`` is stable per job and step, so an adapter whose platform supports idempotent sends
(Feishu's ``uuid``) can make a repeated delivery a no-op.

Short-lived credentials in a handle or a reply target (an interaction token) are listed in
their ``"expires"`` member, ``{"field": unix time}``: the store drops those fields once that
time has passed (:func:`scrub`), so no token outlives its use in the database.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from core.ima.tasks import MediaKind

#: The member of a handle's data or a reply target that names its short-lived fields.
EXPIRES = "expires"


class Stage(StrEnum):
    INFO = "info"
    QUESTION = "question"
    BEFORE = "before"
    PROGRESS = "progress"
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class Button:
    """A choice: ``action`` is :func:`core.actions.encode` of what pressing it does."""

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
    #: Only the person who asked should see it (Discord: ephemeral; elsewhere as usual).
    private: bool = False
    #: Never notify anyone (no mention, no ping): shown again after a restart, say.
    quiet: bool = False


@dataclass(frozen=True)
class Handle:
    """Where a message the bot sent is."""

    #: The platform's id of the message: what a person's reply quotes.
    message_id: str
    #: The adapter's own data to edit it (JSON text), opaque to the engine.
    data: str = ""
    #: Other messages that belong to it (a Feishu video sent as its own message).
    also: tuple[str, ...] = ()

    @property
    def message_ids(self) -> tuple[str, ...]:
        return (self.message_id, *self.also) if self.message_id else self.also

    def dumps(self) -> str:
        return json.dumps(
            {"id": self.message_id, "data": self.data, "also": list(self.also)},
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, text: str) -> Handle:
        raw = json.loads(text)
        return cls(str(raw["id"]), str(raw.get("data", "")), tuple(raw.get("also", ())))


@dataclass(frozen=True)
class ReplierLimits:
    """What a platform's messages can hold; the engine keeps within it."""

    #: Buttons on one message.
    buttons: int = 25
    #: Bytes of one button's action (after the adapter's own prefix).
    action_bytes: int = 64
    #: The largest file it attaches; larger results are linked.
    file_bytes: int = 25 * 1024 * 1024


class Replier(Protocol):
    limits: ReplierLimits

    async def send(self, reply: Reply) -> Handle:
        """Send a new message; return where it is (stored with the job: it survives restarts)."""
        ...

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        """Replace the message behind ``handle``; return where the reply is now (a new message
        when the platform no longer allows editing that one). Raises when it could not be shown
        at all."""
        ...


def fit(reply: Reply, limits: ReplierLimits) -> Reply:
    """``reply`` with only the buttons the platform can carry (the first ones: the most
    important come first)."""
    buttons = tuple(b for b in reply.buttons if len(b.action.encode()) <= limits.action_bytes)
    buttons = buttons[: limits.buttons]
    if buttons == reply.buttons:
        return reply
    return dataclasses.replace(reply, buttons=buttons)


def expiry(data: Mapping[str, Any] | Handle) -> float | None:
    """When the first short-lived field of ``data`` expires (None: it has none)."""
    if isinstance(data, Handle):
        data = _handle_data(data)
    expires = data.get(EXPIRES)
    if not isinstance(expires, Mapping) or not expires:
        return None
    return min(float(t) for t in expires.values())


def scrub(data: Mapping[str, Any], now: float | None = None) -> dict[str, Any]:
    """``data`` without its short-lived fields that have expired by ``now``."""
    now = time.time() if now is None else now
    expires = data.get(EXPIRES)
    if not isinstance(expires, Mapping):
        return dict(data)
    gone = {name for name, at in expires.items() if float(at) <= now}
    kept = {k: v for k, v in data.items() if k not in gone and k != EXPIRES}
    left = {name: at for name, at in expires.items() if name not in gone}
    if left:
        kept[EXPIRES] = left
    return kept


def scrub_handle(handle: Handle, now: float | None = None) -> Handle:
    """``handle`` with the expired short-lived fields of its data dropped."""
    data = _handle_data(handle)
    if EXPIRES not in data:
        return handle
    return Handle(
        handle.message_id, json.dumps(scrub(data, now), separators=(",", ":")), handle.also
    )


def _handle_data(handle: Handle) -> dict[str, Any]:
    try:
        data = json.loads(handle.data) if handle.data else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
