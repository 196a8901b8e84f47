"""What Discord sends → chat requests and presses for the engine (pure: no discord.py, no network).

The adapter copies the few fields it needs out of discord.py's objects into the plain values
below; everything here can be tested with hand-made values.
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.door import Press
from core.ima.upload import MAX_IMAGE_BYTES
from core.replier import EXPIRES, Handle
from core.request import Attachment, ChatRequest, Options

PLATFORM = "discord"

#: Discord's interaction tokens work this long after the interaction was created.
TOKEN_LIFETIME = 15 * 60.0
#: Stop using a token this long before it ends: an upload started just before the end fails.
TOKEN_MARGIN = 30.0

#: Snowflakes count milliseconds from 2015-01-01 (Discord's epoch).
DISCORD_EPOCH_MS = 1_420_070_400_000

#: What IMA reads (and what the engine's "not an image" message lists).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


class Rejected(Exception):
    """A request refused before anything started; ``key`` and ``values`` say why (a message)."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Target:
    """Where and how to answer, as plain data.

    Stored with a job as its reply target and, with ``message_id`` set, as the data of the
    handle of every message sent, so that another process can edit that message after a
    restart. With an interaction ``token`` the message is edited through it (no permissions
    needed, but only for 15 minutes: the token is listed in ``expires`` so the store drops it
    then); without one it is a message the bot posted with its own token.
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
    #: Answers are ephemeral (only the user sees them): a private command, or a press on a
    #: private message.
    ephemeral: bool = False

    def token_usable(self, now: float) -> bool:
        return (
            self.token is not None
            and self.application_id is not None
            and self.created_at is not None
            and now < self.created_at + TOKEN_LIFETIME - TOKEN_MARGIN
        )

    def without_token(self) -> Target:
        """The same place, reached with the bot token from now on (``created_at`` stays: it
        says the message answers an interaction)."""
        return dataclasses.replace(self, token=None, application_id=None)

    def window_over(self, now: float) -> bool:
        """The message answers an interaction whose token can't be used any more."""
        return self.created_at is not None and not self.token_usable(now)

    def to_json(self) -> dict[str, Any]:
        # Field by field: ``dataclasses.asdict`` deep-copies, a cost on every acknowledgement.
        data = {
            f.name: v
            for f in _TARGET_FIELDS
            if (v := getattr(self, f.name)) is not None and v is not False
        }
        if self.token is not None and self.created_at is not None:
            ends = self.created_at + TOKEN_LIFETIME
            data[EXPIRES] = {"token": ends, "application_id": ends}
        return data

    def handle(self) -> Handle:
        return Handle(
            str(self.message_id) if self.message_id is not None else "",
            json.dumps(self.to_json(), separators=(",", ":")),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Target:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_handle(cls, handle: Handle) -> Target:
        return cls.from_json(json.loads(handle.data))


_TARGET_FIELDS = dataclasses.fields(Target)


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

    def target(self, locale: str, *, ephemeral: bool = False) -> Target:
        return Target(
            user_id=self.user_id,
            locale=locale,
            file_limit=self.file_limit,
            channel_id=self.channel_id,
            application_id=self.application_id,
            token=self.token,
            created_at=self.created_at,
            ephemeral=ephemeral,
        )


def raw_invocation(data: Mapping[str, Any]) -> Invocation:
    """An interaction as Discord sends it (the ``INTERACTION_CREATE`` payload)."""
    member = data.get("member")
    user = member["user"] if member else data["user"]
    guild_id = data.get("guild_id")
    channel_id = (data.get("channel") or {}).get("id")
    snowflake = int(data["id"])
    return Invocation(
        id=snowflake,
        user_id=int(user["id"]),
        guild_id=int(guild_id) if guild_id is not None else None,
        channel_id=int(channel_id) if channel_id is not None else None,
        locale=str(data.get("locale", "en-US")),
        application_id=int(data["application_id"]),
        token=str(data["token"]),
        created_at=((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000,
        file_limit=int(data["attachment_size_limit"]),
    )


def chat_id(guild_id: int | None, user_id: int) -> str:
    """The conversation: a server, or one person's DM with the bot (each its own budget)."""
    return str(guild_id) if guild_id is not None else f"dm:{user_id}"


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


def attachment(file: FileInfo) -> Attachment:
    return Attachment(
        name=file.filename,
        ref={"url": file.url},
        content_type=file.media_type or None,
        size=file.size,
    )


def command_request(
    invocation: Invocation,
    target: Target,
    *,
    prompt: str,
    options: Options,
    files: Sequence[FileInfo] = (),
) -> ChatRequest:
    """A slash command; its options win over what the prompt says."""
    return ChatRequest(
        platform=PLATFORM,
        user_id=str(invocation.user_id),
        chat_id=chat_id(invocation.guild_id, invocation.user_id),
        reply_target=target.to_json(),
        text=prompt,
        message_id=str(invocation.id),
        attachments=tuple(attachment(f) for f in files),
        locale=invocation.locale,
        options=options,
        places=_places(invocation.channel_id),
        private=target.ephemeral or invocation.guild_id is None,
    )


def press(invocation: Invocation, action: str, target: Target) -> Press:
    return Press(
        platform=PLATFORM,
        user_id=str(invocation.user_id),
        chat_id=chat_id(invocation.guild_id, invocation.user_id),
        action=action,
        locale=invocation.locale,
        reply_target=target.to_json(),
    )


def strip_mentions(content: str, bot_id: int) -> str:
    """The text of a message without the mentions of the bot (``<@id>`` or ``<@!id>``); line
    breaks stay (lyrics)."""
    return re.sub(rf"<@!?{bot_id}>", "", content).strip()


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
    locale: str,
    reply_to: int | None = None,
) -> ChatRequest:
    """A DM or an @mention (free text); the answer replies to the message. ``reply_to``: the
    message it replies to (one of the bot's results, to carry on from it)."""
    target = Target(
        user_id=user_id,
        locale=locale,
        file_limit=file_limit,
        channel_id=channel_id,
        reply_to=message_id,
    )
    return ChatRequest(
        platform=PLATFORM,
        user_id=str(user_id),
        chat_id=chat_id(guild_id, user_id),
        reply_target=target.to_json(),
        text=strip_mentions(content, bot_id),
        message_id=str(message_id),
        attachments=tuple(attachment(f) for f in files),
        places=_places(channel_id),
        reply_to=str(reply_to) if reply_to is not None else None,
        private=guild_id is None,
    )


def _places(channel_id: int | None) -> tuple[str, ...]:
    return (str(channel_id),) if channel_id is not None else ()
