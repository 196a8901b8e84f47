"""What an adapter hands the engine: one chat message, platform-neutral."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.ima.tasks import MediaKind


@dataclass(frozen=True)
class Attachment:
    """An image the user attached. ``fetch(max_bytes)`` returns its bytes (adapters know how:
    a CDN URL, a resource download with the bot's token, a local file)."""

    name: str
    fetch: Callable[[int], Awaitable[bytes]]
    content_type: str | None = None
    size: int | None = None


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


@dataclass(frozen=True)
class ChatRequest:
    platform: str
    user_id: str
    #: Where the request came from (channel, group chat, DM): for allowlists and caps.
    chat_id: str
    #: Adapter-specific, JSON-serialisable: enough to rebuild a replier after a restart.
    reply_target: Mapping[str, Any]
    text: str
    attachments: tuple[Attachment, ...] = ()
    #: The platform's locale for the user (Discord's ``interaction.locale``), if it has one.
    locale: str | None = None
    #: Platform event id, for deduplicating redeliveries.
    event_id: str | None = None
    options: Options = field(default_factory=Options)
    #: Other ids of where the message came from (a Discord channel inside ``chat_id``'s guild),
    #: matched against the operator's allowlist together with ``chat_id``.
    places: tuple[str, ...] = ()
    #: The job whose result this message replies to (the adapter knows which message it was):
    #: the message then carries on from that result.
    follow_up: str | None = None
