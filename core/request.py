"""What an adapter hands the engine: one chat message, platform-neutral and plain data.

A request is JSON all the way down (:meth:`ChatRequest.to_json`), so the engine can store it
the moment it arrives, before the platform is told it was received, and answer it after a
restart. Attached pictures travel as references the adapter can resolve later
(:meth:`core.door.PlatformHooks.fetch`), never as open connections.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.ima.tasks import MediaKind


@dataclass(frozen=True)
class Attachment:
    """A picture the person attached, not downloaded yet."""

    name: str
    #: The adapter's JSON to fetch it (a CDN URL, a message resource, a local path).
    ref: Mapping[str, Any]
    content_type: str | None = None
    size: int | None = None


class Explicit(StrEnum):
    """What a slash command asks for in so many words: no text to understand."""

    HISTORY = "history"
    #: One result again (``Options.item`` is its job).
    SHOW = "show"
    PREFERENCES = "preferences"
    #: ``Options.model`` as the default for ``Options.media`` (or every kind it can make).
    SET_DEFAULT = "set_default"
    #: Forget the defaults of ``Options.media`` (or all).
    RESET_DEFAULTS = "reset_defaults"
    USAGE = "usage"


@dataclass(frozen=True)
class Options:
    """Structured choices (slash-command options); they win over what the text says."""

    media: MediaKind | None = None
    model: str | None = None
    size: str | None = None
    count: int | None = None
    duration: int | None = None
    resolution: str | None = None
    aspect_ratio: str | None = None
    audio: bool | None = None
    lyrics: str | None = None
    instrumental: bool | None = None
    vocal_gender: str | None = None
    first_last_frame: bool = False
    explicit: Explicit | None = None
    item: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Only what differs from the defaults: an explicit "no sound" (audio False) is kept.
        return {f.name: v for f in _OPTION_FIELDS if (v := getattr(self, f.name)) != f.default}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Options:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "media" in values:
            values["media"] = MediaKind(values["media"])
        if "explicit" in values:
            values["explicit"] = Explicit(values["explicit"])
        return cls(**values)


@dataclass(frozen=True)
class ChatRequest:
    platform: str
    user_id: str
    #: The conversation (a server, a group chat, one person's DM): allowlists and chat caps.
    chat_id: str
    #: Adapter-specific, JSON-serialisable: enough to rebuild a replier after a restart.
    reply_target: Mapping[str, Any]
    text: str
    #: The platform's id of this message or interaction: it deduplicates redeliveries and keys
    #: the pictures of a message sent on its own.
    message_id: str
    attachments: tuple[Attachment, ...] = ()
    #: The platform's locale for the user (Discord's ``interaction.locale``), if it has one.
    locale: str | None = None
    options: Options = field(default_factory=Options)
    #: Other ids of where the message came from (a Discord channel inside ``chat_id``'s guild),
    #: matched against the operator's allowlist together with ``chat_id``.
    places: tuple[str, ...] = ()
    #: The platform id of the bot's message this one replies to (a result: carry on from it).
    reply_to: str | None = None
    #: Only the person and the bot see this conversation (a DM, or an ephemeral command).
    private: bool = False

    @property
    def key(self) -> str:
        """Unique per platform message: the deduplication key."""
        return f"{self.platform}:{self.message_id}"

    def to_json(self) -> dict[str, Any]:
        # Field by field rather than ``dataclasses.asdict``, whose deep copy of every value was
        # a third of the CPU an acknowledgement cost (the request is stored before it).
        data = {f.name: getattr(self, f.name) for f in _REQUEST_FIELDS}
        data["reply_target"] = dict(self.reply_target)
        data["attachments"] = [
            {"name": a.name, "ref": dict(a.ref), "content_type": a.content_type, "size": a.size}
            for a in self.attachments
        ]
        data["options"] = self.options.to_json()
        data["places"] = list(self.places)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChatRequest:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["attachments"] = tuple(Attachment(**a) for a in data.get("attachments", ()))
        values["options"] = Options.from_json(data.get("options") or {})
        values["places"] = tuple(data.get("places", ()))
        return cls(**values)


_OPTION_FIELDS = dataclasses.fields(Options)
_REQUEST_FIELDS = dataclasses.fields(ChatRequest)
