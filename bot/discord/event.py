"""What Discord sends → chat requests for the engine (pure: no discord.py, no network).

The adapter copies the few fields it needs out of discord.py's objects into the plain values
below; everything here can be tested with hand-made values.
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.engine import pick_locale
from core.i18n import normalize_locale
from core.ima.upload import MAX_IMAGE_BYTES
from core.request import Attachment, ChatRequest, Options

PLATFORM = "discord"

#: Discord's interaction tokens work this long after the interaction was created.
TOKEN_LIFETIME = 15 * 60.0
#: Stop using a token this long before it ends: an upload started just before the end fails.
TOKEN_MARGIN = 30.0

#: What IMA reads (and what the engine's "not an image" message lists).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

#: ``(url, max_bytes) → bytes``; the adapter's downloader for Discord's CDN.
Download = Callable[[str, int], Awaitable[bytes]]


class Rejected(Exception):
    """A request refused before anything started; ``key`` and ``values`` say why (a message)."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Target:
    """Where and how to answer, as plain data.

    Stored with a job as its reply target and, with ``message_id`` set, used as the handle of
    every message sent, so that another process can edit that message after a restart. With an
    interaction ``token`` the message is edited through it (no permissions needed, but only for
    15 minutes); without one it is a message the bot posted with its own token.
    """

    user_id: int
    #: "zh" or "en": for the adapter's own words (link buttons), chosen like the engine does.
    locale: str
    #: The largest file Discord accepts here (``interaction.filesize_limit``), in bytes.
    file_limit: int
    channel_id: int | None = None
    application_id: int | None = None
    token: str | None = None
    #: When the interaction was created (Unix seconds); its token expires 15 minutes later.
    created_at: float | None = None
    message_id: int | None = None
    #: The user's message a free-text request came from: answers reply to it.
    reply_to: int | None = None

    def token_usable(self, now: float) -> bool:
        return (
            self.token is not None
            and self.application_id is not None
            and self.created_at is not None
            and now < self.created_at + TOKEN_LIFETIME - TOKEN_MARGIN
        )

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Target:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def loads(cls, handle: str) -> Target:
        return cls.from_json(json.loads(handle))


@dataclass(frozen=True)
class FileInfo:
    """A file a user attached, as Discord describes it (nothing downloaded yet)."""

    filename: str
    url: str
    size: int
    content_type: str | None = None

    @property
    def media_type(self) -> str:
        """The declared type without parameters, else the one its name suggests."""
        declared = (self.content_type or "").split(";")[0].strip().lower()
        return declared or (mimetypes.guess_type(self.filename)[0] or "")


@dataclass(frozen=True)
class Invocation:
    """One use of a slash command or button: who, where, and how to answer."""

    id: int
    user_id: int
    guild_id: int | None
    channel_id: int | None
    #: Discord's locale for the user, e.g. "zh-CN".
    locale: str
    application_id: int
    token: str
    created_at: float
    file_limit: int

    def target(self, default_locale: str) -> Target:
        return Target(
            user_id=self.user_id,
            locale=normalize_locale(self.locale, default_locale),
            file_limit=self.file_limit,
            channel_id=self.channel_id,
            application_id=self.application_id,
            token=self.token,
            created_at=self.created_at,
        )


def chat_id(guild_id: int | None) -> str:
    return str(guild_id) if guild_id is not None else "dm"


def check_images(files: Sequence[FileInfo]) -> list[FileInfo]:
    """``files`` if IMA can read them all, else :class:`Rejected`.

    Only what Discord reports (type and size) is checked, before anything is downloaded; the
    engine checks the bytes again when it uploads them.
    """
    for file in files:
        if file.media_type not in IMAGE_TYPES:
            raise Rejected("error.not_an_image")
        if file.size > MAX_IMAGE_BYTES:
            raise Rejected("error.image_too_large")
    return list(files)


def video_frames(image: FileInfo | None, last_frame: FileInfo | None) -> list[FileInfo]:
    """``/video`` pictures in order (first frame, last frame); a last frame needs a first."""
    if last_frame is not None and image is None:
        raise Rejected("question.images_first_last")
    return check_images([f for f in (image, last_frame) if f is not None])


def _attachment(file: FileInfo, download: Download) -> Attachment:
    async def fetch(max_bytes: int) -> bytes:
        return await download(file.url, max_bytes)

    return Attachment(
        name=file.filename, fetch=fetch, content_type=file.media_type or None, size=file.size
    )


def command_request(
    invocation: Invocation,
    *,
    prompt: str,
    options: Options,
    files: Sequence[FileInfo],
    download: Download,
    default_locale: str,
) -> ChatRequest:
    """A slash command; its options win over what the prompt says."""
    return ChatRequest(
        platform=PLATFORM,
        user_id=str(invocation.user_id),
        chat_id=chat_id(invocation.guild_id),
        reply_target=invocation.target(default_locale).to_json(),
        text=prompt,
        attachments=tuple(_attachment(f, download) for f in files),
        locale=invocation.locale,
        event_id=str(invocation.id),
        options=options,
        places=_places(invocation.channel_id),
    )


def strip_mentions(content: str, bot_id: int) -> str:
    """The text of a message without the mentions of the bot (``<@id>`` or ``<@!id>``); line
    breaks stay (lyrics)."""
    return re.sub(rf"<@!?{bot_id}>", "", content).strip()


def job_in_custom_ids(custom_ids: Iterable[str]) -> str | None:
    """The job behind a message, from its buttons (``ima:<verb>:<job id>:…``), if any."""
    for custom_id in custom_ids:
        parts = custom_id.split(":")
        if len(parts) >= 3 and parts[0] == "ima" and parts[2]:
            return parts[2]
    return None


def message_request(
    *,
    message_id: int,
    user_id: int,
    guild_id: int | None,
    channel_id: int,
    content: str,
    bot_id: int,
    files: Sequence[FileInfo],
    file_limit: int,
    download: Download,
    default_locale: str,
    follow_up: str | None = None,
) -> ChatRequest:
    """A DM or an @mention (free text); the answer replies to the message. ``follow_up``: the
    job of the result the message replies to."""
    request = ChatRequest(
        platform=PLATFORM,
        user_id=str(user_id),
        chat_id=chat_id(guild_id),
        reply_target={},
        text=strip_mentions(content, bot_id),
        attachments=tuple(_attachment(f, download) for f in files),
        event_id=str(message_id),
        places=_places(channel_id),
        follow_up=follow_up,
    )
    target = Target(
        user_id=user_id,
        locale=pick_locale(request, default_locale),
        file_limit=file_limit,
        channel_id=channel_id,
        reply_to=message_id,
    )
    return dataclasses.replace(request, reply_target=target.to_json())


def _places(channel_id: int | None) -> tuple[str, ...]:
    return (str(channel_id),) if channel_id is not None else ()
