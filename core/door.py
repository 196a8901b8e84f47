"""The narrow door into the engine: everything an adapter may ask of it, and nothing else.

Adapters depend on :class:`Door` (implemented by :class:`core.engine.Engine`), never on the
engine's store, client or configuration. What an adapter offers the engine in return is one
:class:`Platform` record: how to rebuild a replier from a stored target, how to fetch an attached
picture from a stored reference, and who its settings let use the bot where.

When the database can't be used, :meth:`Door.deliver` and :meth:`Door.press` raise
:class:`StoreError` (the store has logged its cause once); the adapter then answers with its
last resort.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from core.access import Access as Access
from core.ima.tasks import TaskType
from core.replier import Replier
from core.request import ChatRequest
from core.store.base import StoreError as StoreError

#: Tells the platform the request was received (Discord's deferral, Feishu's HTTP 200). The
#: engine calls it once, right after the request is stored (or found to be a redelivery).
Ack = Callable[[], Awaitable[None]]


class ActionResult(StrEnum):
    DONE = "done"
    NOT_YOURS = "not_yours"
    #: Not a button of a job the engine knows (stale, crafted or malformed).
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Platform:
    """What the engine needs from one adapter."""

    name: str
    #: Rebuild a replier from the reply target stored with a job or a request.
    replier: Callable[[Mapping[str, Any]], Replier]
    #: The bytes of an attachment, from its ``ref``, at most ``max_bytes``.
    fetch: Callable[[Mapping[str, Any], int], Awaitable[bytes]]
    #: What the platform's settings allow (operators' additions are the engine's business,
    #: :mod:`core.access`).
    access: Access = field(default_factory=Access)


@dataclass(frozen=True)
class Press:
    """Someone pressed one of the bot's buttons."""

    platform: str
    user_id: str
    chat_id: str
    #: What the button carried (:func:`core.actions.encode`).
    action: str
    #: The language of the message the button was on, or the platform's for the user.
    locale: str | None = None
    #: Where answers to the press go (a job it starts is stored with it).
    reply_target: Mapping[str, Any] = field(default_factory=dict)
    #: The platform's id of the press, when it may deliver it more than once (Feishu).
    event_id: str | None = None


@dataclass(frozen=True)
class Choice:
    """One autocomplete suggestion: what is shown and what is sent back."""

    label: str
    value: str


class Door(Protocol):
    default_locale: str

    def register(self, platform: Platform) -> None:
        """Called by an adapter as it starts, before any request or resume."""
        ...

    def text(self, locale: str, key: str, /, **values: Any) -> str:
        """A sentence from the locale catalogs, for the adapter's own words."""
        ...

    def locale_for(self, hint: str | None, text: str = "") -> str:
        """ "zh" or "en": the platform's locale for the person, else the language of ``text``."""
        ...

    async def deliver(self, request: ChatRequest, replier: Replier, ack: Ack) -> None:
        """Store, acknowledge (``ack``) and answer one message, in the order the person sent
        them. Returns once it is answered or its job admitted; the job itself runs on."""
        ...

    async def press(self, press: Press, replier: Replier) -> ActionResult:
        """A button press; returns once it is answered or its job admitted."""
        ...

    async def model_choices(
        self, task_types: Sequence[TaskType], typed: str, locale: str
    ) -> list[Choice]:
        """Models of the live catalog whose name contains ``typed``, with their credits."""
        ...

    async def history_choices(self, platform: str, user_id: str, typed: str) -> list[Choice]:
        """The person's results whose description contains ``typed`` (for ``/history``)."""
        ...
